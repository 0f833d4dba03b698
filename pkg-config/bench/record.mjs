// Recording: one event per call (p50 latency, sequential), and batches of
// 1,000 (events/s), next to raw IndexedDB and Dexie doing the same writes.
import { against, rate } from "./browser.mjs";

export async function record(page) {
  const r = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const { rawDatabase, dexieDatabase, finished, row, median } = await import("/bench/pages.js");
    const runs = 1000;
    const stamp = Date.now();
    const app = await openDogSchool(`bench-record-${stamp}`);
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const db = await rawDatabase(`bench-raw-record-${stamp}`);
    const dexie = await dexieDatabase(`bench-dexie-record-${stamp}`);
    const dog = crypto.randomUUID();
    const ours = [], raw = [], dexieTimes = [];
    // Interleaved, so that whatever else the machine does weighs on all three
    // alike; each call's time ends after one more turn of the event loop, so that
    // what it left for later (tributary telling other tabs) is its own.
    const turn = () => new Promise((done) => setTimeout(done));
    for (let i = 1; i <= runs; i++) {
      let started = performance.now();
      await app.record("Dog", id, "TrickAdded", { trick: `trick ${i}` });
      await turn();
      ours.push(performance.now() - started);
      started = performance.now();
      const tx = db.transaction("events", "readwrite");
      tx.objectStore("events").add(row(i, dog, i, `trick ${i}`));
      await finished(tx);
      await turn();
      raw.push(performance.now() - started);
      started = performance.now();
      await dexie.events.add(row(i, dog, i, `trick ${i}`));
      await turn();
      dexieTimes.push(performance.now() - started);
    }
    // batches of 1,000, 20,000 events
    const batches = 20;
    let started = performance.now();
    const { id: rex } = await app.create("Dog", "Registered", { name: "Rex" });
    for (let b = 0; b < batches; b++) {
      await app.recordMany(Array.from({ length: 1000 }, (_, i) => ({ aggregate: "Dog", id: rex, event: "TrickAdded", data: { trick: `trick ${i}` } })));
    }
    const oursBatchMs = performance.now() - started;
    const other = crypto.randomUUID();
    started = performance.now();
    for (let b = 0; b < batches; b++) {
      const tx = db.transaction("events", "readwrite");
      for (let i = 1; i <= 1000; i++) tx.objectStore("events").add(row(runs + b * 1000 + i, other, b * 1000 + i, `trick ${i}`));
      await finished(tx);
    }
    const rawBatchMs = performance.now() - started;
    started = performance.now();
    for (let b = 0; b < batches; b++) {
      await dexie.events.bulkAdd(Array.from({ length: 1000 }, (_, i) => row(runs + b * 1000 + i + 1, other, b * 1000 + i + 1, `trick ${i}`)));
    }
    const dexieBatchMs = performance.now() - started;
    db.close();
    dexie.close();
    app.close();
    const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
    return {
      ours: median(ours), raw: median(raw), dexie: median(dexieTimes),
      oursMean: mean(ours), rawMean: mean(raw), dexieMean: mean(dexieTimes),
      oursBatchMs, rawBatchMs, dexieBatchMs, batchEvents: batches * 1000,
    };
  });
  console.log(`record, one event per call (1,000 sequential, interleaved, each with one more turn of the event loop; p50 and mean, ms; the browser's clock ticks in 0.1 ms):`);
  console.log(`  tributary ${r.ours.toFixed(1)} / ${r.oursMean.toFixed(2)} | raw IndexedDB one-add transaction ${r.raw.toFixed(1)} / ${r.rawMean.toFixed(2)} | Dexie add ${r.dexie.toFixed(1)} / ${r.dexieMean.toFixed(2)} | p50 ${against(r.ours, r.raw, 1.5)}, mean ${against(r.oursMean, r.rawMean, 1.5)}`);
  console.log(`record, batches of 1,000 (${r.batchEvents.toLocaleString("en")} events):`);
  console.log(`  tributary ${rate(r.batchEvents, r.oursBatchMs)} ev/s | raw IndexedDB ${rate(r.batchEvents, r.rawBatchMs)} ev/s | Dexie bulkAdd ${rate(r.batchEvents, r.dexieBatchMs)} ev/s`);
}
