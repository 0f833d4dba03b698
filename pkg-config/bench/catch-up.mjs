// Benchmark (prints figures; asserts nothing): how fast a view catches up with
// the log, against raw IndexedDB doing the same reads and writes, in one run of
// headless Chromium. Run with `bash scripts/bench.sh`.
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../../scripts/serve.mjs";

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const server = await serve(0, { "/test/": fileURLToPath(new URL("../test/pages/", import.meta.url)) });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/test/`);

const rate = (count, ms) => Math.round(count / (ms / 1000)).toLocaleString("en");
console.log(`catch-up of a JS view counting 100 trick names, batches of 2,000 events per transaction`);
for (const size of sizes) {
  const r = await page.evaluate(async (size) => {
    const { openDogSchool, defineTrickCounts, teach } = await import("/test/dogschool.js");
    const names = Array.from({ length: 100 }, (_, i) => `trick ${i}`);
    const app = await openDogSchool(`bench-${size}-${Date.now()}`);
    let started = performance.now();
    const head = await teach(app, size, names);
    const recordMs = performance.now() - started;
    started = performance.now();
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

    // Recording, raw: the same rows added to a store with tributary's indexes,
    // in transactions of 1,000 as the benchmark records them.
    const schema = await new Promise((done) => {
      const open = indexedDB.open(`raw-schema-${size}-${Date.now()}`, 1);
      open.onupgradeneeded = () => {
        const events = open.result.createObjectStore("events", { keyPath: "id" });
        events.createIndex("position", ["originator_id", "originator_version"], { unique: true });
        events.createIndex("topic", ["topic", "id"]);
      };
      open.onsuccess = () => done(open.result);
    });
    const dog = crypto.randomUUID();
    started = performance.now();
    for (let start = 1; start <= size; start += 1000) {
      const tx = schema.transaction("events", "readwrite");
      for (let id = start; id < Math.min(size + 1, start + 1000); id++) tx.objectStore("events").add({ id, originator_id: dog, originator_version: id, topic: "Dog.TrickAdded", state: state.slice() });
      await finished(tx);
    }
    const rawRecordMs = performance.now() - started;
    schema.close();
    return { recordMs, catchUpMs, rawMs, rawRecordMs };
  }, size);
  console.log(`${size.toLocaleString("en").padStart(8)} events: record ${rate(size, r.recordMs)} ev/s (raw IndexedDB adds, same schema and batches: ${rate(size, r.rawRecordMs)} ev/s) | catch-up ${rate(size, r.catchUpMs)} ev/s (${Math.round(r.catchUpMs)} ms) | raw IndexedDB, same reads and writes: ${rate(size, r.rawMs)} ev/s (${Math.round(r.rawMs)} ms) | ${(r.catchUpMs / r.rawMs).toFixed(1)}x raw`);
}
await browser.close();
server.close();
