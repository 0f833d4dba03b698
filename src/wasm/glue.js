// The wasm boundary's JavaScript side, in one module (one request when a page
// loads the package). Each part serves the Rust file named above it.

// src/wasm/convert.rs
export function kind(value, deep) {
  switch (typeof value) {
    case 'string': return value.isWellFormed() ? 1 : 2;
    case 'number': return 3;
    case 'boolean': return 4;
    case 'object': {
      if (value === null) return 5;
      if (deep) return 6;
      if (Array.isArray(value)) return 7;
      const prototype = Reflect.getPrototypeOf(value);
      return prototype === null || prototype === Object.prototype ? 8 : 9;
    }
    default: return 0;
  }
}
export function wellFormed(value) {
  return typeof value === 'string' && value.isWellFormed() ? value : undefined;
}

// src/wasm/events.rs
const utf8 = new TextDecoder();
export function events(json) {
  const events = JSON.parse(utf8.decode(json));
  for (const event of events) event.timestamp = new Date(event.timestamp);
  return events;
}
export function fold(apply, state, events) {
  for (const event of events) state = apply[event.type](state, event.data, event);
  return state;
}

// src/wasm/failure.rs
let last;
export function keep(message) {
  last = message;
}
export function take() {
  const m = last;
  last = undefined;
  return m;
}
let classes = {};
export function setClasses(c) {
  classes = c;
}
export function make(name, message) {
  const error = new (Object.hasOwn(classes, name) ? classes[name] : Error)(message);
  error.name = name;
  return error;
}

// src/wasm/view.rs
export async function handleAll(events, handle, core, rollBack) {
  // Rows as this batch has left them (JSON text; null: absent), so that reading
  // a row the batch already knows does not cross into the core.
  const rows = new Map();
  let open = true, fresh = true, writes = 0;
  const parse = (text) => (text === null ? undefined : JSON.parse(text));
  const writer = {
    get(key) {
      const text = open && typeof key === 'string' ? rows.get(key) : undefined;
      if (text !== undefined) return Promise.resolve(parse(text));
      const before = writes;
      return core.get(key).then((text) => {
        if (open && writes === before && !rows.has(key)) rows.set(key, text);
        return parse(text);
      });
    },
    put(key, row) {
      const text = core.put(key, row, fresh);
      fresh = false;
      writes++;
      rows.set(key, text);
    },
    delete(key) {
      core.delete(key, fresh);
      fresh = false;
      writes++;
      rows.set(key, null);
    },
  };
  try {
    for (let i = 0; i < events.length; i++) {
      fresh = true;
      try {
        const out = handle(events[i], writer);
        if (out !== null && typeof out === 'object' && typeof out.then === 'function') await out;
      } catch (error) {
        if (!fresh) rollBack();
        return [i, error];
      }
    }
    return null;
  } finally {
    open = false;
    rows.clear();
  }
}
