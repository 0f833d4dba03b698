// Exact round trips, generated from a seed (printed; ROUNDTRIP_SEED=<n> replays
// it): event data with doubles from random bit patterns, integers up to 2^53,
// subnormals, -0 (kept: the README promises every double to the last bit),
// strings of every kind of Unicode, keys in odd orders and nesting up to the
// limit, read back through apply (`get`), a snapshot, `history`,
// `notifications`, the log's sections and a view's rows: all equal to what was
// recorded. Lone surrogates and one level too deep are ValidationErrors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

const seed = Number(process.env.ROUNDTRIP_SEED ?? Math.floor(Math.random() * 2 ** 32));
/** Generated events (each a random JSON tree), besides the edge cases. */
const EVENTS = 2000;

test(`numbers, strings, key order and nesting come back exactly through every way of reading (ROUNDTRIP_SEED=${seed})`, { timeout: 120_000 }, async (t) => {
  t.diagnostic(`ROUNDTRIP_SEED=${seed}`);
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([seed, count]) => {
    const { generator, difference, MAX_DEPTH, EDGES } = await import("/test/json.js");
    const { openApplication } = await import("tributary");
    const g = generator(seed);
    globalThis.applied = 0;
    const open = async () =>
      (await openApplication("roundtrip", { sectionSize: 10_000 })).defineAggregate("Box", {
        initial: () => null,
        apply: { Put: (_, data) => (globalThis.applied++, data) },
      });
    // the comparison sees what it must
    const blind = [difference(-0, 0), difference({ a: 1, b: 2 }, { b: 2, a: 1 }), difference([0.1], [0.1 + 2 ** -56]), difference({ a: "e\u0301" }, { a: "é" })].filter((d) => !d);
    const app = await open();
    const rows = app.defineView("rows", { handle: (event, view) => view.put(event.originatorId, event.data) });

    const values = [
      { edges: EDGES, negated: EDGES.map((n) => -n) },
      { zero: -0, inArray: [-0, 0, -0], inObject: { z: -0 } },
      { subnormals: Array.from({ length: 50 }, () => g.subnormal()) },
      { bits: Array.from({ length: 2000 }, () => g.bits()) },
      { integers: Array.from({ length: 1000 }, () => g.integer()) },
      { long: g.string(1 << 16), unicode: Array.from({ length: 200 }, () => g.string(8)) },
      g.deep(MAX_DEPTH),
      g.deep(MAX_DEPTH),
      g.object([["b", 1], ["a", 2], ["2", 3], ["1", 4], ["", 5], ["__proto__", { x: 1 }], ["z", { "y": 1, "x": 2 }]]),
      ...Array.from({ length: count }, () => g.data()),
    ];
    const ids = values.map(() => crypto.randomUUID());
    const started = performance.now();
    for (let start = 0; start < values.length; start += 50) {
      await app.recordMany(values.slice(start, start + 50).map((data, i) => ({ aggregate: "Box", id: ids[start + i], event: "Put", data })));
    }
    const head = await app.maxNotificationId();
    const wrong = [];
    const check = (way, i, got) => {
      const found = difference(values[i], got);
      if (found) wrong.push(`${way}, value ${i}: ${found}`);
    };

    for (let i = 0; i < values.length; i++) check("get (apply)", i, (await app.get("Box", ids[i])).state);
    for (let i = 0; i < values.length; i++) {
      const history = await app.history(ids[i]);
      check("history", i, history.length === 1 ? history[0].data : history);
    }
    const byId = new Map(ids.map((id, i) => [id, i]));
    const notifications = await app.notifications({ limit: 10_000 });
    for (const n of notifications) check("notifications", byId.get(n.originatorId), n.data);
    const section = await app.notificationLog.section(`1,${head}`);
    const byHex = new Map(ids.map((id, i) => [id.replaceAll("-", ""), i]));
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    for (const item of section.items) {
      const state = JSON.parse(utf8.decode(Uint8Array.from(atob(item.state), (c) => c.charCodeAt(0))));
      delete state.timestamp;
      // Each event here creates its aggregate: as Python's Created events, it names the aggregate's topic.
      if (state.originator_topic !== "Box") throw new Error(`a Created event without originator_topic "Box": ${JSON.stringify(state.originator_topic)}`);
      delete state.originator_topic;
      check("log section", byHex.get(item.originator_id), state);
    }
    await rows.wait(head, { timeoutMs: 30_000 });
    const viewRows = await rows.all();
    for (const row of viewRows) check("view rows", byId.get(row.key), row.value);

    // snapshots: taken, then read by a fresh application, with no event applied
    const snapshotted = ids.filter((_, i) => i % 7 === 0);
    for (const id of snapshotted) await app.takeSnapshot("Box", id);
    const again = await open();
    globalThis.applied = 0;
    for (const id of snapshotted) check("snapshot", byId.get(id), (await again.get("Box", id)).state);
    const appliedAfterSnapshots = globalThis.applied;
    const ms = performance.now() - started;

    // what the core refuses, naming where, and writing nothing
    const refused = async (data) => app.record("Box", ids[0], "Put", data).then(() => "recorded", (e) => `${e.name}: ${e.message}`);
    const refusals = {
      loneHigh: await refused({ s: "a\ud800" }),
      loneLow: await refused({ s: "\udc00b" }),
      reversedPair: await refused({ s: "\ude00\ud83d" }),
      inKey: await refused({ ["x\ud800"]: 1 }),
      nested: await refused({ a: [{ b: ["ok", "\udfff"] }] }),
      tooDeep: await refused(g.deep(MAX_DEPTH + 1)),
    };
    const headAfterRefusals = await app.maxNotificationId();

    const numbers = (v) => (typeof v === "number" ? 1 : v && typeof v === "object" ? Object.values(v).reduce((sum, x) => sum + numbers(x), 0) : 0);
    const strings = (v) => (typeof v === "string" ? 1 : v && typeof v === "object" ? Object.entries(v).reduce((sum, [, x]) => sum + 1 + strings(x), 0) : 0);
    return {
      events: values.length, numbers: numbers(values), strings: strings(values), head, ms, wrong: wrong.slice(0, 30), wrongCount: wrong.length,
      read: { notifications: notifications.length, section: section.items.length, rows: viewRows.length, snapshots: snapshotted.length },
      appliedAfterSnapshots, refusals, headAfterRefusals, blind: blind.length,
    };
  }, [seed, EVENTS]);
  await close();

  console.log(`round trips: ${out.events} events, ${out.numbers} numbers, ${out.strings} strings and keys, each read 6 ways in ${(out.ms / 1000).toFixed(1)} s (seed ${seed})`);
  assert.equal(out.blind, 0, "the comparison tells -0 from 0, key orders, the last bit, and Unicode forms apart");
  assert.equal(out.wrongCount, 0, `${out.wrongCount} values changed (ROUNDTRIP_SEED=${seed}):\n${out.wrong.join("\n")}`);
  assert.equal(out.head, out.events);
  assert.deepEqual(out.read, { notifications: out.events, section: out.events, rows: out.events, snapshots: Math.ceil(out.events / 7) }, "every value was read every way");
  assert.equal(out.appliedAfterSnapshots, 0, "the states came from the snapshots");
  for (const [what, outcome] of Object.entries(out.refusals)) assert.match(outcome, /^ValidationError: /, what);
  for (const what of ["loneHigh", "loneLow", "reversedPair", "inKey", "nested"]) assert.match(out.refusals[what], /lone surrogate/, what);
  assert.match(out.refusals.nested, /\.a\[0\]\.b\[1\]/, "the path is named");
  assert.match(out.refusals.tooDeep, /deeper than 100 levels/);
  assert.equal(out.headAfterRefusals, out.head, "nothing refused was written");
});
