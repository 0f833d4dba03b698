// Views through the published package, in headless Chromium: exactly once
// across reloads and tabs, failures and resumption, waits, live changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("a view as the README shows it: wait, get, query, all, subscribe, rebuild, status", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const changes = [];
    const unsubscribe = counts.subscribe((change) => changes.push(change));
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (const trick of ["sit", "beg", "sit"]) await app.record("Dog", id, "TrickAdded", { trick });
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "roll" });
    await counts.wait(notificationId, { timeoutMs: 2000 });
    const progress = [];
    const before = await counts.all();
    await counts.rebuild({ onProgress: (p) => progress.push(p) });
    unsubscribe();
    return {
      sit: await counts.get("sit"),
      none: await counts.get("stay"),
      popular: await counts.query({ index: "count", gte: 2 }),
      ordered: (await counts.query({ index: "count" })).map((r) => r.key),
      all: await counts.all(),
      same: JSON.stringify(before) === JSON.stringify(await counts.all()),
      progress: progress.at(-1),
      changed: changes.length > 0 && changes.every((c) => c.view === "trickCounts"),
      status: counts.status(),
    };
  });
  assert.deepEqual(out.sit, { count: 2 });
  assert.equal(out.none, undefined);
  assert.deepEqual(out.popular, [{ key: "sit", value: { count: 2 } }]);
  assert.deepEqual(out.ordered, ["beg", "roll", "sit"]);
  assert.deepEqual(out.all.map((r) => r.key), ["beg", "roll", "sit"]);
  assert.ok(out.same, "a rebuild gives the same rows");
  assert.deepEqual(out.progress, { processed: 5, total: 5 });
  assert.ok(out.changed);
  assert.deepEqual(out.status, { position: 5, state: "idle" });
  await close();
});

test("a reload in the middle of a catch-up applies no event twice", async () => {
  const { pages: [page], close } = await tabs();
  const head = await page.evaluate(async () => {
    const { openDogSchool, teach } = await import("/test/dogschool.js");
    return teach(await openDogSchool("dogschool"), 7000, ["sit", "beg", "roll", "stay", "fetch", "down", "paw"]);
  });
  // start the catch-up, and reload as soon as its first batch has committed
  const position = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const counts = defineTrickCounts(await openDogSchool("dogschool"));
    return new Promise((done) => counts.subscribe((change) => done(change.position)));
  });
  await page.reload();
  assert.ok(position > 0 && position < head, `reloaded at ${position} of ${head}`);
  const out = await page.evaluate(async (head) => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const counts = defineTrickCounts(await openDogSchool("dogschool"));
    await counts.wait(head, { timeoutMs: 20000 });
    return { rows: await counts.all(), handled: globalThis.handled };
  }, head);
  assert.deepEqual(out.rows.map((r) => r.value.count), [1000, 1000, 1000, 1000, 1000, 1000, 1000], "each of 7000 tricks counted once");
  assert.ok(out.handled <= head - 1, `after the reload only what was left was handled (${out.handled})`);
  await close();
});

test("two tabs: one runs the view, both read it, and the other tab sees each change", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const open = (page) => page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    globalThis.counts = defineTrickCounts(app);
    globalThis.heard = [];
    counts.subscribe((change) => heard.push(change), { key: "sit" });
  });
  await open(one);
  await open(two);
  const head = await one.evaluate(async () => {
    const { teach } = await import("/test/dogschool.js");
    return teach(app, 3000, ["sit", "beg", "roll"]);
  });
  await two.evaluate((head) => counts.wait(head, { timeoutMs: 20000 }), head);
  const seen = async (page) => page.evaluate(async () => ({ sit: await counts.get("sit"), handled: globalThis.handled, heard: heard.length }));
  await two.waitForFunction(() => heard.length > 0);
  const [a, b] = [await seen(one), await seen(two)];
  assert.deepEqual([a.sit, b.sit], [{ count: 1000 }, { count: 1000 }]);
  assert.equal(a.handled + b.handled, 3000, `exactly once across tabs (${a.handled} + ${b.handled})`);
  assert.ok(b.heard > 0, "the second tab heard the changes");
  await close();
});

test("a failing handler stops its view at the last good position, reports it, and resumes once fixed", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const other = app.defineView("allEvents", { handle: (event, view) => view.put(String(event.notificationId), { type: event.type }) });
    let counts = defineTrickCounts(app, { failOn: "boom" });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (const trick of ["sit", "beg"]) await app.record("Dog", id, "TrickAdded", { trick });
    const { notificationId: boom } = await app.record("Dog", id, "TrickAdded", { trick: "boom" });
    const { notificationId: last } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    const failure = await caught(() => counts.wait(last, { timeoutMs: 3000 }));
    const status = counts.status();
    const rows = await counts.all();
    await other.wait(last, { timeoutMs: 3000 });
    const others = (await other.all()).length;
    counts = defineTrickCounts(app); // the fix
    await counts.wait(last, { timeoutMs: 3000 });
    return { boom, failure, status: { ...status, error: status.error?.name }, rows, others, fixed: await counts.all(), after: counts.status().state };
  });
  assert.equal(out.failure.name, "HandlerError");
  assert.match(out.failure.message, /cannot count boom/);
  assert.deepEqual(out.status, { position: out.boom - 1, state: "failed", error: "HandlerError", failedAt: out.boom });
  assert.deepEqual(out.rows, [{ key: "beg", value: { count: 1 } }, { key: "sit", value: { count: 1 } }]);
  assert.equal(out.others, 5, "other views go on");
  assert.deepEqual(out.fixed.map((r) => [r.key, r.value.count]), [["beg", 1], ["boom", 1], ["sit", 2]]);
  assert.equal(out.after, "idle");
  await close();
});

test("a wait decided by the view's failure (or by the view itself) stops reading the storage at once", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app, { failOn: "boom" });
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const { notificationId: sit } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await counts.wait(sit, { timeoutMs: 3000 });
    const { notificationId: boom } = await app.record("Dog", id, "TrickAdded", { trick: "boom" });
    // IndexedDB transactions begun while nothing else is under way: only a wait's polling could begin them
    const transaction = IDBDatabase.prototype.transaction;
    let begun = 0;
    IDBDatabase.prototype.transaction = function (...args) { begun++; return transaction.apply(this, args); };
    const quiet = async () => { begun = 0; await new Promise((done) => setTimeout(done, 600)); return begun; };
    const failure = await caught(() => counts.wait(boom, { timeoutMs: 5000 }));
    const afterFailure = await quiet();
    const waits = Array.from({ length: 20 }, () => caught(() => counts.wait(boom + 5, { timeoutMs: 5000 })));
    const refused = (await Promise.all(waits)).map((e) => e?.name);
    const afterRefused = await quiet();
    IDBDatabase.prototype.transaction = transaction;
    return { failure: failure?.name, afterFailure, refused: [...new Set(refused)], afterRefused };
  });
  assert.equal(out.failure, "HandlerError");
  assert.deepEqual(out.refused, ["HandlerError"]);
  assert.deepEqual([out.afterFailure, out.afterRefused], [0, 0], "no wait went on polling after it was decided");
  await close();
});

test("wait times out with a TimeoutError when the view cannot get there", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const { notificationId } = await app.create("Dog", "Registered", { name: "Fido" });
    await counts.wait(notificationId, { timeoutMs: 2000 });
    const started = performance.now();
    const error = await caught(() => counts.wait(notificationId + 1, { timeoutMs: 150 }));
    return { error, waited: performance.now() - started, badQuery: await caught(() => counts.query({ index: "nope" })) };
  });
  assert.equal(out.error.name, "TimeoutError");
  assert.ok(out.waited >= 140, `waited ${out.waited} ms`);
  assert.equal(out.badQuery.name, "ValidationError");
  await close();
});

test("a view defined with other indexes after a reload is built again, so its index holds every row", async () => {
  const { pages: [page], close } = await tabs();
  const define = (app, indexes) => app.defineView("tricks", {
    topics: ["Dog.TrickAdded"],
    indexes,
    handle: async (event, view) => view.put(event.data.trick, { count: ((await view.get(event.data.trick))?.count ?? 0) + 1 }),
  });
  const head = await page.evaluate(async (define) => {
    const { openDogSchool, teach } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const head = await teach(app, 30, ["sit", "beg", "roll"]);
    await eval(define)(app, []).wait(head);
    return head;
  }, define.toString());
  await page.reload();
  const out = await page.evaluate(async ([define, head]) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const view = eval(define)(await openDogSchool("dogschool"), ["count"]);
    await view.wait(head);
    return (await view.query({ index: "count", gte: 10 })).map((row) => [row.key, row.value.count]);
  }, [define.toString(), head]);
  assert.deepEqual(out, [["beg", 10], ["roll", 10], ["sit", 10]]);
  await close();
});

test("a rebuild whose onProgress throws still ends, and the view goes on", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, teach, caught } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const head = await teach(app, 3000, ["sit", "beg", "roll"]);
    await counts.wait(head, { timeoutMs: 20000 });
    const failure = await caught(() => counts.rebuild({ onProgress: () => { throw new Error("a progress bar went away"); } }));
    const { id } = await app.create("Dog", "Registered", { name: "Rex" });
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await counts.wait(notificationId, { timeoutMs: 20000 });
    return { failure, state: counts.status().state, rows: (await counts.all()).map((r) => [r.key, r.value.count]) };
  });
  assert.equal(out.failure, null, "the rebuild itself did not fail");
  assert.equal(out.state, "idle");
  assert.deepEqual(out.rows, [["beg", 1000], ["roll", 1000], ["sit", 1001]]);
  await close();
});

test("a rebuild cut short by closing its application rejects with a StorageError, not as if the view were rebuilt", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, teach } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const head = await teach(app, 6000, ["sit", "beg"]);
    const counts = defineTrickCounts(app);
    await counts.wait(head, { timeoutMs: 20000 });
    let closed = false;
    const rebuilt = counts.rebuild({ onProgress: () => closed || ((closed = true), app.close()) }); // closed after its first batch
    return { head, outcome: await rebuilt.then(() => "resolved", (error) => `${error.name}: ${error.message}`), position: counts.status().position };
  });
  assert.ok(out.position < out.head, `the close came before the end (${out.position} of ${out.head})`);
  assert.equal(out.outcome, 'StorageError: application "dogschool" is closed; open it again');
  await close();
});

/** Two tabs with the trick counts, `count` tricks taught in the first, both seeing the view at the head. */
async function twoTabsAtHead(count) {
  const { pages: [one, two], close } = await tabs(2);
  const open = (page) => page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    globalThis.counts = defineTrickCounts(app);
  });
  await open(one);
  await open(two);
  const head = await one.evaluate(async (count) => {
    const { teach } = await import("/test/dogschool.js");
    const head = await teach(app, count, ["sit", "beg"]);
    await counts.wait(head, { timeoutMs: 30000 });
    return head;
  }, count);
  await two.evaluate((head) => counts.wait(head, { timeoutMs: 30000 }), head);
  return { one, two, head, close };
}

test("a tab whose rebuild is cut short by its close leaves the build to another tab at once, with no new event", async () => {
  const { one, two, head, close } = await twoTabsAtHead(6000);
  const cut = await one.evaluate(async () => {
    let closed = false;
    const rebuilt = counts.rebuild({ onProgress: () => closed || ((closed = true), app.close()) }); // closed after its first batch
    await rebuilt.catch(() => {});
    return counts.status().position;
  });
  assert.ok(cut < head, `the close came before the end (${cut} of ${head})`);
  // Tab two neither records nor waits (a wait would run the view itself): it carries the build on by itself.
  const built = await two.evaluate(async (head) => {
    const started = performance.now();
    while (counts.status().position < head && performance.now() - started < 20000) await new Promise((done) => setTimeout(done, 50));
    return { position: counts.status().position, sit: await counts.get("sit") };
  }, head);
  assert.deepEqual(built, { position: head, sit: { count: 3000 } });
  await close();
});

test("a rebuild runs while the application keeps accepting saves, and ends exact", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts, teach } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const head = await teach(app, 3000, ["sit", "beg", "roll"]);
    await counts.wait(head, { timeoutMs: 20000 });
    const { id } = await app.create("Dog", "Registered", { name: "Rex" });
    const saving = (async () => {
      let last = 0;
      for (let i = 0; i < 300; i++) last = (await app.record("Dog", id, "TrickAdded", { trick: "sit" })).notificationId;
      return last;
    })();
    const [last] = await Promise.all([saving, counts.rebuild()]);
    await counts.wait(last, { timeoutMs: 20000 });
    return (await counts.all()).map((r) => [r.key, r.value.count]);
  });
  assert.deepEqual(out, [["beg", 1000], ["roll", 1000], ["sit", 1300]]);
  await close();
});

test("index queries give the same rows in the same order in IndexedDB and in memory: both bounds hold, an empty range is empty, strings sort as IndexedDB sorts them, a limit of 0 is none", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const answers = {};
    for (const storage of ["indexeddb", "memory"]) {
      const app = await openDogSchool(`ranges-${storage}`, { storage });
      const view = app.defineView("rows", {
        indexes: ["n", "s"],
        handle: (event, writer) => writer.put(event.data.name, { n: event.data.n, s: event.data.s }),
      });
      // "\uff61" sorts after "\u{1f600}" in UTF-16 (IndexedDB's order), before it in UTF-8
      const rows = [["a", 1, "z"], ["b", 2, "\uff61"], ["c", 3, "\u{1f600}"], ["d", 4, "y"], ["\uff61", 5, "x"], ["\u{1f600}", 6, "w"]];
      let last = 0;
      for (const [name, n, s] of rows) last = (await app.create("Dog", "Registered", { name, n, s })).notificationId;
      await view.wait(last, { timeoutMs: 5000 });
      const keys = async (query) => {
        try {
          return (await view.query(query)).map((row) => row.key);
        } catch (error) {
          return `${error.name}: ${error.message}`;
        }
      };
      answers[storage] = {
        bothLower: await keys({ index: "n", gt: 1, gte: 3 }),
        bothUpper: await keys({ index: "n", lt: 4, lte: 2 }),
        crossed: await keys({ index: "n", gt: 3, lt: 2 }),
        halfOpenPoint: await keys({ index: "n", gte: 2, lt: 2 }),
        byString: await keys({ index: "s" }),
        stringRange: await keys({ index: "s", gt: "\uff00" }),
        all: await keys(),
        none: await keys({ index: "n", limit: 0 }),
      };
    }
    return answers;
  });
  const expected = {
    bothLower: ["c", "d", "\uff61", "\u{1f600}"],
    bothUpper: ["a", "b"],
    crossed: [],
    halfOpenPoint: [],
    byString: ["\u{1f600}", "\uff61", "d", "a", "c", "b"],
    stringRange: ["b"],
    all: ["a", "b", "c", "d", "\u{1f600}", "\uff61"],
    none: [],
  };
  assert.deepEqual(out.indexeddb, expected, "IndexedDB");
  assert.deepEqual(out.memory, expected, "memory");
  await close();
});

test("while another tab rebuilds a view, wait in this tab resolves only once the view is back where it was asked to be", async () => {
  const { one, two, head, close } = await twoTabsAtHead(20000);
  // tab one rebuilds; tab two, which saw the view at the head, waits for the head and reads
  await one.evaluate(() => { globalThis.rebuilding = counts.rebuild(); });
  const read = await two.evaluate(async (head) => {
    await new Promise((heard) => { const stop = counts.subscribe(() => { stop(); heard(); }); });
    await counts.wait(head, { timeoutMs: 30000 });
    return counts.get("sit");
  }, head);
  await one.evaluate(() => rebuilding);
  assert.deepEqual(read, { count: 10000 }, "what wait promised was there");
  await close();
});
