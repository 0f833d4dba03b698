// Hostile calls of every public method of the package, generated from a seed
// out of hostile-values.js, so that a barrage holds only calls with at least one
// wrong argument; and the application they are made against.
import * as tributary from "tributary";
import { random } from "./random.js";
import { accepts, everyItem, hostileValues, isPlain, nested, Point, safely, throwing } from "./hostile-values.js";

const { openApplication, TributaryError, InternalError } = tributary;

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
    get: opt({ version: accepts.whole(0), at: accepts.date }, () => ({ version: 1 }), (v) => v.version === undefined || v.at === undefined),
    notifications: opt({ after: WHOLE0, limit: accepts.whole(0, 10_000), topics: accepts.names, upTo: WHOLE0 }, () => ({ after: 0, limit: 5, topics: ["Dog.TrickAdded"] })),
    query: opt({ index: accepts.oneOf("count"), gt: finiteOrText, gte: finiteOrText, lt: finiteOrText, lte: finiteOrText, limit: WHOLE0 }, () => ({ index: "count", gte: 1 }),
      (v) => v.index !== undefined || ["gt", "gte", "lt", "lte"].every((k) => v[k] === undefined)),
    wait: opt({ timeoutMs: WHOLE0 }, () => ({ timeoutMs: 10 })),
    subscribe: opt({ key: accepts.text }, () => ({ key: "sit" })),
    rebuild: opt({ onProgress: accepts.function }, () => ({ onProgress: () => {} })),
    sync: opt({ url: syncUrl, token: (v) => accepts.text(v) && !/[\0\r\n]|[^\0-\u00ff]/u.test(v), push: (v) => typeof v === "boolean", batch: accepts.whole(1, 10_000), onConflict: accepts.oneOf("keep", "rebase") },
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
