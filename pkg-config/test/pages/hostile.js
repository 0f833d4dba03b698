// Hostile inputs for every public method of the package, generated from a seed:
// wrong values of every JavaScript type, and the predicates that say which
// inputs each argument accepts (as the README and the core's checks document
// them), so that a barrage holds only calls with at least one wrong argument.
import * as tributary from "tributary";
import { random } from "./random.js";

const { openApplication, Application, View, TributaryError, InternalError } = tributary;
const MAX_SAFE = 2 ** 53 - 1;

// ---------------------------------------------------------------- the values

/** Calls `f`, false if it throws: predicates must survive what they look at. */
const safely = (f) => {
  try {
    return f();
  } catch {
    return false;
  }
};

const throwing = (kind = Error) => () => {
  throw new kind("hostile trap");
};
const trapAll = (target, kind) =>
  new Proxy(target, Object.fromEntries(["get", "has", "ownKeys", "getPrototypeOf", "getOwnPropertyDescriptor", "apply", "construct", "set", "defineProperty", "deleteProperty", "isExtensible", "preventExtensions", "setPrototypeOf"].map((trap) => [trap, throwing(kind)])));
const revoked = (target = {}) => {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
};
const nested = (depth, leaf, wrap) => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

class Point {
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
    ["[]", []], ["[1,,3]", [1, , 3]], ["new Array(5)", new Array(5)], ["array of length 2**32-1", sparseHuge], ["[undefined]", [undefined]], ["[Symbol()]", [Symbol("s")]],
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
  json: (v) => safely(() => isJson(v, 0)),
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
function everyItem(v, ok) {
  return safely(() => {
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (!(i in v) || !ok(v[i])) return false;
    return true;
  });
}

function isPlain(v) {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const prototype = Object.getPrototypeOf(v);
  return prototype === null || prototype === Object.prototype;
}

/** Plain JSON as the core takes it: no holes, non-finite numbers, ill-formed strings, class instances; at most 100 levels. */
function isJson(v, depth) {
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
    for (let i = 0; i < v.length; i++) if (!(i in v) || !isJson(v[i], depth + 1)) return false;
    return true;
  }
  return isPlain(v) && Object.keys(v).every((key) => key.isWellFormed() && isJson(v[key], depth + 1));
}

// ---------------------------------------------------------------- the application under attack

/**
 * Opens (again, after an InternalError) what the barrage calls: the dog school
 * with a trick-count view, a view whose handler always fails, a follower that
 * counts tricks in another application, and a sync to a server nobody runs.
 */
export async function open(ctx) {
  ctx.app = (await openApplication("hostile")).defineAggregate("Dog", {
    initial: () => ({ name: "", tricks: [] }),
    apply: {
      Registered: (state, e) => ({ ...state, name: e.name }),
      TrickAdded: (state, e) => ({ ...state, tricks: [...state.tricks, e.trick] }),
    },
  });
  ctx.view = ctx.app.defineView("tricks", {
    topics: ["Dog.TrickAdded"],
    indexes: ["count"],
    handle: async (event, view) => view.put(event.data.trick, { count: ((await view.get(event.data.trick))?.count ?? 0) + 1 }),
  });
  ctx.broken = ctx.app.defineView("broken", { handle: () => { throw new Error("this view fails on purpose"); } });
  // a handler that holds its batch open until released, so the barrage can use its writer
  ctx.writing = new Promise((writing) => {
    ctx.held = ctx.app.defineView("held", {
      topics: ["Dog.Registered"],
      handle: (event, writer) => new Promise((release) => writing({ writer, release })),
    });
  });
  ctx.counters = (await openApplication("hostile-counters")).defineAggregate("Counter", { initial: () => ({ count: 0 }), apply: { Incremented: (s) => ({ count: s.count + 1 }) } });
  ctx.follower = ctx.counters.follow(ctx.app, {
    topics: ["Dog.TrickAdded"],
    policy: (event, app) => [{ aggregate: "Counter", id: app.idFor("Counter", event.data.trick), event: "Incremented", data: {} }],
  });
  ctx.sync = ctx.app.sync({ url: "http://127.0.0.1:9/t/app" });
  return ctx;
}

/** Everything the barrage must leave as it was. */
export async function written(ctx) {
  return {
    head: await ctx.app.maxNotificationId(),
    countersHead: await ctx.counters.maxNotificationId(),
    dog: await ctx.app.get("Dog", ctx.dogId).then((d) => ({ ...d, createdOn: d.createdOn.toISOString(), modifiedOn: d.modifiedOn.toISOString() })),
    history: (await ctx.app.history(ctx.dogId)).map((e) => ({ ...e, timestamp: e.timestamp.toISOString() })),
    notifications: (await ctx.app.notifications({ limit: 10_000 })).map((n) => ({ ...n, timestamp: n.timestamp.toISOString() })),
    rows: await ctx.view.all(),
    heldRows: await ctx.held.all(),
    aggregates: ctx.app.aggregates(),
    counterAggregates: ctx.counters.aggregates(),
    views: ["tricks", "broken", "hostile-view"].map((name) => safely(() => ctx.app.view(name).name)),
    databases: (await indexedDB.databases()).map((d) => d.name).sort(),
    conflicts: await ctx.sync.conflicts(),
  };
}

// ---------------------------------------------------------------- the methods

const definition = () => ({ initial: () => ({ n: 0 }), apply: { Happened: (s) => s } });
const events = ["Registered", "TrickAdded"];
const WHOLE0 = accepts.whole(0);
const aggregateDefinition = (v) => safely(() => {
  if (!accepts.options({ initial: accepts.function, apply: accepts.anything, schemaVersion: accepts.whole(1, 2 ** 32 - 1), eventVersions: accepts.anything, upcasters: accepts.anything })(v) || v === undefined) return false;
  if (typeof v.initial !== "function" || !isPlain(v.apply)) return false;
  const names = Object.keys(v.apply);
  if (names.length === 0 || !names.every((n) => n.isWellFormed() && n !== "" && !n.includes(".") && typeof v.apply[n] === "function")) return false;
  const versions = Object.fromEntries(names.map((n) => [n, 1]));
  if (v.eventVersions !== undefined) {
    if (!isPlain(v.eventVersions)) return false;
    for (const [event, version] of Object.entries(v.eventVersions)) {
      if (!names.includes(event) || !(version === undefined || accepts.whole(1, 2 ** 32 - 1)(version))) return false;
      versions[event] = version ?? 1;
    }
  }
  if (v.upcasters !== undefined) {
    if (!isPlain(v.upcasters)) return false;
    for (const [event, byVersion] of Object.entries(v.upcasters)) {
      const current = event === "snapshot" ? (v.schemaVersion ?? 1) : versions[event];
      if (current === undefined || !isPlain(byVersion)) return false;
      for (const [from, upcast] of Object.entries(byVersion)) {
        if (!/^[0-9]+$/.test(from) || Number(from) < 1 || Number(from) >= current || typeof upcast !== "function") return false;
      }
    }
  }
  return true;
});
const viewDefinition = (same) => (v) => accepts.options({ topics: accepts.names, indexes: accepts.names, handle: accepts.function })(v) && v !== undefined && safely(() =>
  typeof v.handle === "function" && (!same || (JSON.stringify(v.topics ?? []) === JSON.stringify(same.topics) && JSON.stringify(v.indexes ?? []) === JSON.stringify(same.indexes))));
/** `{ topics?, policy }` of the follower that exists, so with its topics. */
const followDefinition = (same) => (v) => accepts.options({ topics: accepts.names, policy: accepts.function })(v) && v !== undefined && safely(() =>
  typeof v.policy === "function" && JSON.stringify(v.topics ?? []) === JSON.stringify(same.topics));
const syncUrl = (v) => {
  if (!accepts.name(v)) return false;
  const url = v.replace(/\/+$/, "");
  const rest = url.startsWith("http://") ? url.slice(7) : url.startsWith("https://") ? url.slice(8) : null;
  return rest !== null && rest !== "" && !/[?# ]/.test(rest);
};
const finiteOrText = (v) => (typeof v === "number" && Number.isFinite(v)) || accepts.text(v);

/**
 * Every public method, with what each argument accepts (`ok`), a valid value
 * for it (`good`), and values that are wrong in the ways that argument can be
 * (`bad`, checked against `ok`). `sync` methods throw; the others reject.
 */
export function methods(ctx) {
  const uuid = () => crypto.randomUUID();
  const request = () => ({ aggregate: "Dog", id: ctx.dogId, event: "TrickAdded", data: { trick: "x" } });
  const opt = (spec, good, also) => ({ ok: accepts.options(spec, also), good, bad: [] });
  const arg = (ok, good, bad = []) => ({ ok, good, bad });
  const options = {
    open: opt({ storage: accepts.oneOf("memory", "indexeddb"), snapshotEvery: (v) => accepts.plain(v) && Object.keys(v).every((k) => k.isWellFormed() && accepts.whole(1)(v[k])), keepSnapshots: accepts.whole(1), sectionSize: accepts.whole(1) }, () => ({ storage: "memory" })),
    create: opt({ id: accepts.id }, () => ({ id: uuid() })),
    record: opt({ expectedVersion: WHOLE0 }, () => undefined),
    get: opt({ version: accepts.whole(1), at: accepts.date }, () => ({ version: 1 }), (v) => v.version === undefined || v.at === undefined),
    notifications: opt({ after: WHOLE0, limit: accepts.whole(0, 10_000), topics: accepts.names, upTo: WHOLE0 }, () => ({ after: 0, limit: 5, topics: ["Dog.TrickAdded"] })),
    query: opt({ index: accepts.oneOf("count"), gt: finiteOrText, gte: finiteOrText, lt: finiteOrText, lte: finiteOrText, limit: WHOLE0 }, () => ({ index: "count", gte: 1 }),
      (v) => v.index !== undefined || ["gt", "gte", "lt", "lte"].every((k) => v[k] === undefined)),
    wait: opt({ timeoutMs: WHOLE0 }, () => ({ timeoutMs: 10 })),
    subscribe: opt({ key: accepts.text }, () => ({ key: "sit" })),
    rebuild: opt({ onProgress: accepts.function }, () => ({ onProgress: () => {} })),
    sync: opt({ url: syncUrl, token: accepts.text, push: (v) => typeof v === "boolean", batch: accepts.whole(1, 10_000), onConflict: accepts.oneOf("keep", "rebase") },
      () => ({ url: "http://127.0.0.1:9/t/app" }), (v) => v.url !== undefined),
  };
  options.sync.ok = ((ok) => (v) => v !== undefined && ok(v))(options.sync.ok);
  const requests = arg((v) => everyItem(v, (item) => recordRequest(item)), () => [request()]);
  const recordRequest = accepts.options({ aggregate: (v) => v === "Dog", id: accepts.id, event: (v) => events.includes(v), data: accepts.data, expectedVersion: WHOLE0 },
    (v) => v.aggregate !== undefined && v.event !== undefined && v.data !== undefined);
  const dog = arg((v) => v === "Dog", () => "Dog", ["Cat", "dog", "Dog ", "Dog.Registered"]);
  const event = arg((v) => events.includes(v), () => "TrickAdded", ["Barked", "registered", "TrickAdded.x", "Dog.TrickAdded"]);
  const id = arg(accepts.id, () => ctx.dogId);
  const data = arg(accepts.data, () => ({ trick: "x" }));
  const leader = arg((v) => v === ctx.app || v === ctx.counters, () => ctx.app, [new Proxy(ctx.app, {}), Object.create(ctx.app)]);
  const listener = arg(accepts.function, () => () => {});
  const tricks = { topics: ["Dog.TrickAdded"], indexes: ["count"] };
  const following = { topics: ["Dog.TrickAdded"] };
  const section = arg(accepts.section, () => "1,10");
  return {
    openApplication: { args: [arg(accepts.name, () => "hostile-open"), options.open], call: (...a) => openApplication(...a) },
    "app.defineAggregate": { sync: true, args: [arg((v) => accepts.name(v) && !v.includes("."), () => ctx.rng.pick(["Cat", "Dog"]), ["a.b"]), arg(aggregateDefinition, definition)], call: (...a) => ctx.app.defineAggregate(...a) },
    "app.create": { args: [dog, event, data, options.create], call: (...a) => ctx.app.create(...a) },
    "app.record": { args: [dog, id, event, data, options.record], call: (...a) => ctx.app.record(...a) },
    "app.recordMany": { args: [requests], call: (...a) => ctx.app.recordMany(...a) },
    "app.get": { args: [dog, id, options.get], call: (...a) => ctx.app.get(...a) },
    "app.history": { args: [id], call: (...a) => ctx.app.history(...a) },
    "app.notifications": { args: [options.notifications], call: (...a) => ctx.app.notifications(...a) },
    "app.notificationLog.section": { args: [section], call: (...a) => ctx.app.notificationLog.section(...a) },
    "app.notificationLog.sectionJson": { args: [section], call: (...a) => ctx.app.notificationLog.sectionJson(...a) },
    "app.takeSnapshot": { args: [dog, id], call: (...a) => ctx.app.takeSnapshot(...a) },
    "app.idFor": { sync: true, args: [arg(accepts.name, () => "Dog"), arg(accepts.text, () => "Fido")], call: (...a) => ctx.app.idFor(...a) },
    "app.defineView": { sync: true, args: [arg((v) => accepts.name(v) && !v.startsWith("\u0000"), () => "hostile-view"), arg(viewDefinition(), () => ({ handle() {} }))], call: (...a) => ctx.app.defineView(...a) },
    "app.defineView (again)": { sync: true, args: [arg(viewDefinition(tricks), () => ({ ...tricks, handle() {} }), [{ handle() {} }, { ...tricks, indexes: [] }, { ...tricks, topics: ["Dog.Registered"], handle() {} }])], call: (...a) => ctx.app.defineView("tricks", ...a) },
    "app.view": { sync: true, args: [arg((v) => v === "tricks" || v === "broken", () => "tricks", ["hostile-view", "Tricks"])], call: (...a) => ctx.app.view(...a) },
    "app.follow": { sync: true, args: [leader, arg(followDefinition(following), () => ({ ...following, policy: () => [] }), [{ policy() {} }, { topics: [], policy() {} }])], call: (...a) => ctx.counters.follow(...a) },
    "app.sync": { sync: true, args: [options.sync], call: (...a) => ctx.app.sync(...a) },
    "view.get": { args: [arg(accepts.text, () => "sit")], call: (...a) => ctx.view.get(...a) },
    "view.query": { args: [options.query], call: (...a) => ctx.view.query(...a) },
    "view.wait": { args: [arg(WHOLE0, () => 1), options.wait], call: (...a) => ctx.view.wait(...a) },
    "view.wait (failed view)": { args: [arg(WHOLE0, () => 1), options.wait], call: (...a) => ctx.broken.wait(...a) },
    "view.subscribe": { sync: true, args: [listener, options.subscribe], call: (...a) => ctx.view.subscribe(...a) },
    "view.rebuild": { args: [options.rebuild], call: (...a) => ctx.view.rebuild(...a) },
    "follower.wait": { args: [arg(WHOLE0, () => 1), options.wait], call: (...a) => ctx.follower.wait(...a) },
    "writer.get": { args: [arg(accepts.text, () => "k")], call: (...a) => ctx.writer.get(...a) },
    "writer.put": { sync: true, args: [arg((v) => accepts.text(v) && !v.startsWith("\u0000"), () => "k", ["\u0000k"]), arg(accepts.json, () => ({ n: 1 }))], call: (...a) => ctx.writer.put(...a) },
    "writer.delete": { sync: true, args: [arg((v) => accepts.text(v) && !v.startsWith("\u0000"), () => "k", ["\u0000k"])], call: (...a) => ctx.writer.delete(...a) },
    "sync.subscribe": { sync: true, args: [listener], call: (...a) => ctx.sync.subscribe(...a) },
    "sync.resolve": { args: [arg(accepts.anyUuid, uuid), arg(accepts.oneOf("rebase", "discard"), () => "discard", ["Rebase", "keep"])], call: (...a) => ctx.sync.resolve(...a) },
  };
}

/** The methods that take no arguments (and write nothing): extra ones must change nothing. */
export function withoutArguments(ctx) {
  return {
    "app.aggregates": (...a) => ctx.app.aggregates(...a),
    "app.maxNotificationId": (...a) => ctx.app.maxNotificationId(...a),
    "app.taskStatistics": (...a) => ctx.app.taskStatistics(...a),
    "view.all": (...a) => ctx.view.all(...a),
    "view.status": (...a) => ctx.view.status(...a),
    "follower.status": (...a) => ctx.follower.status(...a),
    "sync.status": (...a) => ctx.sync.status(...a),
    "sync.conflicts": (...a) => ctx.sync.conflicts(...a),
  };
}

/** Calls each method without arguments once with each hostile value: the answers must not change. */
export async function extraArguments(ctx) {
  const changed = [];
  let calls = 0;
  for (const [name, call] of Object.entries(withoutArguments(ctx))) {
    const plain = JSON.stringify(await call());
    for (const [label, value] of hostileValues()) {
      calls++;
      const answer = await Promise.resolve().then(() => call(value)).then((v) => JSON.stringify(v), (e) => `${e?.name}: ${e?.message}`);
      if (answer !== plain) changed.push(`${name}(${label}): ${answer.slice(0, 200)} instead of ${plain.slice(0, 200)}`);
    }
  }
  return { calls, changed };
}

// ---------------------------------------------------------------- wrong arguments

/** A value `ok` refuses: from the pool, from the argument's own near misses, or a valid value spoilt. */
function wrong(rng, slot) {
  for (let tries = 0; tries < 200; tries++) {
    const roll = rng.next();
    let candidate;
    if (roll < 0.5) candidate = rng.pick(hostileValues())[1];
    else if (roll < 0.65 && slot.bad.length > 0) candidate = rng.pick(slot.bad);
    else candidate = spoil(rng, slot);
    if (!slot.ok(candidate)) return candidate;
  }
  throw new Error("no wrong value found for an argument");
}

/** A valid value with one part wrong: an option, a key, a nested field, an item. */
function spoil(rng, slot) {
  const good = slot.good();
  const some = () => rng.pick(hostileValues())[1];
  if (Array.isArray(good)) {
    const copy = [...good];
    const item = rng.int(3);
    if (item === 0) copy.push(some());
    else if (item === 1) copy[0] = spoilObject(rng, copy[0], some);
    else copy.length += 1;
    return copy;
  }
  if (good === null || typeof good !== "object") return some();
  return spoilObject(rng, good, some);
}

function spoilObject(rng, good, some) {
  const copy = { ...good };
  const keys = Object.keys(copy);
  switch (rng.int(8)) {
    case 0: copy[rng.pick(["extra", "\ud800", "", "toString", "Id", "expectedversion"])] = 1; return copy;
    case 1: Object.defineProperty(copy, "__proto__", { value: 1, enumerable: true }); return copy;
    case 2: if (keys.length) Object.defineProperty(copy, rng.pick(keys), { get: throwing(), enumerable: true }); return copy;
    case 3: return Object.setPrototypeOf(copy, rng.pick([Date.prototype, Array.prototype, Map.prototype, Point.prototype]));
    case 4: return new Proxy(copy, { ownKeys: throwing() });
    case 5: if (keys.length) copy[rng.pick(keys)] = spoilNested(rng, copy[rng.pick(keys)], some); return copy;
    default: copy[keys.length ? rng.pick(keys) : "extra"] = some(); return copy;
  }
}

function spoilNested(rng, value, some) {
  if (typeof value === "function") return some();
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return spoilObject(rng, value, some);
  if (Array.isArray(value)) return [...value, some()];
  return some();
}

// ---------------------------------------------------------------- calling

const TIMEOUT = 5000;

/** What one call did: "resolved", "threw" or "rejected" (with the error's class), or "hung". */
async function outcome(method, args) {
  let pending;
  try {
    pending = method.call(...args);
    if (method.sync) return { how: "returned" };
    if (!(pending instanceof Promise)) return { how: "returned a non-promise" };
  } catch (error) {
    return { how: method.sync ? "threw" : "threw instead of rejecting", ...kind(error) };
  }
  let timer;
  const hung = new Promise((done) => (timer = setTimeout(() => done({ how: "hung" }), TIMEOUT)));
  try {
    return await Promise.race([pending.then(() => ({ how: "resolved" }), (error) => ({ how: "rejected", ...kind(error) })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

function kind(error) {
  const typed = safely(() => error instanceof TributaryError);
  return { name: safely(() => String(error?.name)) || typeof error, typed, internal: safely(() => error instanceof InternalError), message: safely(() => String(error?.message).slice(0, 300)) };
}

/** A short, never-throwing description of a value, for failure reports. */
export function show(value, depth = 0) {
  const label = hostileValues().find(([, v]) => Object.is(v, value))?.[0];
  if (label) return label;
  return safely(() => {
    switch (typeof value) {
      case "string": return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...(${value.length})` : value);
      case "bigint": return `${value}n`;
      case "symbol": return value.toString();
      case "function": return "a function";
      case "object": {
        if (value === null) return "null";
        if (depth > 2) return "...";
        if (Array.isArray(value)) return `[${Array.from({ length: Math.min(value.length, 5) }, (_, i) => (i in value ? show(value[i], depth + 1) : "<hole>")).join(", ")}]`;
        const prototype = Object.getPrototypeOf(value);
        const name = prototype === null || prototype === Object.prototype ? "" : `${prototype?.constructor?.name ?? "?"} `;
        return `${name}{ ${Object.keys(value).slice(0, 6).map((k) => `${JSON.stringify(k)}: ${show(Object.getOwnPropertyDescriptor(value, k)?.get ? "<getter>" : value[k], depth + 1)}`).join(", ")} }`;
      }
      default: return String(value);
    }
  }) || "<unprintable>";
}

/**
 * Calls each method `rounds` times with at least one wrong argument (each of
 * its arguments wrong with some chance), checking each outcome: a `sync`
 * method throws, the others reject, with a ValidationError (or its subclass
 * UnknownTopicError), within 5 s. Returns the counts per method and the failures.
 */
export async function barrage(ctx, rounds, { onInternal } = {}) {
  const counts = {};
  const failures = [];
  let calls = 0;
  for (let round = 0; round < rounds; round++) {
    for (const [name, method] of Object.entries(methods(ctx))) {
      const slots = method.args;
      const wrongAt = new Set([ctx.rng.int(slots.length)]);
      for (let i = 0; i < slots.length; i++) if (ctx.rng.chance(0.25)) wrongAt.add(i);
      const args = slots.map((slot, i) => (wrongAt.has(i) ? wrong(ctx.rng, slot) : slot.good()));
      if (ctx.rng.chance(0.05)) args.push(rng0(ctx)); // an extra argument changes nothing
      const out = await outcome(method, args);
      calls++;
      const count = (counts[name] ??= { calls: 0 });
      const key = out.name ?? out.how;
      count[key] = (count[key] ?? 0) + 1;
      count.calls++;
      const expected = method.sync ? "threw" : "rejected";
      const good = out.how === expected && out.typed && (out.name === "ValidationError" || out.name === "UnknownTopicError");
      if (!good) failures.push({ method: name, args: args.map((a) => show(a)), ...out });
      if (out.internal) await onInternal?.();
    }
  }
  return { calls, counts, failures };
}

const rng0 = (ctx) => ctx.rng.pick(hostileValues())[1];

export { random };
