// Convergence under faults: three devices (browser contexts) record about a
// thousand events each over random dogs, some shared, and sync, while the
// harness kills the server with SIGKILL and restarts it, drops replies after
// the server committed, duplicates requests, and closes pages in the middle of
// a sync. At the end, after resolving the conflicts: the server holds every
// acknowledged event once, every device the same events as the server, every
// event ever recorded is on the server or in a discarded conflict, and every
// view equals its rebuild. It prints its figures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";
import { startProxy } from "./proxy.mjs";

const DEVICES = 3;
const EVENTS = Number(process.env.CONVERGE_EVENTS ?? 1000);
const SHARED = 8;

/** A seeded generator, so a failure can be run again (the seed is printed). */
function random(seed) {
  let state = seed >>> 0 || 1;
  return () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function openDevice(page, url) {
  await page.evaluate(async ([url, token]) => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    globalThis.counts = defineTrickCounts(app);
    globalThis.sync = app.sync({ url, token, batch: 97 });
  }, [url, TOKEN]);
}

test("three devices converge under kills, dropped replies, duplicated requests and closed pages", { timeout: 900_000 }, async () => {
  const started = performance.now();
  const seed = Number(process.env.CONVERGE_SEED ?? Date.now() % 100000);
  const rand = random(seed);
  let server = await startServer();
  const proxy = await startProxy(server.base);
  const url = `${proxy.base}/acme/dogschool`;
  const faults = { kills: 0, closedPages: 0, failedRounds: 0 };
  const devices = [];
  for (let d = 0; d < DEVICES; d++) {
    const context = await tabs();
    devices.push({ ...context, page: context.pages[0], recorded: [], dogs: [] });
    await openDevice(devices[d].page, url);
  }
  // shared dogs, made by the first device and synced to all
  const shared = await devices[0].page.evaluate(async (count) => {
    const ids = [];
    for (let i = 0; i < count; i++) ids.push((await app.create("Dog", "Registered", { name: `shared ${i}` })).id);
    await sync.now();
    return ids;
  }, SHARED);
  for (const device of devices.slice(1)) await device.page.evaluate(() => sync.now());
  proxy.faults(() => {
    const r = rand();
    return r < 0.12 ? "drop" : r < 0.2 ? "duplicate" : "pass";
  });

  const round = async (device) => {
    try {
      await device.page.evaluate(() => sync.now());
    } catch {
      faults.failedRounds++;
    }
  };
  for (let step = 0; step < EVENTS / 50; step++) {
    for (const [d, device] of devices.entries()) {
      // a burst of records: on the device's own dogs, or on shared ones (conflicts)
      const burst = await device.page.evaluate(async ([d, step, shared, seed]) => {
        let s = seed;
        const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
        const recorded = [];
        globalThis.own ??= [];
        for (let i = 0; i < 50; i++) {
          const trick = `${d}-${step}-${i}`;
          const roll = next();
          if (roll < 0.1 || own.length === 0) {
            const { id } = await app.create("Dog", "Registered", { name: trick });
            own.push(id);
          } else {
            const dog = roll < 0.35 ? shared[Math.floor(next() * shared.length)] : own[Math.floor(next() * own.length)];
            await app.record("Dog", dog, "TrickAdded", { trick });
            recorded.push(trick);
          }
        }
        return recorded;
      }, [d, step, shared, Math.floor(rand() * 2 ** 31)]);
      device.recorded.push(...burst);
      const roll = rand();
      if (roll < 0.08) {
        // close the page in the middle of a sync, and open the device again
        await device.page.evaluate(() => void sync.now().catch(() => {}));
        await new Promise((done) => setTimeout(done, rand() * 30));
        await device.page.close();
        faults.closedPages++;
        device.page = await device.open();
        await openDevice(device.page, url);
      } else if (roll < 0.7) {
        await round(device);
      }
    }
    if (rand() < 0.25) {
      await server.kill();
      faults.kills++;
      await new Promise((done) => setTimeout(done, 50 + rand() * 200));
      server = await server.restart();
    }
  }

  // the storm is over: sync until every device has nothing left to move
  proxy.faults(() => "pass");
  const settle = async () => {
    for (let pass = 0; pass < 6; pass++) for (const device of devices) await device.page.evaluate(() => sync.now());
  };
  await settle();
  // resolve conflicts (rebasing some, discarding others) until none is left:
  // a rebase can meet another device's rebase of the same dog, a new conflict
  const conflicts = { rebased: 0, discarded: 0 };
  const discarded = new Set();
  for (let pass = 0; pass < 10; pass++) {
    let found = 0;
    for (const device of devices) {
      const resolved = await device.page.evaluate(async () => {
        const out = [];
        for (const conflict of await sync.conflicts()) {
          const how = conflict.local.length % 2 ? "rebase" : "discard";
          await sync.resolve(conflict.id, how);
          out.push({ how, tricks: conflict.local.map((e) => e.data.trick ?? null).filter(Boolean) });
        }
        return out;
      });
      found += resolved.length;
      for (const { how, tricks } of resolved) {
        conflicts[how === "rebase" ? "rebased" : "discarded"]++;
        if (how === "discard") tricks.forEach((t) => discarded.add(t));
      }
    }
    await settle();
    if (found === 0) break;
  }

  const onServer = await (await fetch(`${server.app("dogschool")}/notifications?start=1&limit=10000`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  const serverEvents = onServer.map((n) => `${n.originator_id}/${n.originator_version}/${n.topic}/${n.state}`).sort();
  const serverTricks = onServer.filter((n) => n.topic === "Dog.TrickAdded").map((n) => JSON.parse(Buffer.from(n.state, "base64").toString()).trick);
  // every acknowledged event is on the server once: no trick twice
  assert.equal(new Set(serverTricks).size, serverTricks.length, "no event twice on the server");
  // every event ever recorded is on the server, or was discarded in a conflict
  const recorded = devices.flatMap((d) => d.recorded);
  const missing = recorded.filter((t) => !serverTricks.includes(t) && !discarded.has(t));
  if (missing.length) {
    // where did they go? (printed before the assertion fails)
    for (const [d, device] of devices.entries()) {
      const found = await device.page.evaluate(async (missing) => {
        const all = await app.notifications({ limit: 10000 });
        return { local: all.filter((n) => missing.includes(n.data.trick)).map((n) => [n.notificationId, n.data.trick, n.originatorVersion]).slice(0, 5), total: all.length, pending: sync.status().pending };
      }, missing.slice(0, 20));
      console.log(`device ${d}:`, JSON.stringify(found));
    }
    console.log("missing", missing.length, "of", recorded.length, missing.slice(0, 20), "discarded", discarded.size);
  }
  assert.deepEqual(missing, [], "nothing lost");
  for (const [d, device] of devices.entries()) {
    const local = await device.page.evaluate(async () => {
      const events = [];
      for (let after = 0; ; ) {
        const page = await app.notifications({ after, limit: 10000 });
        if (!page.length) break;
        events.push(...page);
        after = page.at(-1).notificationId;
      }
      const { pending } = sync.status();
      const conflicts = (await sync.conflicts()).length;
      await counts.wait(await app.maxNotificationId(), { timeoutMs: 60000 });
      const rows = await counts.all();
      await counts.rebuild();
      return { events: events.map((e) => [e.originatorId, e.originatorVersion, e.topic, e.data]), pending, conflicts, rows, rebuilt: await counts.all() };
    });
    assert.equal(local.events.length, onServer.length, `device ${d} holds as many events as the server`);
    const key = (id, version) => `${id.replaceAll("-", "")}/${version}`;
    assert.deepEqual(local.events.map(([id, v]) => key(id, v)).sort(), onServer.map((n) => key(n.originator_id, n.originator_version)).sort(), `device ${d} holds the server's events`);
    assert.deepEqual([local.pending, local.conflicts], [0, 0]);
    assert.deepEqual(local.rows, local.rebuilt, `device ${d}'s view equals its rebuild`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`converged: seed ${seed}, ${DEVICES} devices, ${recorded.length + SHARED} events recorded, ${serverEvents.length} on the server; ` +
    `faults: ${faults.kills} server kills, ${proxy.stats.dropped} replies dropped, ${proxy.stats.duplicated} requests duplicated, ` +
    `${faults.closedPages} pages closed mid-sync, ${faults.failedRounds} rounds failed; conflicts: ${conflicts.rebased} rebased, ` +
    `${conflicts.discarded} discarded; ${seconds} s`);
  for (const device of devices) await device.close();
  await proxy.close();
  await server.stop();
});
