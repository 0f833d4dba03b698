// Where the Python peers are: the virtual environment scripts/setup.sh makes,
// and the scripts in tests/peers/.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const PYTHON = fileURLToPath(new URL("../../.venv-peers/bin/python", import.meta.url));
export const PEERS = fileURLToPath(new URL("../../tests/peers/", import.meta.url));

/** Starts BIOMERO's tracker with `workflows` sample workflows; resolves once it serves. */
export async function startBiomero({ workflows, key }) {
  const folder = mkdtempSync(join(tmpdir(), "biomero-"));
  const args = [join(PEERS, "biomero_server.py"), "--db", join(folder, "biomero.sqlite"), "--port", "0", "--workflows", String(workflows), "--seed", "7", "--compress", "--cipher-key", key];
  const child = spawn(PYTHON, args, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the BIOMERO server exited with ${code}`)));
    createInterface({ input: child.stdout }).on("line", (line) => line.startsWith("ready ") && resolve(line));
  });
  const url = line.slice("ready ".length).trim();
  const json = async (path, init) => (await fetch(url + path, init)).json();
  return {
    url,
    views: () => json("/views"),
    max: async () => (await json("/max")).max_notification_id,
    drive: (n) => json(`/drive?workflows=${n}`, { method: "POST" }),
    stop: async () => {
      if (child.exitCode === null) await new Promise((done) => { child.once("exit", done); child.kill("SIGTERM"); });
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

