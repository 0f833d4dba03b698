// The load generator: N simulated devices push and pull concurrently against
// real tributary-server processes on loopback, bounded in time and count, and
// print events/s accepted, push latency (p50/p99) and pull lag (the time from a
// push's acknowledgement to another device pulling it, p50/p99).
//
//   node scripts/load.mjs [--devices 8] [--seconds 10] [--max-events 200000] [--batch 50] [--postgres URL]
//
// Targets: SQLite, and with --postgres (or TRIBUTARY_TEST_POSTGRES) PostgreSQL
// behind one and behind two server processes (devices spread over them).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values: options } = parseArgs({
  options: {
    devices: { type: "string", default: "8" },
    seconds: { type: "string", default: "10" },
    "max-events": { type: "string", default: "200000" },
    batch: { type: "string", default: "50" },
    postgres: { type: "string", default: process.env.TRIBUTARY_TEST_POSTGRES ?? "" },
    pull: { type: "string", default: "yes" },
    targets: { type: "string", default: "sqlite,pg1,pg2" },
  },
});
const DEVICES = Number(options.devices);
const SECONDS = Number(options.seconds);
const MAX_EVENTS = Number(options["max-events"]);
const BATCH = Number(options.batch);
const PULL = options.pull !== "no";
const TARGETS = new Set(options.targets.split(","));
const TOKEN = "load-test-token";
const SERVER = fileURLToPath(new URL("../target/release/tributary-server", import.meta.url));

/** Every server process started, so that a failing run stops them too. */
const children = [];

/** Starts a server process; resolves to its base URL and a stop function. */
async function startServer(args) {
  const child = spawn(SERVER, ["--listen", "127.0.0.1:0", "--tenant", `load=${TOKEN}`, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  children.push(child);
  const line = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`tributary-server exited with ${code}`)));
    createInterface({ input: child.stdout }).once("line", resolve);
  });
  const base = line.trim().split(" ").at(-1);
  return { base, stop: () => new Promise((done) => { if (child.exitCode !== null) return done(); child.once("exit", done); child.kill("SIGTERM"); }) };
}

/** A small event state as the Python library's transcoder writes it. */
function state(i) {
  const text = `{"timestamp":{"_type_":"datetime_iso","_data_":"${new Date().toISOString().replace("Z", "000+00:00")}"},"trick":"trick ${i}"}`;
  return Buffer.from(text).toString("base64");
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/** Runs the devices against the servers' URLs (device i uses urls[i % urls.length]). */
async function run(label, urls) {
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const acked = new Map(); // notification id -> time its push was acknowledged
  let newest = 0; // the highest notification id acknowledged
  const latencies = [];
  const lags = [];
  let accepted = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const more = () => performance.now() < deadline && accepted < MAX_EVENTS;

  const pusher = async (device) => {
    const url = urls[device % urls.length];
    const client = randomUUID();
    const aggregate = randomUUID().replaceAll("-", "");
    let position = 0;
    while (more()) {
      const events = Array.from({ length: BATCH }, () => {
        position += 1;
        return { position, originator_id: aggregate, originator_version: position, topic: "Dog.TrickAdded", state: state(position) };
      });
      const sent = performance.now();
      const response = await fetch(`${url}/push`, { method: "POST", headers, body: JSON.stringify({ client_id: client, events }) });
      if (!response.ok) throw new Error(`push: ${response.status} ${await response.text()}`);
      const reply = await response.json();
      const now = performance.now();
      latencies.push(now - sent);
      for (const id of reply.notification_ids) {
        acked.set(id, now);
        newest = Math.max(newest, id);
      }
      accepted += events.length;
    }
  };

  const puller = async (device) => {
    const url = urls[(device + 1) % urls.length]; // another process than its pusher's, when there are two
    let position = 0;
    for (;;) {
      const page = await (await fetch(`${url}/notifications?start=${position + 1}&limit=1000`, { headers })).json();
      const now = performance.now();
      for (const item of page) {
        const at = acked.get(item.id);
        if (at !== undefined) lags.push(now - at);
        position = item.id;
      }
      if (page.length === 1000) continue;
      if (!more() && position >= newest) return;
      await fetch(`${url}/wait?after=${position}&timeout_ms=1000`, { headers });
    }
  };

  const devices = Array.from({ length: DEVICES }, (_, i) => i);
  await Promise.all([...devices.map(pusher), ...(PULL ? devices.map(puller) : [])]);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(28)} ${String(accepted).padStart(8)} events  ${(accepted / seconds).toFixed(0).padStart(7)} ev/s  ` +
    `push p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms  ` +
    `pull lag p50 ${percentile(lags, 50).toFixed(1)} ms p99 ${percentile(lags, 99).toFixed(1)} ms`,
  );
  return { accepted, seconds };
}

if (!existsSync(SERVER)) throw new Error(`no ${SERVER}: run scripts/build.sh first`);
console.log(`${DEVICES} devices, batches of ${BATCH}, at most ${SECONDS} s or ${MAX_EVENTS} events per target, loopback`);

const data = mkdtempSync(join(tmpdir(), "tributary-load-"));
try {
  if (TARGETS.has("sqlite")) {
    const sqlite = await startServer(["--data", data]);
    await run("SQLite, 1 process", [`${sqlite.base}/load/dogschool`]);
    await sqlite.stop();
  }
  if (options.postgres) {
    const one = await startServer(["--database", options.postgres]);
    if (TARGETS.has("pg1")) await run("PostgreSQL, 1 process", [`${one.base}/load/pg1`]);
    const two = await startServer(["--database", options.postgres]);
    if (TARGETS.has("pg2")) await run("PostgreSQL, 2 processes", [`${one.base}/load/pg2`, `${two.base}/load/pg2`]);
    await Promise.all([one.stop(), two.stop()]);
  } else {
    console.log("PostgreSQL: skipped (no --postgres URL; scripts/load.sh starts a throwaway cluster)");
  }
} finally {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(data, { recursive: true, force: true });
}
