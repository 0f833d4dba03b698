// Generated JSON for the round-trip page test: doubles from random bit
// patterns, integers up to 2^53, subnormals, -0, strings of every kind of
// Unicode, keys in odd orders, nesting up to the core's limit; and an exact
// comparison (Object.is for numbers, key order, own keys only).
import { random } from "./random.js";

/** How deep the core lets a value nest (objects and arrays, the outermost included). */
export const MAX_DEPTH = 100;
/** Top-level keys an event's data (and a snapshot's state) may not use. */
const RESERVED = ["timestamp", "class_version", "originator_id", "originator_version", "_created_on", "_modified_on"];

/** Doubles at the edges of the format. */
export const EDGES = [
  0, -0, 5e-324, -5e-324, 2.225073858507201e-308, 2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON, 1 + Number.EPSILON,
  2 ** 53, 2 ** 53 - 1, -(2 ** 53), -(2 ** 53 - 1), 2 ** 63, -(2 ** 63), 2 ** 63 - 1024, 2 ** 64, 2 ** 64 - 2048, -(2 ** 64), 2 ** 1023, 1e21, 1e-7, 1e-6,
  0.1, 0.2, 0.1 + 0.2, 1 / 3, -1 / 3, Math.PI, 123456789012345680000, 4.35, 0.000001, 5e-7, 1.7976931348623157e308, 9007199254740993, 2 ** -1074 * 3,
];

/** Code points of every kind: ASCII, controls, combining marks, separators, BMP scripts, astral, noncharacters, specials. */
const RANGES = [
  [0x20, 0x7e], [0x00, 0x1f], [0x7f, 0x9f], [0x300, 0x36f], [0x2028, 0x2029], [0x200b, 0x200f], [0x202a, 0x202e], [0x0590, 0x05ff], [0x0600, 0x06ff],
  [0x0900, 0x097f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xf8ff], [0xfdd0, 0xfdef], [0xfe00, 0xfe0f], [0xfeff, 0xfeff],
  [0xfff0, 0xffff], [0x10000, 0x1ffff], [0x1f300, 0x1faff], [0x20000, 0x2fa1f], [0xe0000, 0xe007f], [0xf0000, 0x10ffff],
];
const PIECES = ['"', "\\", "/", "</script>", "\u2028\u2029", "e\u0301", "👩‍👩‍👧‍👦", "🏳️‍🌈", "\r\n", "\t", "\u0000", "\ud83d\ude00", "Å", "Å", "ﬃ", "İ", "ß"];

export function generator(seed) {
  const rng = random(seed);
  const bytes = new DataView(new ArrayBuffer(8));

  /** A double from random bits; JSON holds no NaN or Infinity, so those are drawn again. */
  function bits() {
    for (;;) {
      bytes.setUint32(0, rng.word());
      bytes.setUint32(4, rng.word());
      const n = bytes.getFloat64(0);
      if (Number.isFinite(n)) return n;
    }
  }
  /** A subnormal: exponent bits all zero, random mantissa, random sign. */
  function subnormal() {
    bytes.setUint32(0, (rng.word() & 0x800fffff) >>> 0);
    bytes.setUint32(4, rng.word());
    return bytes.getFloat64(0);
  }
  /** An integer up to 2^53 in size, of any bit length. */
  function integer() {
    const size = 2 ** rng.int(54);
    const n = Math.min(Math.floor(rng.next() * size), 2 ** 53);
    return rng.chance(0.5) ? -n : n;
  }
  function number() {
    switch (rng.int(6)) {
      case 0: return rng.pick(EDGES);
      case 1: return subnormal();
      case 2: return integer();
      case 3: return rng.int(1000) / 8;
      default: return bits();
    }
  }
  function codePoint() {
    const [lo, hi] = rng.pick(RANGES);
    return String.fromCodePoint(lo + rng.int(hi - lo + 1));
  }
  function string(max = 24) {
    let out = "";
    const length = rng.int(max + 1);
    for (let i = 0; i < length; i++) out += rng.chance(0.1) ? rng.pick(PIECES) : codePoint();
    return out;
  }
  /** Keys in the order given, defined (not assigned): "__proto__" stays a key. */
  function object(entries) {
    const out = {};
    for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return out;
  }
  function key() {
    switch (rng.int(6)) {
      case 0: return rng.pick(["", "__proto__", "constructor", "toString", "0", "1", "10", "-1", "01", "1.5", "4294967294", "4294967295", "9007199254740993", "NaN", "a.b"]);
      case 1: return String(rng.int(100));
      default: return string(8);
    }
  }
  function value(depth) {
    const roll = rng.int(depth > 4 ? 6 : 9);
    switch (roll) {
      case 0: return null;
      case 1: return rng.chance(0.5);
      case 2: case 3: return number();
      case 4: case 5: return string();
      case 6: case 7: return Array.from({ length: rng.int(5) }, () => value(depth + 1));
      default: return data(depth + 1, rng.int(5));
    }
  }
  /** An object of `size` random keys, in random order (JavaScript puts index-like keys first). */
  function data(depth = 0, size = 1 + rng.int(6)) {
    const keys = new Set();
    while (keys.size < size) {
      const k = key();
      if (depth > 0 || !RESERVED.includes(k)) keys.add(k);
    }
    return object([...keys].map((k) => [k, value(depth)]));
  }
  /** `levels` nested containers, the outermost an object (an event's data). */
  function deep(levels) {
    let inner = rng.chance(0.5) ? [number(), string()] : object([[key() || "k", number()]]);
    for (let level = levels - 1; level > 1; level--) inner = rng.chance(0.5) ? [inner] : object([[string(4), inner]]);
    return { deep: inner };
  }
  return { rng, number, bits, subnormal, integer, string, data, deep, object };
}

/** The first difference between two JSON values (numbers by Object.is, keys in order), or null. */
export function difference(a, b, path = "") {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b) ? null : `${path || "value"}: ${show(a)} became ${show(b)}`;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return a === b ? null : `${path || "value"}: ${JSON.stringify(a)?.slice(0, 80)} became ${JSON.stringify(b)?.slice(0, 80)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: an ${Array.isArray(a) ? "array" : "object"} became an ${Array.isArray(b) ? "array" : "object"}`;
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return `${path}: keys ${JSON.stringify(ka).slice(0, 200)} became ${JSON.stringify(kb).slice(0, 200)}`;
  for (const k of ka) {
    const found = difference(Object.getOwnPropertyDescriptor(a, k).value, Object.getOwnPropertyDescriptor(b, k).value, Array.isArray(a) ? `${path}[${k}]` : `${path}.${JSON.stringify(k)}`);
    if (found) return found;
  }
  return null;
}

const show = (n) => (typeof n === "number" ? (Object.is(n, -0) ? "-0" : `${n}`) : JSON.stringify(n));
