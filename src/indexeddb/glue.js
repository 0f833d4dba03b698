// The IndexedDB adapter's JavaScript side, in one module (one request when a
// page loads the package). Each part serves the Rust file named above it.

// src/indexeddb/columns.rs: rows read from IndexedDB as columns, in one crossing.

export function columns(rows) {
  const n = rows.length, table = [], known = new Map();
  const intern = (text) => {
    let at = known.get(text);
    if (at === undefined) { at = table.length; known.set(text, at); table.push(text); }
    return at;
  };
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(rows[i]?.state instanceof Uint8Array)) throw String(rows[i]?.originator_id);
    total += rows[i].state.byteLength;
  }
  const states = new Uint8Array(total), numbers = new Float64Array(3 * n), refs = new Uint32Array(2 * n);
  for (let i = 0, at = 0; i < n; i++) {
    const row = rows[i];
    states.set(row.state, at);
    at += row.state.byteLength;
    numbers[3 * i] = at;
    numbers[3 * i + 1] = row.originator_version;
    numbers[3 * i + 2] = row.id ?? 0;
    refs[2 * i] = intern(row.originator_id);
    refs[2 * i + 1] = intern(row.topic);
  }
  return [states, numbers, refs, table];
}

// src/indexeddb/recorder.rs: the connection an append made at once goes through
// (rexie does not give its own), on a database rexie has opened and upgraded to
// `version`; refused after `ms` if another tab's upgrade keeps it waiting.
export function connect(name, version, ms) {
  return new Promise((done, fail) => {
    const open = globalThis.indexedDB.open(name, version);
    let late = false;
    const waited = setTimeout(() => {
      late = true;
      fail(new DOMException(`opening ${name} waited ${ms} ms for another tab`, "TimeoutError"));
    }, ms);
    open.onupgradeneeded = () => open.transaction.abort(); // deleted meanwhile: not made again here
    open.onsuccess = () => {
      clearTimeout(waited);
      if (late) return open.result.close();
      // As the other connection: another tab deleting or upgrading the database is not kept waiting.
      open.result.onversionchange = () => open.result.close();
      done(open.result);
    };
    open.onerror = () => { clearTimeout(waited); fail(open.error); };
  });
}

// src/indexeddb/write.rs: the writes of an append, committed as soon as the last
// is done, in one crossing; true once committed, false when the browser refused a
// row (and so aborted the transaction: nothing was written). Not committed before:
// Firefox (ESR 153) commits a transaction whose commit() was called right after
// its requests even when one of them then fails, if a later one succeeds, keeping
// the rows that succeeded: two tabs were told the same version was theirs.
export function appendAtOnce(db, events, counted, count) {
  return new Promise((done, fail) => {
    const transaction = db.transaction(["events", "tracking"], "readwrite");
    transaction.oncomplete = () => done(true);
    transaction.onabort = () => {
      // Firefox refuses every write of a connection's next readwrite transaction
      // after one aborted for the quota (InvalidStateError): let that one be an empty one.
      if (transaction.error?.name === "QuotaExceededError") db.transaction(["tracking"], "readwrite");
      done(false);
    };
    try {
      const store = transaction.objectStore("events");
      for (const row of events) store.add(row);
      const tracking = transaction.objectStore("tracking");
      tracking.add(counted);
      // Requests run in order, and a refused one aborts the transaction before
      // any later one succeeds: the last one's success means all succeeded.
      tracking.delete(count).onsuccess = () => transaction.commit();
    } catch (error) {
      // A row refused as it is made (not after): none of the others may stay.
      transaction.onabort = () => fail(error);
      transaction.abort();
    }
  });
}
