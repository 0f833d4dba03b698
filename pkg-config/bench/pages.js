// Page-side helpers for the benchmarks: raw IndexedDB with tributary's schema,
// and the same in Dexie, the IndexedDB library web developers already use.

/** A raw database with an events store like tributary's (same key path and indexes). */
export function rawDatabase(name) {
  return new Promise((done, fail) => {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      const events = open.result.createObjectStore("events", { keyPath: "id" });
      events.createIndex("position", ["originator_id", "originator_version"], { unique: true });
      events.createIndex("topic", ["topic", "id"]);
      open.result.createObjectStore("rows", { keyPath: "key" });
    };
    open.onsuccess = () => done(open.result);
    open.onerror = () => fail(open.error);
  });
}

/** The same store in Dexie. */
export async function dexieDatabase(name) {
  const { default: Dexie } = await import("/dexie/dexie.mjs");
  const db = new Dexie(name);
  db.version(1).stores({ events: "id, &[originator_id+originator_version], [topic+id]" });
  await db.open();
  return db;
}

export const finished = (tx) => new Promise((done, fail) => { tx.oncomplete = done; tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error); });
export const requested = (request) => new Promise((done, fail) => { request.onsuccess = () => done(request.result); request.onerror = () => fail(request.error); });

/** A stored event row as tributary keeps it. */
export function row(id, originatorId, version, trick) {
  const state = new TextEncoder().encode(JSON.stringify({ timestamp: { _type_: "datetime_iso", _data_: "2024-01-02T03:04:05.678901+00:00" }, trick }));
  return { id, originator_id: originatorId, originator_version: version, topic: "Dog.TrickAdded", state };
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
