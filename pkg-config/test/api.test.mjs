// The npm package as published, driven in headless Chromium as a web app would
// use it: IndexedDB persistence, tabs, time travel, snapshots, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("create, record, recordMany, get, history and the notification log", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const created = await app.create("Dog", "Registered", { name: "Fido" });
    const recorded = await app.record("Dog", created.id, "TrickAdded", { trick: "roll over" }, { expectedVersion: 1 });
    const many = await app.recordMany([
      { aggregate: "Dog", event: "Registered", data: { name: "Rex" } },
      { aggregate: "Dog", id: created.id, event: "TrickAdded", data: { trick: "sit" } },
    ]);
    const dog = await app.get("Dog", created.id);
    const history = await app.history(created.id);
    const tricks = await app.notifications({ after: 0, limit: 100, topics: ["Dog.TrickAdded"] });
    const page2 = await app.notifications({ after: 2, limit: 1 });
    const out = {
      created, recorded, many,
      dog: { ...dog, createdOn: dog.createdOn instanceof Date, modifiedOn: dog.modifiedOn.getTime() >= dog.createdOn.getTime() },
      history: history.map((e) => [e.originatorVersion, e.type, e.data, e.timestamp instanceof Date]),
      tricks: tricks.map((n) => [n.notificationId, n.topic, n.aggregate, n.type, n.data.trick, n.originatorId === created.id]),
      page2: page2.map((n) => n.notificationId),
      section: await app.notificationLog.section("1,10"),
      json: await app.notificationLog.sectionJson("1,2"),
    };
    app.close();
    return out;
  });
  const { created } = out;
  assert.match(created.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual([created.version, created.notificationId], [1, 1]);
  assert.deepEqual(out.recorded, { version: 2, notificationId: 2 });
  assert.deepEqual(out.many.map((r) => [r.version, r.notificationId]), [[1, 3], [3, 4]]);
  assert.deepEqual(out.dog, { id: created.id, aggregate: "Dog", version: 3, state: { name: "Fido", tricks: ["roll over", "sit"] }, createdOn: true, modifiedOn: true });
  assert.deepEqual(out.history, [[1, "Registered", { name: "Fido" }, true], [2, "TrickAdded", { trick: "roll over" }, true], [3, "TrickAdded", { trick: "sit" }, true]]);
  assert.deepEqual(out.tricks, [[2, "Dog.TrickAdded", "Dog", "TrickAdded", "roll over", true], [4, "Dog.TrickAdded", "Dog", "TrickAdded", "sit", true]]);
  assert.deepEqual(out.page2, [3]);
  assert.equal(out.section.id, "1,4");
  assert.equal(out.section.next_id, null);
  assert.equal(out.section.items.length, 4);
  const hex = created.id.replaceAll("-", "");
  assert.ok(out.json.startsWith(`{"id": "1,2", "next_id": "3,4", "items": [{"id": 1, "originator_id": "${hex}", "originator_version": 1, "topic": "Dog.Registered", "state": "`), out.json);
  const state = JSON.parse(atob(out.section.items[1].state));
  assert.equal(state.trick, "roll over");
  assert.equal(state.timestamp._type_, "datetime_iso");
  await close();
});

test("everything is still there after a reload", async () => {
  const { pages: [page], close } = await tabs();
  const ids = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const ids = [];
    for (const name of ["Fido", "Rex", "Lassie"]) {
      const { id } = await app.create("Dog", "Registered", { name });
      await app.record("Dog", id, "TrickAdded", { trick: `${name}'s trick` });
      ids.push(id);
    }
    return ids;
  });
  await page.reload();
  const after = await page.evaluate(async (ids) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const dogs = await Promise.all(ids.map((id) => app.get("Dog", id)));
    const log = await app.notifications();
    const next = await app.create("Dog", "Registered", { name: "Max" });
    return { dogs: dogs.map((d) => [d.version, d.state.name, d.state.tricks]), log: log.map((n) => n.notificationId), next: next.notificationId };
  }, ids);
  assert.deepEqual(after.dogs, [[2, "Fido", ["Fido's trick"]], [2, "Rex", ["Rex's trick"]], [2, "Lassie", ["Lassie's trick"]]]);
  assert.deepEqual(after.log, [1, 2, 3, 4, 5, 6]);
  assert.equal(after.next, 7);
  await close();
});

test("two tabs see each other's events, and one of two records at the same version conflicts", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const id = await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    return (await app.create("Dog", "Registered", { name: "Fido" })).id;
  });
  const seen = await two.evaluate(async (id) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    return (await app.get("Dog", id)).state.name;
  }, id);
  assert.equal(seen, "Fido");
  // both tabs record version 2 at once
  const race = (page, trick) => page.evaluate(async ([id, trick]) => {
    const { caught } = await import("/test/dogschool.js");
    return caught(() => app.record("Dog", id, "TrickAdded", { trick }, { expectedVersion: 1 }));
  }, [id, trick]);
  const outcomes = await Promise.all([race(one, "sit"), race(two, "beg")]);
  const failures = outcomes.filter(Boolean);
  assert.equal(failures.length, 1, JSON.stringify(outcomes));
  assert.equal(failures[0].name, "ConflictError");
  assert.match(failures[0].message, /cannot take version 2 /);
  // both tabs append 25 events at once: all kept, ids gap-free
  const append = (page, tab) => page.evaluate(async ([id, tab]) => {
    for (let i = 0; i < 25; i++) await app.record("Dog", id, "TrickAdded", { trick: `${tab}${i}` });
  }, [id, tab]);
  await Promise.all([append(one, "a"), append(two, "b")]);
  const final = await one.evaluate(async (id) => ({ dog: await app.get("Dog", id), log: await app.notifications({ limit: 1000 }) }), id);
  assert.equal(final.dog.version, 52);
  assert.equal(final.dog.state.tricks.length, 51);
  assert.equal(new Set(final.dog.state.tricks).size, 51, "nothing doubled");
  assert.deepEqual(final.log.map((n) => n.notificationId), Array.from({ length: 52 }, (_, i) => i + 1));
  assert.deepEqual(final.log.map((n) => n.originatorVersion), Array.from({ length: 52 }, (_, i) => i + 1));
  await close();
});

test("two tabs recording on one aggregate without expectedVersion lose no acknowledged event: 2 × 300 in turn, then 2 × 100 at once", async () => {
  const { pages, close } = await tabs(2);
  const id = await pages[0].evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    return (await app.create("Dog", "Registered", { name: "Fido" })).id;
  });
  await pages[1].evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
  });
  const record = (page, tab, count, atOnce) => page.evaluate(async ([id, tab, count, atOnce]) => {
    const one = (i) => app.record("Dog", id, "TrickAdded", { trick: `${tab}${i}` }).then((r) => [r.version, r.notificationId]);
    if (atOnce) return Promise.all(Array.from({ length: count }, (_, i) => one(i)));
    const acknowledged = [];
    for (let i = 0; i < count; i++) acknowledged.push(await one(i));
    return acknowledged;
  }, [id, tab, count, atOnce]);
  const acknowledged = [];
  for (const [count, atOnce, prefix] of [[300, false, "turn"], [100, true, "once"]]) {
    const [a, b] = await Promise.all([record(pages[0], `${prefix}-a`, count, atOnce), record(pages[1], `${prefix}-b`, count, atOnce)]);
    acknowledged.push(...a, ...b);
  }
  const stored = await pages[1].evaluate(async (id) => ({ dog: await app.get("Dog", id), log: await app.notifications({ limit: 10_000 }) }), id);
  assert.equal(new Set(acknowledged.map(([version]) => version)).size, 800, "each acknowledged event its own version");
  assert.equal(new Set(acknowledged.map(([, notificationId]) => notificationId)).size, 800, "and its own notification id");
  assert.equal(stored.dog.version, 801, "every acknowledged event stored");
  assert.equal(new Set(stored.dog.state.tricks).size, 800);
  assert.deepEqual(stored.log.map((n) => n.notificationId), Array.from({ length: 801 }, (_, i) => i + 1));
  await close();
});

test("time travel by version and by time", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const pause = () => new Promise((done) => setTimeout(done, 30));
    const app = await openDogSchool("dogschool");
    const before = new Date();
    await pause();
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await pause();
    const between = new Date();
    await pause();
    await app.record("Dog", id, "TrickAdded", { trick: "beg" });
    return {
      v1: (await app.get("Dog", id, { version: 1 })).state,
      v2: (await app.get("Dog", id, { version: 2 })).state,
      between: await app.get("Dog", id, { at: between }).then((d) => [d.version, d.state.tricks]),
      now: await app.get("Dog", id, { at: new Date() }).then((d) => d.version),
      tooEarly: await caught(() => app.get("Dog", id, { at: before })),
      tooFar: await caught(() => app.get("Dog", id, { version: 4 })),
    };
  });
  assert.deepEqual(out.v1, { name: "Fido", tricks: [] });
  assert.deepEqual(out.v2, { name: "Fido", tricks: ["sit"] });
  assert.deepEqual(out.between, [2, ["sit"]]);
  assert.equal(out.now, 3);
  assert.equal(out.tooEarly.name, "NotFoundError");
  assert.equal(out.tooFar.name, "NotFoundError");
  assert.match(out.tooFar.message, /latest is 3/);
  await close();
});

test("automatic snapshots are used after a reload, and takeSnapshot too", async () => {
  const { pages: [page], close } = await tabs();
  const id = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool", { snapshotEvery: { Dog: 5 } });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (let i = 1; i <= 11; i++) await app.record("Dog", id, "TrickAdded", { trick: `t${i}` });
    return id;
  });
  await page.reload();
  const replay = () => page.evaluate(async (id) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool", { snapshotEvery: { Dog: 5 } });
    globalThis.applied = 0;
    const dog = await app.get("Dog", id);
    const counted = globalThis.applied;
    const snapshot = await app.takeSnapshot("Dog", id);
    return { version: dog.version, tricks: dog.state.tricks.length, applied: counted, snapshot };
  }, id);
  assert.deepEqual(await replay(), { version: 12, tricks: 11, applied: 2, snapshot: { version: 12 } }, "the snapshot at 10, then events 11 and 12");
  await page.reload();
  const again = await replay();
  assert.equal(again.applied, 0, "the snapshot taken at 12 is all it needs");
  await close();
});

test("each error kind is typed, says what to do, and writes nothing", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    const { claiming } = await import("/test/hostile-values.js");
    const errors = {
      badId: await caught(() => app.record("Dog", "not-a-uuid", "TrickAdded", { trick: "x" })),
      negativeVersion: await caught(() => app.record("Dog", id, "TrickAdded", { trick: "x" }, { expectedVersion: -2 })),
      versionZero: await caught(() => app.get("Dog", id, { version: 0 })),
      notAnObject: await caught(() => app.record("Dog", id, "TrickAdded", ["x"])),
      aFunction: await caught(() => app.record("Dog", id, "TrickAdded", { trick: () => 1 })),
      aBigInt: await caught(() => app.record("Dog", id, "TrickAdded", { trick: 1n })),
      aDate: await caught(() => app.record("Dog", id, "TrickAdded", { trick: new Date() })),
      undefinedValue: await caught(() => app.record("Dog", id, "TrickAdded", { trick: undefined })),
      aCycle: await caught(() => app.record("Dog", id, "TrickAdded", cyclic)),
      reservedKey: await caught(() => app.record("Dog", id, "TrickAdded", { timestamp: 1 })),
      unknownAggregate: await caught(() => app.create("Cat", "Registered", { name: "Tom" })),
      unknownEvent: await caught(() => app.record("Dog", id, "Barked", {})),
      notFound: await caught(() => app.get("Dog", crypto.randomUUID())),
      conflict: await caught(() => app.record("Dog", id, "TrickAdded", { trick: "x" }, { expectedVersion: 0 })),
      takenId: await caught(() => app.create("Dog", "Registered", { name: "Again" }, { id })),
      halfBadBatch: await caught(() => app.recordMany([{ aggregate: "Dog", event: "Registered", data: { name: "Ok" } }, { aggregate: "Dog", id, event: "TrickAdded", data: { trick: "x" }, expectedVersion: 5 }])),
      // arrays that claim more than they are: read as claimed, they would exhaust the page's memory
      aLyingArray: await caught(() => app.record("Dog", id, "TrickAdded", { trick: claiming(2 ** 32 - 1, 0) })),
      aLyingBatch: await caught(() => app.recordMany(claiming(2 ** 32 - 1, { aggregate: "Dog", id, event: "TrickAdded", data: { trick: "x" } }))),
      tooMuchText: await caught(() => app.record("Dog", id, "TrickAdded", { trick: claiming(1000, "x".repeat(1 << 20)) })),
      tooMuchTextInABatch: await caught(() => app.recordMany(claiming(1000, { aggregate: "Dog", id, event: "TrickAdded", data: { trick: "x".repeat(1 << 20) } }))),
    };
    const written = (await app.notifications()).length;
    const bad = await (await import("tributary")).openApplication("bad").then((a) => a.defineAggregate("Bad", {
      initial: () => ({}),
      apply: { Happened: () => { throw new TypeError("boom"); } },
    }));
    const { id: badId } = await bad.create("Bad", "Happened", {});
    errors.handler = await caught(() => bad.get("Bad", badId));
    const snapshotting = await (await import("tributary")).openApplication("bad2", { snapshotEvery: { Bad: 1 } }).then((a) => a.defineAggregate("Bad", {
      initial: () => ({}),
      apply: { Happened: () => { throw new TypeError("boom"); } },
    }));
    errors.handlerOnSave = await caught(() => snapshotting.create("Bad", "Happened", {}));
    const badWritten = (await snapshotting.notifications()).length;
    app.close();
    errors.closed = await caught(() => app.get("Dog", id));
    errors.badStorage = await caught(async () => (await import("tributary")).openApplication("x", { storage: "cloud" }));
    return { errors, written, badWritten };
  });
  const { errors } = out;
  for (const [key, message] of [["aLyingArray", /more than 4194304 items/], ["aLyingBatch", /holds 4294967295 items; one call takes at most 4194304/], ["tooMuchText", /more than 256 MiB of text/], ["tooMuchTextInABatch", /event 25[0-9]: the data of Dog.TrickAdded\.trick holds more than 256 MiB of text/]]) {
    assert.equal(errors[key]?.name, "ValidationError", `${key}: ${JSON.stringify(errors[key])}`);
    assert.match(errors[key].message, message);
  }
  assert.equal(errors.versionZero?.name, "NotFoundError", "version 0 is a position (of types counting from 0), which a Dog does not have");
  for (const key of ["badId", "negativeVersion", "notAnObject", "aFunction", "aBigInt", "aDate", "undefinedValue", "aCycle", "reservedKey", "badStorage"]) {
    assert.equal(errors[key]?.name, "ValidationError", `${key}: ${JSON.stringify(errors[key])}`);
    assert.ok(errors[key].is.includes("TributaryError"));
  }
  assert.match(errors.badId.message, /must be a UUID/);
  assert.match(errors.negativeVersion.message, /-1 \(none yet\) or a whole number from 0/);
  assert.match(errors.aFunction.message, /trick is a function/);
  assert.match(errors.aCycle.message, /cycle/);
  for (const key of ["unknownAggregate", "unknownEvent"]) {
    assert.equal(errors[key].name, "UnknownTopicError", key);
    assert.ok(errors[key].is.includes("ValidationError"), "an unknown type is a validation error too");
  }
  assert.match(errors.unknownAggregate.message, /define it \(defineAggregate/);
  assert.equal(errors.notFound.name, "NotFoundError");
  for (const key of ["conflict", "takenId", "halfBadBatch"]) assert.equal(errors[key].name, "ConflictError", key);
  assert.match(errors.conflict.message, /reload it and retry/);
  assert.equal(errors.handler.name, "HandlerError");
  assert.match(errors.handler.message, /Bad\.apply threw TypeError: boom/);
  assert.equal(errors.handlerOnSave.name, "HandlerError");
  assert.equal(out.badWritten, 0, "a failing snapshot fold writes nothing");
  assert.equal(errors.closed.name, "StorageError");
  assert.match(errors.closed.message, /closed/);
  assert.equal(out.written, 1, "no failed call wrote anything");
  await close();
});

test("memory storage works the same and keeps nothing across a reload", async () => {
  const { pages: [page], close } = await tabs();
  const run = () => page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool", { storage: "memory" });
    const before = (await app.notifications()).length;
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    return [before, (await app.get("Dog", id)).state.tricks];
  });
  assert.deepEqual(await run(), [0, ["sit"]]);
  await page.reload();
  assert.deepEqual(await run(), [0, ["sit"]]);
  await close();
});

test("another tab deleting the database is not blocked, and this tab then gets a clear StorageError", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const id = await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    return (await app.create("Dog", "Registered", { name: "Fido" })).id;
  });
  // the other tab deletes the database: this tab's connection closes on "versionchange"
  const deletion = await two.evaluate(() => new Promise((done) => {
    const request = indexedDB.deleteDatabase("tributary:dogschool");
    request.onblocked = () => done("blocked");
    request.onsuccess = () => done("deleted");
  }));
  assert.equal(deletion, "deleted");
  const afterwards = await one.evaluate(async (id) => {
    const { caught } = await import("/test/dogschool.js");
    return [await caught(() => app.get("Dog", id)), await caught(() => app.record("Dog", id, "TrickAdded", { trick: "sit" }))];
  }, id);
  for (const error of afterwards) {
    assert.equal(error.name, "StorageError");
    assert.match(error.message, /deleted or upgraded by another tab; open it again/);
  }
  // reopening finds an empty database, not a half-written one
  const reopened = await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    return (await (await openDogSchool("dogschool")).notifications()).length;
  });
  assert.equal(reopened, 0);
  await close();
});

test("a write past the storage quota is a StorageError that says so, and writes nothing", async () => {
  const { pages: [page], close } = await tabs(1, "/test/", { quota: 2 * 1024 * 1024 });
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    // Random letters: Firefox compresses what it stores, and a run of one letter fits any quota.
    const letters = new Uint8Array(8 * 1024 * 1024);
    for (let at = 0; at < letters.length; at += 65536) crypto.getRandomValues(letters.subarray(at, at + 65536));
    letters.forEach((byte, i) => (letters[i] = 97 + (byte % 26)));
    const huge = await caught(() => app.record("Dog", id, "TrickAdded", { trick: new TextDecoder().decode(letters) }));
    const after = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    return { huge, after, log: (await app.notifications()).map((n) => n.notificationId) };
  });
  assert.equal(out.huge?.name, "StorageError", JSON.stringify(out.huge));
  assert.match(out.huge.message, /quota/i);
  assert.deepEqual(out.after, { version: 2, notificationId: 2 }, "nothing of the refused write, no gap");
  assert.deepEqual(out.log, [1, 2]);
  await close();
});

test("a page the browser refuses IndexedDB (private browsing, storage blocked) gets a StorageError that says to use memory, and memory works", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const open = (name) => caught(() => openDogSchool(name));
    const refusing = (name, message) => () => { throw new DOMException(message, name); }; // as browsers throw from indexedDB.open
    IDBFactory.prototype.open = refusing("SecurityError", "The operation is insecure.");
    const security = await open("blocked");
    IDBFactory.prototype.open = refusing("InvalidStateError", "A mutation operation was attempted on a database that did not allow mutations.");
    const invalid = await open("private");
    Object.defineProperty(globalThis, "indexedDB", { value: undefined });
    const missing = await open("none");
    const memory = await openDogSchool("dogschool", { storage: "memory" });
    return { refused: [security, invalid, missing], created: (await memory.create("Dog", "Registered", { name: "Fido" })).version };
  });
  for (const error of out.refused) {
    assert.equal(error?.name, "StorageError", JSON.stringify(error));
    assert.match(error.message, /does not let the page use IndexedDB \(private browsing, or storage blocked for the site\); open the application with storage: "memory"/);
  }
  assert.equal(out.created, 1);
  await close();
});

test("a database a newer release upgraded with a store of its own is refused as newer (update this app), not as another app's", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    await app.create("Dog", "Registered", { name: "Fido" });
    // a newer release opens it at the next version and adds a store (this tab's connection closes)
    await new Promise((done, fail) => {
      const open = indexedDB.open("tributary:dogschool", 4);
      open.onupgradeneeded = () => open.result.createObjectStore("outbox");
      open.onsuccess = () => (open.result.close(), done());
      open.onerror = () => fail(open.error);
    });
    return caught(() => openDogSchool("dogschool"));
  });
  assert.equal(out?.name, "StorageError", JSON.stringify(out));
  assert.match(out.message, /written by a newer release of tributary .*update this app/);
  await close();
});

test("an open blocked by another tab holding an old version fails clearly instead of hanging", async () => {
  const { pages: [one, two], close } = await tabs(2);
  // another tab holds a schema-1 database open and ignores "versionchange"
  await one.evaluate(() => new Promise((done) => {
    const open = indexedDB.open("tributary:dogschool", 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      const events = db.createObjectStore("events", { keyPath: "id" });
      events.createIndex("position", ["originator_id", "originator_version"], { unique: true });
      events.createIndex("topic", ["topic", "id"]);
      db.createObjectStore("snapshots", { keyPath: ["originator_id", "originator_version"] });
      db.createObjectStore("tracking", { keyPath: ["application_name", "notification_id"] });
    };
    open.onsuccess = () => { globalThis.held = open.result; done(); };
  }));
  const error = await two.evaluate(async () => {
    const { caught } = await import("/test/dogschool.js");
    return caught(() => import("tributary").then((t) => t.openApplication("dogschool")));
  });
  assert.equal(error?.name, "StorageError", JSON.stringify(error));
  assert.match(error.message, /blocked: another tab holds an older version open/);
  // once that tab lets go, the upgrade goes through
  await one.evaluate(() => globalThis.held.close());
  const reopened = await two.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    return (await app.create("Dog", "Registered", { name: "Fido" })).notificationId;
  });
  assert.equal(reopened, 1);
  await close();
});

test("an aggregate defined again keeps none of the upcasters it was defined with before", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openApplication } = await import("tributary");
    const { caught } = await import("/test/dogschool.js");
    const apply = { Adopted: (state, e) => ({ ...state, owner: e.owner }) };
    const app = (await openApplication("shelter")).defineAggregate("Pet", { initial: () => ({}), apply });
    const { id } = await app.create("Pet", "Adopted", { name: "Tom" });
    const upcast = { Adopted: { 1: (data) => ({ owner: data.name }) }, snapshot: { 1: (state) => state } };
    app.defineAggregate("Pet", { initial: () => ({}), apply, schemaVersion: 2, eventVersions: { Adopted: 2 }, upcasters: upcast });
    const upcasted = (await app.get("Pet", id)).state;
    // defined again (a new release, a hot reload) without them: version 1 has no upcaster now
    app.defineAggregate("Pet", { initial: () => ({}), apply, schemaVersion: 2, eventVersions: { Adopted: 2 } });
    return { upcasted, after: await caught(() => app.get("Pet", id)) };
  });
  await close();
  assert.deepEqual(out.upcasted, { owner: "Tom" });
  assert.equal(out.after?.name, "UpcastError", JSON.stringify(out.after));
});

test("an aggregate defined again without uuidFields writes its fields as plain strings again", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openApplication } = await import("tributary");
    const owner = "0b6f3c1e-2a4d-4c8e-9f10-3d2b1a0c9e8f";
    const apply = { Adopted: (state, e) => ({ ...state, owner: e.owner }) };
    const app = (await openApplication("shelter")).defineAggregate("Pet", { initial: () => ({}), apply, uuidFields: { Adopted: ["owner"] } });
    await app.create("Pet", "Adopted", { owner });
    // defined again (a new release, a hot reload): the owner is no UUID field any more
    app.defineAggregate("Pet", { initial: () => ({}), apply });
    await app.create("Pet", "Adopted", { owner });
    const { items } = await app.notificationLog.section("1,2");
    return items.map((item) => JSON.parse(atob(item.state)).owner);
  });
  await close();
  assert.deepEqual(out, [{ _type_: "uuid_hex", _data_: "0b6f3c1e2a4d4c8e9f103d2b1a0c9e8f" }, "0b6f3c1e-2a4d-4c8e-9f10-3d2b1a0c9e8f"]);
});
