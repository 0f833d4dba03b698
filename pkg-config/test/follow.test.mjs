// Process applications through the published package, in headless Chromium:
// the tutorial's trick counters follow the dog school, exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

const counts = async (page) => page.evaluate(async () => {
  const names = ["sit", "beg", "roll"];
  return Promise.all(names.map((n) => counters.get("Counter", counters.idFor("Counter", n)).then((c) => c.state.count)));
});

test("trick counters follow the dog school exactly once, across a reload in the middle", async () => {
  const { pages: [page], close } = await tabs();
  const head = await page.evaluate(async () => {
    const { openDogSchool, teach } = await import("/test/dogschool.js");
    return teach(await openDogSchool("dogschool"), 300, ["sit", "beg", "roll"]);
  });
  // follow, and reload once some (not all) tricks are counted
  const position = await page.evaluate(async (head) => {
    const { openDogSchool, openCounters } = await import("/test/dogschool.js");
    const { follower } = await openCounters(await openDogSchool("dogschool"));
    for (let tries = 0; tries < 4000; tries++) {
      await new Promise((done) => setTimeout(done, 5));
      const { position } = follower.status();
      if (position > 10 && position < head) return position;
    }
    return -1;
  }, head);
  await page.reload();
  const out = await page.evaluate(async (head) => {
    const { openDogSchool, openCounters } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const { counters, follower } = await openCounters(dogschool);
    globalThis.counters = counters;
    await follower.wait(head, { timeoutMs: 30000 });
    const { notificationId } = await dogschool.record("Dog", (await dogschool.notifications({ limit: 1 }))[0].originatorId, "TrickAdded", { trick: "sit" });
    await follower.wait(notificationId);
    return { calls: globalThis.policyCalls, status: follower.status() };
  }, head);
  assert.ok(position > 10 && position < head, `the reload came in the middle: at ${position} of ${head}`);
  assert.deepEqual(await counts(page), [101, 100, 100], "each trick counted once");
  assert.ok(out.calls <= head - position + 1, `after the reload, only what was left was processed (${out.calls})`);
  assert.equal(out.status.position, head + 1);
  assert.notEqual(out.status.state, "failed");
  await close();
});

test("two tabs following at once still count each trick once", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const open = (page) => page.evaluate(async () => {
    const { openDogSchool, openCounters } = await import("/test/dogschool.js");
    globalThis.dogschool = await openDogSchool("dogschool");
    ({ counters: globalThis.counters, follower: globalThis.follower } = await openCounters(dogschool));
  });
  await open(one);
  await open(two);
  const head = await one.evaluate(async () => (await import("/test/dogschool.js")).teach(dogschool, 600, ["sit", "beg", "roll"]));
  await two.evaluate((head) => follower.wait(head, { timeoutMs: 30000 }), head);
  assert.deepEqual(await counts(two), [200, 200, 200]);
  const calls = await Promise.all([one, two].map((p) => p.evaluate(() => globalThis.policyCalls)));
  assert.equal(calls[0] + calls[1], 600, `exactly once across tabs (${calls})`);
  await close();
});

test("a failing policy stops following at the last good event, and resumes once fixed", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const counters = (await import("tributary")).openApplication("counters");
    const app = (await counters).defineAggregate("Counter", { initial: () => ({ count: 0 }), apply: { Started: (s) => s, Incremented: (s) => ({ count: s.count + 1 }) } });
    const broken = app.follow(dogschool, { topics: ["Dog.TrickAdded"], policy: (event) => { if (event.data.trick === "beg") throw new Error("no counting today"); return []; } });
    const { id } = await dogschool.create("Dog", "Registered", { name: "Fido" });
    await dogschool.record("Dog", id, "TrickAdded", { trick: "sit" });
    const { notificationId } = await dogschool.record("Dog", id, "TrickAdded", { trick: "beg" });
    const error = await caught(() => broken.wait(notificationId, { timeoutMs: 3000 }));
    const failed = broken.status();
    const fixed = app.follow(dogschool, { topics: ["Dog.TrickAdded"], policy: () => [] });
    await fixed.wait(notificationId);
    return { error, failed: { state: failed.state, position: failed.position }, notificationId, same: fixed === broken, after: fixed.status().position };
  });
  assert.equal(out.error.name, "HandlerError");
  assert.match(out.error.message, /no counting today/);
  assert.deepEqual(out.failed, { state: "failed", position: out.notificationId - 1 });
  assert.ok(out.same, "following again resumes the same follower");
  assert.equal(out.after, out.notificationId);
  await close();
});

test("a view cannot take the name of an application its application follows (one position would serve both)", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, openCounters, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const view = { handle: (event, view) => view.put("seen", { n: 1 }) };
    const { counters } = await openCounters(dogschool);
    const viewAfterFollow = await caught(() => counters.defineView("dogschool", view));
    const sameView = await caught(() => counters.defineView("dogschool-tricks", view));
    const { openApplication } = await import("tributary");
    const lonely = await openApplication("lonely");
    lonely.defineView("dogschool", view);
    const followAfterView = await caught(() => lonely.follow(dogschool, { policy: () => [] }));
    return { viewAfterFollow, sameView, followAfterView };
  });
  assert.equal(out.viewAfterFollow?.name, "ValidationError", JSON.stringify(out.viewAfterFollow));
  assert.match(out.viewAfterFollow.message, /"dogschool" names an application it follows/);
  assert.equal(out.sameView, null, "other names are fine");
  assert.equal(out.followAfterView?.name, "ValidationError", JSON.stringify(out.followAfterView));
  assert.match(out.followAfterView.message, /"dogschool" names a view/);
  await close();
});

test("the workflow views cannot take the name of an application their application follows", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openApplication } = await import("tributary");
    const { caught } = await import("/test/dogschool.js");
    const leader = await openApplication("workflowProgress");
    const app = await openApplication("biomero");
    app.follow(leader, { policy: () => [] });
    const clash = await caught(() => app.defineWorkflows());
    return { clash, views: clash ? null : app.view("workflowProgress")?.name };
  });
  assert.equal(out.clash?.name, "ValidationError", JSON.stringify(out));
  assert.match(out.clash.message, /"workflowProgress" names an application it follows/);
  await close();
});

test("without Web Locks (an insecure context), two tabs processing the same event at once: it is recorded once, and neither follower fails", async () => {
  const { pages, close } = await tabs(2);
  for (const page of pages) await page.evaluate(() => delete Navigator.prototype.locks);
  await pages[0].evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool");
    const { id } = await dogschool.create("Dog", "Registered", { name: "Fido" });
    await dogschool.record("Dog", id, "TrickAdded", { trick: "sit" });
  });
  // Each tab's policy takes a while, so both process notification 2 at once.
  const follow = (page) => page.evaluate(async () => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const { openApplication } = await import("tributary");
    const counters = (await openApplication("counters")).defineAggregate("Counter", { initial: () => ({}), apply: { Started: (s) => s } });
    globalThis.follower = counters.follow(await openDogSchool("dogschool"), {
      topics: ["Dog.TrickAdded"],
      policy: async (event, app) => {
        await new Promise((done) => setTimeout(done, 300));
        return [{ aggregate: "Counter", id: app.idFor("Counter", event.data.trick), event: "Started", data: {}, expectedVersion: 0 }];
      },
    });
    globalThis.counters = counters;
  });
  await Promise.all(pages.map(follow));
  const out = await Promise.all(pages.map((page) => page.evaluate(async () => {
    const outcome = await follower.wait(2, { timeoutMs: 5000 }).then(() => "processed", (error) => `${error.name}: ${error.message}`);
    await new Promise((done) => setTimeout(done, 1000)); // both policies have returned, and both saves were tried
    const { state, error } = follower.status();
    return { outcome, state, error: error && `${error.name}: ${error.message}`, log: (await counters.notifications()).length };
  })));
  assert.deepEqual(out, [0, 1].map(() => ({ outcome: "processed", state: "idle", error: undefined, log: 1 })));
  await close();
});

test("an application kept in IndexedDB cannot follow one kept in memory: after a reload the leader's new events would be skipped", async () => {
  const { pages: [page], close } = await tabs();
  const follow = () => page.evaluate(async () => {
    const { openDogSchool, openCounters, caught } = await import("/test/dogschool.js");
    const dogschool = await openDogSchool("dogschool", { storage: "memory" });
    let opened;
    const refused = await caught(async () => (opened = await openCounters(dogschool)));
    if (refused) return { refused };
    const { id } = await dogschool.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await dogschool.record("Dog", id, "TrickAdded", { trick: "sit" });
    await opened.follower.wait(notificationId, { timeoutMs: 5000 });
    return { count: (await opened.counters.get("Counter", opened.counters.idFor("Counter", "sit"))).state.count };
  });
  const first = await follow();
  await page.reload(); // the leader's log starts again at 1; the follower's position in IndexedDB does not
  const second = await follow();
  for (const out of [first, second]) {
    assert.equal(out.refused?.name, "ValidationError", JSON.stringify(out));
    assert.match(out.refused.message, /kept in memory/);
  }
  await close();
});

test("following an application kept in memory and opened again is refused: its log started again, behind the position followed", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const { openApplication } = await import("tributary");
    const counters = (await openApplication("counters", { storage: "memory" })).defineAggregate("Counter", { initial: () => ({ n: 0 }), apply: { Counted: (s) => ({ n: s.n + 1 }) } });
    const id = counters.idFor("Counter", "tricks");
    const definition = { topics: ["Dog.TrickAdded"], policy: () => [{ aggregate: "Counter", id, event: "Counted", data: {} }] };
    const teach = async (dogschool, follower) => {
      const { id: dog } = await dogschool.create("Dog", "Registered", { name: "Fido" });
      const { notificationId } = await dogschool.record("Dog", dog, "TrickAdded", { trick: "sit" });
      await follower.wait(notificationId, { timeoutMs: 3000 });
    };
    const first = await openDogSchool("dogschool", { storage: "memory" });
    await teach(first, counters.follow(first, definition));
    first.close();
    const again = await openDogSchool("dogschool", { storage: "memory" }); // an empty log: its notification 2 is not the one processed
    let follower;
    const refused = await caught(() => (follower = counters.follow(again, definition)));
    if (!refused) await teach(again, follower);
    return { refused, counted: (await counters.get("Counter", id)).state.n };
  });
  assert.equal(out.refused?.name, "ValidationError", JSON.stringify(out));
  assert.match(out.refused.message, /opened again/);
  await close();
});
