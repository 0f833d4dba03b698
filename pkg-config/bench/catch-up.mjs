// A view catching up with the log (a JS handler counting 100 trick names,
// batches of 2,000 events per transaction), next to raw IndexedDB doing the same
// reads and writes.
import { against, rate } from "./browser.mjs";

export async function catchUp(page, sizes) {
  console.log(`view catch-up (JS handler, 100 trick names, batches of 2,000 events per transaction):`);
  for (const size of sizes) {
  const r = await page.evaluate(async (size) => {
    const { openDogSchool, defineTrickCounts, teach } = await import("/test/dogschool.js");
    const names = Array.from({ length: 100 }, (_, i) => `trick ${i}`);
    const app = await openDogSchool(`bench-${size}-${Date.now()}`);
    const head = await teach(app, size, names);
    let started = performance.now();
    await defineTrickCounts(app).wait(head, { timeoutMs: 600000 });
    const catchUpMs = performance.now() - started;

    // The same storage work, raw: `size` records read with getAll in batches of
    // 2,000 (one transaction each), and per batch, 100 rows and 1 tracking record
    // put in one readwrite transaction.
    const db = await new Promise((done, fail) => {
      const open = indexedDB.open(`raw-${size}-${Date.now()}`, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore("events", { keyPath: "id" });
        open.result.createObjectStore("rows", { keyPath: "key" });
      };
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const finished = (tx) => new Promise((done, fail) => { tx.oncomplete = done; tx.onerror = () => fail(tx.error); });
    const state = new TextEncoder().encode(JSON.stringify({ timestamp: { _type_: "datetime_iso", _data_: new Date().toISOString() }, trick: "trick 42" }));
    for (let start = 1; start <= size; start += 10000) {
      const tx = db.transaction("events", "readwrite");
      for (let id = start; id < Math.min(size + 1, start + 10000); id++) tx.objectStore("events").put({ id, originator_id: crypto.randomUUID(), originator_version: id, topic: "Dog.TrickAdded", state });
      await finished(tx);
    }
    started = performance.now();
    for (let start = 1; start <= size; start += 2000) {
      const read = db.transaction("events").objectStore("events").getAll(IDBKeyRange.bound(start, start + 1999));
      const batch = await new Promise((done) => { read.onsuccess = () => done(read.result); });
      const decoder = new TextDecoder();
      for (const record of batch) JSON.parse(decoder.decode(record.state));
      const tx = db.transaction("rows", "readwrite");
      for (let k = 0; k < 100; k++) tx.objectStore("rows").put({ key: `trick ${k}`, count: start + k });
      tx.objectStore("rows").put({ key: "tracking", position: start + batch.length - 1 });
      await finished(tx);
    }
    const rawMs = performance.now() - started;
    db.close();

    return { catchUpMs, rawMs };
  }, size);
  console.log(`  ${size.toLocaleString("en").padStart(8)} events: tributary ${rate(size, r.catchUpMs)} ev/s | raw IndexedDB, same reads and writes ${rate(size, r.rawMs)} ev/s | ${against(r.catchUpMs, r.rawMs, 1.5)}`);
}
}
