// Values crossing between a test (Node) and a page, the same in every engine: what
// JSON cannot hold (undefined, NaN, -0, BigInt, Date, Error, Map, Set, typed
// arrays) is tagged. Each function is self-contained, as its source also runs in pages.

/** A value as JSON-able data. */
export function encode(value) {
  const seen = new Set();
  const walk = (v) => {
    switch (typeof v) {
      case "undefined": case "function": case "symbol": return { $: "undefined" };
      case "bigint": return { $: "bigint", v: String(v) };
      case "number":
        if (Number.isNaN(v)) return { $: "NaN" };
        if (v === Infinity || v === -Infinity) return { $: v > 0 ? "Infinity" : "-Infinity" };
        return Object.is(v, -0) ? { $: "-0" } : v;
      case "string": case "boolean": return v;
    }
    if (v === null) return null;
    if (seen.has(v)) throw new TypeError("a circular value cannot cross to the test");
    seen.add(v);
    try {
      if (v instanceof Date) return { $: "date", v: walk(v.getTime()) };
      if (v instanceof RegExp) return { $: "regexp", source: v.source, flags: v.flags };
      if (v instanceof Error) return { $: "error", name: v.name, message: v.message, stack: String(v.stack ?? "") };
      if (v instanceof Map) return { $: "map", v: [...v].map(([key, value]) => [walk(key), walk(value)]) };
      if (v instanceof Set) return { $: "set", v: [...v].map(walk) };
      if (v instanceof ArrayBuffer) return { $: "buffer", v: [...new Uint8Array(v)] };
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return { $: "typed", type: v.constructor.name, v: [...v].map(walk) };
      if (Array.isArray(v)) return Array.from(v, walk);
      const fields = {};
      for (const key of Object.keys(v)) fields[key] = walk(v[key]);
      return "$" in fields ? { $: "object", v: fields } : fields;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value);
}

/** The value `encode` made. */
export function decode(data) {
  const walk = (d) => {
    if (d === null || typeof d !== "object") return d;
    if (Array.isArray(d)) return d.map(walk);
    if (!("$" in d)) return Object.fromEntries(Object.entries(d).map(([key, value]) => [key, walk(value)]));
    switch (d.$) {
      case "undefined": return undefined;
      case "bigint": return BigInt(d.v);
      case "NaN": return NaN;
      case "Infinity": return Infinity;
      case "-Infinity": return -Infinity;
      case "-0": return -0;
      case "date": return new Date(walk(d.v));
      case "regexp": return new RegExp(d.source, d.flags);
      case "error": return Object.assign(new Error(d.message), { name: d.name, stack: d.stack });
      case "map": return new Map(d.v.map(([key, value]) => [walk(key), walk(value)]));
      case "set": return new Set(d.v.map(walk));
      case "buffer": return new Uint8Array(d.v).buffer;
      case "typed": return new globalThis[d.type](d.v.map(walk));
      case "object": return Object.fromEntries(Object.entries(d.v).map(([key, value]) => [key, walk(value)]));
    }
    throw new TypeError(`no such tagged value: ${d.$}`);
  };
  return walk(data);
}
