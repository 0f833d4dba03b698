// Lifecycle and concurrency of the facade: close, reopen, panics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("following a leader that was closed and opened again follows the open one", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters } = await import("/test/dogschool.js");
    const first = await openDogSchool("dogschool");
    const { counters } = await openCounters(first);
    first.close();
    const again = await openDogSchool("dogschool");
    const follower = counters.follow(again, {
      topics: ["Dog.TrickAdded"],
      policy: (event, app) => [{ aggregate: "Counter", id: app.idFor("Counter", event.data.trick), event: "Started", data: { name: event.data.trick }, expectedVersion: 0 }],
    });
    const { id } = await again.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await again.record("Dog", id, "TrickAdded", { trick: "sit" });
    try {
      await follower.wait(notificationId, { timeoutMs: 3000 });
    } catch (error) {
      return { error: `${error.name}: ${error.message}`, status: follower.status().state };
    }
    return { started: (await counters.get("Counter", counters.idFor("Counter", "sit"))).state.name };
  });
  assert.deepEqual(out, { started: "sit" });
  await close();
});

test("a panic while a view's handler is under way: its waiter settles, and the view opened again runs", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const { __panicForTests } = await import("/node_modules/tributary/wasm/tributary.js");
    const { callingSync } = await import("/node_modules/tributary/dist/core.js");
    let release, entered;
    const gate = new Promise((done) => (release = done));
    const inHandler = new Promise((done) => (entered = done));
    const definition = (slow) => ({
      topics: ["Dog.TrickAdded"],
      handle: async (event, view) => {
        if (slow) {
          entered();
          await gate;
        }
        view.put(event.data.trick, { seen: true });
      },
    });
    const within = (promise, ms) => Promise.race([promise, new Promise((done) => setTimeout(() => done("never settled"), ms))]);
    const app = await openDogSchool("dogschool");
    const view = app.defineView("tricks", definition(true));
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await inHandler;
    const waiting = view.wait(notificationId, { timeoutMs: 1000 }).then(() => "resolved", (error) => error.name);
    try {
      callingSync(() => __panicForTests());
    } catch {}
    release();
    const first = await within(waiting, 3000);
    const again = await openDogSchool("dogschool");
    const view2 = again.defineView("tricks", definition(false));
    const { notificationId: next } = await again.record("Dog", id, "TrickAdded", { trick: "beg" });
    const second = await within(view2.wait(next, { timeoutMs: 3000 }).then(() => "resolved", (error) => `${error.name}: ${error.message}`), 5000);
    return { first, second, rows: (await view2.all()).map((r) => r.key) };
  });
  assert.notEqual(out.first, "never settled", "the waiter of the dead instance settles");
  assert.equal(out.second, "resolved", "the view of the application opened again runs");
  assert.deepEqual(out.rows, ["beg", "sit"]);
  // The browser still calls the dead instance's closures (the handler's promise settling),
  // which wasm-bindgen's glue refuses: noise after a panic, which is a bug anyway.
  await close(/Cannot invoke closure from previous WASM instance/);
});

test("closing an application right after a save leaves no error in the console", async () => {
  const { pages: [page], close } = await tabs();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await counts.wait(notificationId);
    await app.record("Dog", id, "TrickAdded", { trick: "beg" });
    app.close();
    await new Promise((done) => setTimeout(done, 300));
  });
  assert.deepEqual(errors, []);
  await close();
});

/** A second tab running the trick counts, noting each change of "sit" it hears of. */
async function listening(page) {
  await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.counts = defineTrickCounts(await openDogSchool("dogschool"));
    globalThis.heard = [];
    counts.subscribe((change) => heard.push(change), { key: "sit" });
  });
}

/** That tab heard of the one "sit": nothing else pokes its view than the other tab's message. */
async function heardOfSit(page) {
  await page.waitForFunction(() => heard.length > 0, null, { timeout: 5000 });
  assert.deepEqual(await page.evaluate(() => counts.get("sit")), { count: 1 });
}

test("a save right before close is still told to other tabs, and the close leaves no error behind", async () => {
  const { pages: [one, two], close } = await tabs(2);
  await listening(two);
  await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await new Promise((resolve) => setTimeout(resolve, 100)); // a quiet spell: the next save is told at once...
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    app.close(); // ...but the tab closes the application in the same turn
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  await heardOfSit(two);
  await close(); // no error from a message sent after the close
});

test("a save under way when the application closes is still told to other tabs", async () => {
  const { pages: [one, two], close } = await tabs(2);
  await listening(two);
  const saved = await one.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const saving = app.record("Dog", id, "TrickAdded", { trick: "sit" });
    for (let i = 0; i < 3; i++) await null; // the save's transaction is under way...
    app.close(); // ...when the application closes
    return saving.then(() => "saved", (error) => `${error.name}: ${error.message}`);
  });
  assert.equal(saved, "saved", "the save began before the close, and committed");
  await heardOfSit(two);
  await close();
});

test("after a panic, a view made before it refuses with a StorageError, as its application does", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, caught } = await import("/test/dogschool.js");
    const { __panicForTests } = await import("/node_modules/tributary/wasm/tributary.js");
    const { callingSync } = await import("/node_modules/tributary/dist/core.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    try {
      callingSync(() => __panicForTests());
    } catch {}
    return { app: await caught(() => app.get("Dog", app.idFor("Dog", "Fido"))), view: await caught(() => counts.get("sit")), wait: await caught(() => counts.wait(1)) };
  });
  for (const what of ["app", "view", "wait"]) {
    assert.equal(out[what].name, "StorageError", `${what}: ${out[what].message}`);
    assert.match(out[what].message, /open it again/);
  }
  await close();
});

test("a follower whose leader closed still answers wait for what it processed", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const { follower } = await openCounters(dogschool);
    const { id } = await dogschool.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await dogschool.record("Dog", id, "TrickAdded", { trick: "sit" });
    await follower.wait(notificationId);
    dogschool.close();
    return { leader: follower.leader, again: await caught(() => follower.wait(notificationId, { timeoutMs: 500 })) };
  });
  assert.deepEqual(out, { leader: "dogschool", again: null });
  await close();
});

test("closing an application ends its views' pending waits with a StorageError, at once", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool", { storage: "memory" });
    const counts = defineTrickCounts(app);
    const started = performance.now();
    const waiting = counts.wait(1000, { timeoutMs: 5000 }).then(() => "reached", (error) => error.name);
    await new Promise((done) => setTimeout(done, 50));
    app.close();
    return { outcome: await waiting, ms: performance.now() - started };
  });
  assert.equal(out.outcome, "StorageError");
  assert.ok(out.ms < 2000, `ended after ${Math.round(out.ms)} ms, not at its timeout`);
  await close();
});

test("following a closed leader again is a StorageError, as following it the first time is", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const { counters } = await openCounters(dogschool);
    const other = await openDogSchool("other");
    dogschool.close();
    other.close();
    const policy = () => [];
    return {
      first: await caught(() => counters.follow(other, { policy })),
      again: await caught(() => counters.follow(dogschool, { topics: ["Dog.TrickAdded"], policy })),
      otherTopics: await caught(() => counters.follow(dogschool, { policy })),
    };
  });
  for (const what of ["first", "again", "otherTopics"]) {
    assert.equal(out[what]?.name, "StorageError", `${what}: ${JSON.stringify(out[what])}`);
    assert.match(out[what].message, /is closed; open it again/);
  }
  await close();
});

test("start() of a view or a follower whose application closed is a StorageError, and leaves it stopped", async () => {
  const { pages: [page], close } = await tabs();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters, defineTrickCounts, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const counts = defineTrickCounts(dogschool);
    const { counters, follower } = await openCounters(dogschool);
    const { id } = await dogschool.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await dogschool.record("Dog", id, "TrickAdded", { trick: "sit" });
    await Promise.all([counts.wait(notificationId), follower.wait(notificationId)]);
    counters.close();
    dogschool.close();
    const started = { view: await caught(() => counts.start()), follower: await caught(() => follower.start()) };
    await new Promise((done) => setTimeout(done, 300));
    return { started, states: [counts.status().state, follower.status().state] };
  });
  for (const what of ["view", "follower"]) {
    assert.equal(out.started[what]?.name, "StorageError", `${what}: ${JSON.stringify(out.started[what])}`);
    assert.match(out.started[what].message, /is closed; open it again/);
  }
  assert.deepEqual(out.states, ["idle", "idle"]);
  assert.deepEqual(errors, [], "nothing stepped, so nothing logged that it stopped");
  await close();
});
