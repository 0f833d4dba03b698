// Hostile inputs over every public method, generated from a seed (printed;
// HOSTILE_SEED=<n> replays it): each call with at least one wrong argument must
// throw or reject with a ValidationError within 5 s, never a TypeError, an
// InternalError or a hang; nothing may be written, and the application must
// work afterwards. Tricky values that are valid must then work as documented.
// HOSTILE_SHOW=<n> lists up to n failing calls (default 40).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

const seed = Number(process.env.HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 32));
/** Rounds over every method: about 4,400 calls. */
const ROUNDS = 150;

test(`every public method refuses wrong arguments with a ValidationError, writes nothing, and works afterwards (HOSTILE_SEED=${seed})`, { timeout: 120_000 }, async (t) => {
  t.diagnostic(`HOSTILE_SEED=${seed}`);
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([seed, rounds]) => {
    const { random, open, written, barrage, extraArguments } = await import("/test/hostile.js");
    const ctx = await open({ rng: random(seed) });
    const { id } = await ctx.app.create("Dog", "Registered", { name: "Fido" });
    ctx.dogId = id;
    let last;
    for (const trick of ["sit", "beg", "sit"]) last = (await ctx.app.record("Dog", id, "TrickAdded", { trick })).notificationId;
    await ctx.view.wait(last);
    await ctx.follower.wait(last);
    const held = await ctx.writing;
    ctx.writer = held.writer;
    const before = await written(ctx);
    const started = performance.now();
    let internal = 0;
    const result = await barrage(ctx, rounds, { onInternal: async () => (internal++, await open(ctx), (ctx.writer = (await ctx.writing).writer)) });
    const extra = await extraArguments(ctx);
    const ms = performance.now() - started;
    held.release();
    await ctx.held.wait(1, { timeoutMs: 5000 });
    // the writer once its handle call has ended: refuses, rather than change nothing
    const stale = [];
    for (const use of [() => ctx.writer.put("late", 1), () => ctx.writer.delete("late"), () => ctx.writer.get("late")]) {
      stale.push(await Promise.resolve().then(use).then(() => "worked", (e) => e.name));
    }
    const after = await written(ctx).catch((error) => `${error.name}: ${error.message}`);
    if (typeof after === "string") return { ...result, extra, before, after, internal, ms, stale };
    // still works: a valid record reaches the view and the follower
    const { notificationId } = await ctx.app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await ctx.view.wait(notificationId, { timeoutMs: 5000 });
    await ctx.follower.wait(notificationId, { timeoutMs: 5000 });
    const usable = {
      tricks: (await ctx.app.get("Dog", id)).state.tricks,
      sit: await ctx.view.get("sit"),
      counted: (await ctx.counters.get("Counter", ctx.counters.idFor("Counter", "sit"))).state,
      viewStatus: ctx.view.status(),
    };
    return { ...result, extra, before, after, usable, internal, ms, stale };
  }, [seed, ROUNDS]);
  await close();

  console.log(`hostile barrage: ${out.calls} calls with wrong arguments, and ${out.extra.calls} with extra ones, in ${(out.ms / 1000).toFixed(1)} s (seed ${seed})`);
  console.table(out.counts);
  const shown = out.failures.slice(0, Number(process.env.HOSTILE_SHOW ?? 40)).map((f) => `${f.method}(${f.args.join(", ")}) ${f.how}${f.name ? ` ${f.name}: ${f.message}` : ""}`);
  assert.equal(out.failures.length, 0, `${out.failures.length} calls went wrong (HOSTILE_SEED=${seed}):\n${shown.join("\n")}`);
  assert.equal(out.internal, 0, "no panic");
  assert.deepEqual(out.extra.changed, [], "methods without arguments ignore extra ones");
  assert.equal(typeof out.after, "object", `reading back after the barrage: ${out.after}`);
  assert.ok(out.calls >= 1500, `${out.calls} calls`);
  assert.deepEqual(out.after, out.before, "nothing was written");
  assert.deepEqual(out.stale, ["ValidationError", "ValidationError", "ValidationError"], "a writer used after its handle call");
  assert.deepEqual(out.usable.tricks, ["sit", "beg", "sit", "sit"]);
  assert.deepEqual(out.usable.sit, { count: 3 });
  assert.deepEqual(out.usable.counted, { count: 3 });
  assert.equal(out.usable.viewStatus.state, "idle");
});

test("odd but valid inputs work as documented: UUID forms, frozen, null-prototype and proxied objects, __proto__ keys, -0, getters read once", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("odd");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const hex = id.replaceAll("-", "");
    const forms = [id.toUpperCase(), hex, hex.toUpperCase(), `{${id}}`, `urn:uuid:${id}`, `URN:UUID:${id.toUpperCase()}`];
    const sameDog = [];
    for (const form of forms) sameDog.push([(await app.get("Dog", form)).id, (await app.history(form)).length]);
    // data that is plain JSON however it was made: stored as JSON.stringify sees it, keys in order
    let reads = 0;
    const data = [
      Object.freeze({ trick: "frozen", nested: Object.freeze([1, { a: 2 }]) }),
      Object.assign(Object.create(null), { trick: "null prototype", z: 1, a: 2 }),
      JSON.parse('{"trick": "own __proto__ key", "__proto__": {"polluted": true}, "constructor": 1}'),
      new Proxy({ trick: "proxied", list: [1, 2] }, {}),
      { get trick() { reads++; return "getter"; } },
      { trick: "symbol keys are skipped, as JSON.stringify does", [Symbol("s")]: 1 },
    ];
    const stored = [];
    for (const item of data) {
      await app.record("Dog", id, "TrickAdded", item);
      const event = (await app.history(id)).at(-1).data;
      stored.push({ keys: Object.keys(event), json: JSON.stringify(event), ownProto: Object.hasOwn(event, "__proto__"), prototypeIntact: Object.getPrototypeOf(event) === Object.prototype });
    }
    const readsByCore = reads;
    const expected = data.map((item) => ({ keys: Object.keys(JSON.parse(JSON.stringify(item))), json: JSON.stringify(item) }));
    const polluted = {}.polluted;
    // options objects made other ways
    const options = [
      await app.get("Dog", id, Object.assign(Object.create(null), { version: 1 })).then((d) => d.version),
      await app.get("Dog", id, Object.freeze({ version: 2 })).then((d) => d.version),
      await app.get("Dog", id, new Proxy({ version: 3 }, {})).then((d) => d.version),
      await app.record("Dog", crypto.randomUUID(), "Registered", { name: "Rex" }, { expectedVersion: -0 }).then((r) => r.version),
    ];
    const head = await app.maxNotificationId();
    const empty = await app.recordMany([]);
    const headAfterEmpty = await app.maxNotificationId();
    // a definition whose getter answers differently each time: the core reads it once
    let answers = 0;
    app.defineAggregate("Cat", { initial: () => ({ n: 0 }), get apply() { return answers++ === 0 ? { Meowed: (s) => ({ n: s.n + 1 }) } : undefined; } });
    const { id: cat } = await app.create("Cat", "Meowed", {});
    const catState = (await app.get("Cat", cat)).state;
    // dates a JavaScript Date holds but a timestamp of the log does not (after year 9999)
    const farDates = [await caught(() => app.get("Dog", id, { at: new Date(8.64e15) })), await caught(() => app.get("Dog", id, { at: new Date(-8.64e15) }))];
    // after close: storage errors, nothing else
    const view = app.defineView("rows", { handle() {} });
    app.close();
    const closed = {
      create: await caught(() => app.create("Dog", "Registered", { name: "x" })),
      record: await caught(() => app.record("Dog", id, "TrickAdded", { trick: "x" })),
      recordMany: await caught(() => app.recordMany([{ aggregate: "Dog", event: "Registered", data: { name: "x" } }])),
      get: await caught(() => app.get("Dog", id)),
      history: await caught(() => app.history(id)),
      notifications: await caught(() => app.notifications()),
      section: await caught(() => app.notificationLog.section("1,10")),
      takeSnapshot: await caught(() => app.takeSnapshot("Dog", id)),
      maxNotificationId: await caught(() => app.maxNotificationId()),
      defineAggregate: await caught(() => app.defineAggregate("Bird", { initial: () => ({}), apply: { Sang: (s) => s } })),
      defineView: await caught(() => app.defineView("other", { handle() {} })),
      sync: await caught(() => app.sync({ url: "http://127.0.0.1:9/t/a" })),
      viewGet: await caught(() => view.get("x")),
      viewQuery: await caught(() => view.query()),
      viewWait: await caught(() => view.wait(1)),
    };
    return { sameDog, id, stored, expected, polluted, readsByCore, options, head, empty, headAfterEmpty, catState, farDates, closed, idFor: app.idFor("Dog", "x") };
  });
  await close();
  assert.deepEqual(out.sameDog, Array(6).fill([out.id, 1]), "every UUID form the core parses (as Python's UUID() does) names the same aggregate");
  assert.deepEqual(out.stored.map(({ keys, json }) => ({ keys, json })), out.expected);
  assert.ok(out.stored.every((s) => s.prototypeIntact), "a __proto__ key stays a key");
  assert.equal(out.stored[2].ownProto, true);
  assert.equal(out.polluted, undefined, "nothing reached Object.prototype");
  assert.equal(out.readsByCore, 1, "a getter is read once on the way in");
  assert.deepEqual(out.options, [1, 2, 3, 1]);
  assert.deepEqual(out.empty, []);
  assert.equal(out.headAfterEmpty, out.head, "an empty recordMany writes nothing");
  assert.deepEqual(out.catState, { n: 1 }, "the apply read once is the apply used");
  for (const error of out.farDates) assert.equal(error?.name, "ValidationError", JSON.stringify(error));
  for (const [method, error] of Object.entries(out.closed)) {
    assert.equal(error?.name, "StorageError", `${method}: ${JSON.stringify(error)}`);
    assert.match(error.message, /closed/);
  }
  assert.match(out.idFor, /^[0-9a-f-]{36}$/, "idFor needs no storage");
});
