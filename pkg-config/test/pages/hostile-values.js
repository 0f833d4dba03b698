// Hostile values of every JavaScript type, and the predicates that say which
// inputs each argument of the package accepts (as the README and the core's
// checks document them): the vocabulary of hostile.js's barrage.
import * as tributary from "tributary";

const { Application, View } = tributary;
const MAX_SAFE = 2 ** 53 - 1;
/** Items (arrays' items and objects' entries together) one value may hold, as the core counts them. */
const MAX_ITEMS = 2 ** 22;

// ---------------------------------------------------------------- the values

/** Calls `f`, false if it throws: predicates must survive what they look at. */
export const safely = (f) => {
  try {
    return f();
  } catch {
    return false;
  }
};

export const throwing = (kind = Error) => () => {
  throw new kind("hostile trap");
};
const trapAll = (target, kind) =>
  new Proxy(target, Object.fromEntries(["get", "has", "ownKeys", "getPrototypeOf", "getOwnPropertyDescriptor", "apply", "construct", "set", "defineProperty", "deleteProperty", "isExtensible", "preventExtensions", "setPrototypeOf"].map((trap) => [trap, throwing(kind)])));
const revoked = (target = {}) => {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
};
export const nested = (depth, leaf, wrap) => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

/** An array that says it holds `length` items, and gives `item` for every index asked. */
export const claiming = (length, item) =>
  new Proxy([], { get: (target, key) => (key === "length" ? length : /^[0-9]+$/.test(key) ? item : target[key]), has: () => true });

export class Point {
  constructor() {
    this.x = 1;
  }
}

let pool;

/** Every wrong (or wrongly typed) value the barrage draws from, made once: [label, value]. */
export function hostileValues() {
  if (pool) return pool;
  const uuid = "3f2b8c1e-9d4a-4e7b-8a6c-1b2d3e4f5a6b";
  const mega = "x".repeat(1 << 20);
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray = [1];
  cyclicArray.push(cyclicArray);
  const deepGetter = { get trick() { throw revoked(); } };
  const args = (function () { return arguments; })(1, 2);
  const symbolKeyed = { [Symbol("k")]: 1, trick: Symbol("v") };
  const sparseHuge = [];
  sparseHuge.length = 2 ** 32 - 1;
  const lying = claiming(2 ** 32 - 1, 0);
  const claimingJustTooMany = claiming(MAX_ITEMS, 0);
  pool = [
    ["undefined", undefined], ["null", null], ["true", true], ["false", false],
    ["0", 0], ["-0", -0], ["1", 1], ["-1", -1], ["1.5", 1.5], ["-2.5", -2.5], ["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity],
    ["2**53", 2 ** 53], ["2**53+2", 2 ** 53 + 2], ["-(2**53)", -(2 ** 53)], ["2**64", 2 ** 64], ["MAX_VALUE", Number.MAX_VALUE], ["5e-324", 5e-324], ["1e21", 1e21],
    ["2**32", 2 ** 32], ["0.1+0.2", 0.1 + 0.2],
    ["0n", 0n], ["10n", 10n], ["-(2n**64n)", -(2n ** 64n)], ["Symbol()", Symbol("hostile")], ["Symbol.iterator", Symbol.iterator],
    ['""', ""], ['" "', " "], ['"\\u0000"', "\u0000"], ['"\\u0000x"', "\u0000x"], ['"\\ud800"', "\ud800"], ['"a\\udc00b"', "a\udc00b"], ['"\\udfff\\ud800"', "\udfff\ud800"],
    ["1 MB string", mega], ["1 MB string ending in a lone surrogate", mega + "\ud83d"], ["1 MB of \\u0000", "\u0000".repeat(1 << 20)],
    ['"not-a-uuid"', "not-a-uuid"], ['"Dog.Registered"', "Dog.Registered"], ['"a.b"', "a.b"], ['"__proto__"', "__proto__"], ['"constructor"', "constructor"],
    ['"toString"', "toString"], ['"hasOwnProperty"', "hasOwnProperty"], ['"1,10"', "1,10"], ['"0,10"', "0,10"], ['"-1,5"', "-1,5"], ['"1,x"', "1,x"], ['"1;10"', "1;10"],
    ['"1,18446744073709551616"', "1,18446744073709551616"], ['"1.5,10"', "1.5,10"], ['"1e2,10"', "1e2,10"], ['"1,10,3"', "1,10,3"], ['"０,１"', "１,１０"],
    ["nil uuid", "00000000-0000-0000-0000-000000000000"], ["uuid + space", `${uuid} `], ["space + uuid", ` ${uuid}`],
    ["uuid with a misplaced dash", `${uuid.slice(0, 7)}-${uuid.slice(7, 8)}${uuid.slice(9)}`], ["uuid with 'g'", `${uuid.slice(0, 35)}g`],
    ["uuid, one digit short", uuid.slice(0, 35)], ["uuid, one digit long", `${uuid}0`], ["uuid with dashes doubled", uuid.replaceAll("-", "--")],
    ["uuid with a \\u0000", `${uuid}\u0000`], ["uuid in fullwidth digits", uuid.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))],
    ['"URN:UUID:" + uuid', `URN:UUID:${uuid}`], ["uuid with underscores", uuid.replaceAll("-", "_")], ["uuid in parentheses", `(${uuid})`],
    ["[]", []], ["[1,,3]", [1, , 3]], ["new Array(5)", new Array(5)], ["array of length 2**32-1", sparseHuge],
    ["Proxy of an array claiming 2**32-1 zeros", lying], ["{ trick: a Proxy claiming 2**32-1 zeros }", { trick: lying }], ["{ trick: a Proxy claiming 2**22 zeros } (one item too many, with its key)", { trick: claimingJustTooMany }], ["[undefined]", [undefined]], ["[Symbol()]", [Symbol("s")]],
    ['["Dog.TrickAdded", 1]', ["Dog.TrickAdded", 1]], ['[""]', [""]], ['["\\ud800"]', ["\ud800"]], ["[[\"a\"]]", [["a"]]],
    ["{}", {}], ["Object.create(null)", Object.create(null)], ["{ a: 1 }", { a: 1 }],
    ["{ get x() { throw } }", { get x() { throw new Error("getter"); } }], ["{ get trick() { throw TypeError } }", { get trick() { throw new TypeError("getter"); } }],
    ["a getter throwing a revoked proxy", deepGetter],
    ["Proxy: every trap throws", trapAll({})], ["Proxy: every trap throws TypeError", trapAll({}, TypeError)], ["Proxy of an array: every trap throws", trapAll([])],
    ["revoked Proxy", revoked()], ["revoked Proxy of an array", revoked([])], ["revoked Proxy of a function", revoked(() => {})],
    ["Proxy: ownKeys throws", new Proxy({ trick: "x" }, { ownKeys: throwing() })], ["Proxy: getPrototypeOf throws", new Proxy({}, { getPrototypeOf: throwing() })],
    ["Proxy: Array.prototype on an object", new Proxy({}, { getPrototypeOf: () => Array.prototype })], ["Proxy: get throws", new Proxy({ a: 1 }, { get: throwing() })],
    ["Proxy: Date.prototype on an object", new Proxy({}, { getPrototypeOf: () => Date.prototype })],
    ["cyclic object", cyclic], ["cyclic array", cyclicArray],
    ["object nested 10,000 deep", nested(10000, {}, (v) => ({ a: v }))], ["array nested 10,000 deep", nested(10000, [], (v) => [v])],
    ["object nested 101 deep", nested(100, {}, (v) => ({ a: v }))], ["data nested 101 deep", nested(100, { trick: "x" }, (v) => ({ trick: v }))],
    ["() => {}", () => {}], ["async function", async function f() {}], ["class", class Foo {}], ["Math.max", Math.max], ["bound function", function () {}.bind(null)],
    ["function with an id", Object.assign(() => {}, { id: uuid, expectedVersion: 1 })], ["function*", function* g() {}],
    ["new Date()", new Date()], ["new Date(NaN)", new Date(NaN)], ["Object.create(Date.prototype)", Object.create(Date.prototype)], ["new Date(8.64e15)", new Date(8.64e15)],
    ["new Uint8Array(4)", new Uint8Array(4)], ["new Float64Array([NaN])", new Float64Array([NaN])], ["new ArrayBuffer(8)", new ArrayBuffer(8)], ["DataView", new DataView(new ArrayBuffer(2))],
    ["new Map", new Map([["trick", "x"]])], ["new Set", new Set([1])], ["new WeakMap", new WeakMap()], ["new Point()", new Point()],
    ["Object.freeze({ a: 1 })", Object.freeze({ a: 1 })], ["Object.freeze([])", Object.freeze([])], ["Object.seal({ trick: 1n })", Object.seal({ trick: 1n })],
    ['JSON.parse({"__proto__": {"x": 1}})', JSON.parse('{"__proto__": {"x": 1}}')], ["{ constructor: 1 }", { constructor: 1 }], ['{ ["__proto__"]: null }', { ["__proto__"]: null }],
    ["{ toString() { throw } }", { toString: throwing(), valueOf: throwing(), [Symbol.toPrimitive]: throwing() }],
    ['new String("x")', new String("x")], ["new Number(1)", new Number(1)], ["new Boolean(false)", new Boolean(false)], ["Object(1n)", Object(1n)], ["Object(Symbol())", Object(Symbol("o"))],
    ["/regex/", /regex/], ["new Error", new Error("e")], ["Promise.resolve()", Promise.resolve()], ["{ then() { throw } }", { then: throwing() }],
    ["arguments", args], ["globalThis", globalThis], ["document.body", document.body], ["symbol-keyed object", symbolKeyed],
    ["{ timestamp: 1 }", { timestamp: 1 }], ["{ originator_id: 1 }", { originator_id: 1 }], ["{ trick: NaN }", { trick: NaN }], ["{ trick: undefined }", { trick: undefined }],
    ["{ trick: [1,,2] }", { trick: [1, , 2] }], ['{ "\\ud800": 1 }', { "\ud800": 1 }], ["{ trick: \"\\udc00\" }", { trick: "\udc00" }], ["{ trick: new Date() }", { trick: new Date() }],
    ["Application.prototype", Application.prototype], ["Object.create(Application.prototype)", Object.create(Application.prototype)],
    ["View.prototype", View.prototype], ["tributary module", tributary],
  ];
  return pool;
}

// ---------------------------------------------------------------- what each argument accepts

const HYPHENATED = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The forms the core's UUID parser takes (as Python's `UUID()`): simple, hyphenated, braced, urn; any case. */
const UUID = new RegExp(`^(?:[0-9a-f]{32}|${HYPHENATED}|\\{${HYPHENATED}\\}|urn:uuid:${HYPHENATED})$`, "i");

export const accepts = {
  anything: () => true,
  text: (v) => typeof v === "string" && v.isWellFormed(),
  name: (v) => accepts.text(v) && v !== "",
  whole: (min, max = MAX_SAFE) => (v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max,
  function: (v) => typeof v === "function",
  oneOf: (...values) => (v) => values.includes(v),
  /** A UUID as the core parses it: hyphenated, simple, braced or urn, any case. */
  anyUuid: (v) => typeof v === "string" && UUID.test(v),
  /** An aggregate id: a UUID, not the nil one. */
  id: (v) => accepts.anyUuid(v) && !/^0{32}$/.test(v.replace(/^urn:uuid:/i, "").replace(/[-{}]/g, "")),
  names: (v) => everyItem(v, accepts.name),
  plain: (v) => safely(() => isPlain(v)),
  json: (v) => safely(() => isJson(v, 0, { items: MAX_ITEMS })),
  /** Event data: a plain JSON object without the keys the event's own fields use. */
  data: (v) => accepts.plain(v) && accepts.json(v) && !["timestamp", "class_version", "originator_id", "originator_version"].some((key) => Object.hasOwn(v, key)),
  date: (v) => safely(() => v instanceof Date && !Number.isNaN(v.getTime())),
  /** An options object: `undefined`, or a plain object of known keys, each absent or accepted. */
  options: (spec, also = () => true) => (v) =>
    v === undefined ||
    safely(() => isPlain(v) && Object.keys(v).every((key) => Object.hasOwn(spec, key)) && Object.entries(spec).every(([key, ok]) => {
      const value = v[key];
      return value === undefined || ok(value);
    }) && also(v)),
  section: (v) => {
    const match = typeof v === "string" && /^\s*\+?([0-9]+)\s*,\s*\+?([0-9]+)\s*$/.exec(v);
    return !!match && BigInt(match[1]) >= 1n && BigInt(match[1]) < 2n ** 64n && BigInt(match[2]) < 2n ** 64n;
  },
};

/** An array whose every item (no holes) is `ok`; stops at the first that is not. */
export function everyItem(v, ok) {
  return safely(() => {
    if (!Array.isArray(v) || v.length > MAX_ITEMS) return false;
    for (let i = 0; i < v.length; i++) if (!(i in v) || !ok(v[i])) return false;
    return true;
  });
}

export function isPlain(v) {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const prototype = Object.getPrototypeOf(v);
  return prototype === null || prototype === Object.prototype;
}

/** Plain JSON as the core takes it: no holes, non-finite numbers, ill-formed strings, class instances; at most 100 levels and `left.items` items. */
function isJson(v, depth, left) {
  switch (typeof v) {
    case "string": return v.isWellFormed();
    case "number": return Number.isFinite(v);
    case "boolean": return true;
    case "object": break;
    default: return false;
  }
  if (v === null) return true;
  if (depth >= 100) return false;
  if (Array.isArray(v)) {
    if ((left.items -= v.length) < 0) return false;
    for (let i = 0; i < v.length; i++) if (!(i in v) || !isJson(v[i], depth + 1, left)) return false;
    return true;
  }
  if (!isPlain(v)) return false;
  const keys = Object.keys(v);
  if ((left.items -= keys.length) < 0) return false;
  return keys.every((key) => key.isWellFormed() && isJson(v[key], depth + 1, left));
}
