// Replaying one aggregate of 10,000 events through JavaScript `apply`, next to
// a raw `getAll` of the same rows from the same database, and Dexie reading them.
import { against } from "./browser.mjs";

export async function replay(page, events = 10000) {
  const r = await page.evaluate(async (events) => {
    const { openApplication } = await import("tributary");
    const { dexieDatabase, requested, row, median } = await import("/bench/pages.js");
    const stamp = Date.now();
    const name = `bench-replay-${stamp}`;
    // apply does constant work per event, so that the figure is the engine's
    const app = (await openApplication(name)).defineAggregate("Dog", {
      initial: () => ({ name: "", tricks: 0, last: "" }),
      apply: {
        Registered: (state, e) => ({ ...state, name: e.name }),
        TrickAdded: (state, e) => ({ ...state, tricks: state.tricks + 1, last: e.trick }),
      },
    });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (let start = 1; start < events; start += 1000) {
      await app.recordMany(Array.from({ length: Math.min(1000, events - start) }, (_, i) => ({ aggregate: "Dog", id, event: "TrickAdded", data: { trick: `trick ${start + i}` } })));
    }
    const db = await requested(indexedDB.open(`tributary:${name}`));
    const ours = [], raw = [];
    // interleaved, so that whatever else the machine does weighs on both alike
    for (let i = 0; i < 9; i++) {
      let started = performance.now();
      const dog = await app.get("Dog", id);
      ours.push(performance.now() - started);
      if (dog.version !== events) throw new Error(`replayed to ${dog.version}`);
      started = performance.now();
      const index = db.transaction("events").objectStore("events").index("position");
      const rows = await requested(index.getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER])));
      raw.push(performance.now() - started);
      if (rows.length !== events) throw new Error(`read ${rows.length}`);
    }
    db.close();
    const dexie = await dexieDatabase(`bench-dexie-replay-${stamp}`);
    await dexie.events.bulkAdd(Array.from({ length: events }, (_, i) => row(i + 1, id, i + 1, `trick ${i}`)));
    const dexieTimes = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      const rows = await dexie.events.where("[originator_id+originator_version]").between([id, 0], [id, Number.MAX_SAFE_INTEGER]).toArray();
      dexieTimes.push(performance.now() - started);
      if (rows.length !== events) throw new Error(`Dexie read ${rows.length}`);
    }
    dexie.close();
    app.close();
    return { ours: median(ours), raw: median(raw), dexie: median(dexieTimes) };
  }, events);
  console.log(`replay of one aggregate of ${events.toLocaleString("en")} events through JS apply (median of 9, interleaved):`);
  console.log(`  tributary get ${r.ours.toFixed(1)} ms | raw getAll of the same rows ${r.raw.toFixed(1)} ms | Dexie toArray ${r.dexie.toFixed(1)} ms | ${against(r.ours, r.raw, 1.3)}`);
}
