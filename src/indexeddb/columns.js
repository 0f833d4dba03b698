// Rows read from IndexedDB as columns, in one crossing (src/indexeddb/columns.rs).

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
