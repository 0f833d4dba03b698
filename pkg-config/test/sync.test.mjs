// Sync through the published package in headless Chromium, against the real
// server binary over real HTTP: two devices (browser contexts) converge,
// and conflicts are shown and resolved (live sync: sync-live.test.mjs; races
// and refusals: sync-races.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { TOKEN } from "./server.mjs";
import { device, faultProxy, server, twoDevicesWithFido } from "./syncing.mjs";

test("two devices sync as the README shows it: pushed, pulled, and seen by views", async () => {
  const url = (await server()).app("dogschool");
  const [one, two] = [await device(url), await device(url)];
  const fido = await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (const trick of ["sit", "beg", "sit"]) await app.record("Dog", id, "TrickAdded", { trick });
    const before = sync.status().pending;
    return { id, before, round: await sync.now(), status: sync.status() };
  });
  assert.equal(fido.before, 0, "pending is known after a round");
  assert.deepEqual(fido.round, { pushed: 4, pulled: 0 });
  assert.deepEqual([fido.status.state, fido.status.pending], ["idle", 0]);
  const seen = await two.page.evaluate(async (id) => {
    const round = await sync.now();
    const dog = await app.get("Dog", id);
    await counts.wait(await app.maxNotificationId(), { timeoutMs: 5000 });
    return { round, tricks: dog.state.tricks, sit: await counts.get("sit"), progress: changes.filter((c) => c.type === "progress").at(-1) };
  }, fido.id);
  assert.deepEqual(seen.round, { pushed: 0, pulled: 4 });
  assert.deepEqual(seen.tricks, ["sit", "beg", "sit"]);
  assert.deepEqual(seen.sit, { count: 2 }, "views see pulled events like local ones");
  assert.deepEqual([seen.progress.pulled, seen.progress.total], [4, 4]);
  // their own events come back on pull and are not doubled
  const again = await one.page.evaluate(async () => ({ round: await sync.now(), log: (await app.notifications({ limit: 100 })).length }));
  assert.deepEqual(again, { round: { pushed: 0, pulled: 0 }, log: 4 });
  await one.close();
  await two.close();
});

test("one round pulls a log of large events whole, over pages the server cut for their size", async () => {
  const url = (await server()).app("dogschool");
  const one = await device(url);
  const sent = await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    const big = "x".repeat(1 << 20);
    for (let n = 0; n < 24; n++) await app.record("Dog", id, "TrickAdded", { trick: `${n} ${big}` });
    return { id, round: await sync.now() };
  });
  assert.deepEqual(sent.round, { pushed: 25, pulled: 0 });
  const two = await device(url, { batch: 10000 });
  const seen = await two.page.evaluate(async (id) => {
    const round = await sync.now();
    const dog = await app.get("Dog", id);
    return { round, tricks: dog.state.tricks.map((t) => t.split(" ")[0]) };
  }, sent.id);
  assert.deepEqual(seen.round, { pushed: 0, pulled: 25 }, "every event in one round (the server's pages hold about 8 MiB)");
  assert.deepEqual(seen.tricks, Array.from({ length: 24 }, (_, n) => String(n)));
  await one.close();
  await two.close();
});


test("a conflict keeps both sides until resolved; the log and every view then agree with the server", async () => {
  const { one, two, id } = await twoDevicesWithFido();
  // both teach Fido a trick while offline: both at version 2
  await one.page.evaluate(async (id) => { await app.record("Dog", id, "TrickAdded", { trick: "sit" }); await sync.now(); }, id);
  const out = await two.page.evaluate(async (id) => {
    await app.record("Dog", id, "TrickAdded", { trick: "beg" });
    await app.record("Dog", id, "TrickAdded", { trick: "roll" });
    await counts.wait(await app.maxNotificationId());
    const round = await sync.now();
    const conflicts = await sync.conflicts();
    const head = await app.maxNotificationId();
    await counts.wait(head, { timeoutMs: 5000 });
    const rows = await counts.all();
    await counts.rebuild();
    const rebuilt = await counts.all();
    return {
      round, tricks: (await app.get("Dog", id)).state.tricks, pending: sync.status().pending,
      conflicts: conflicts.map((c) => ({ version: c.version, local: c.local.map((e) => e.data.trick), server: c.server.map((e) => e.data.trick), dates: c.local.every((e) => e.timestamp instanceof Date) })),
      rows, rebuilt, conflictId: conflicts[0].id,
    };
  }, id);
  assert.equal(out.round.pushed, 0);
  assert.deepEqual(out.tricks, ["sit"], "the server's event won in the local log");
  assert.deepEqual(out.conflicts, [{ version: 2, local: ["beg", "roll"], server: ["sit"], dates: true }]);
  assert.equal(out.pending, 0, "lost events are not pushed");
  assert.deepEqual(out.rows, [{ key: "sit", value: { count: 1 } }], "the view forgot the lost events");
  assert.deepEqual(out.rows, out.rebuilt, "and equals its rebuild");
  const resolved = await two.page.evaluate(async ([id, conflictId]) => {
    const bad = await sync.resolve("not-a-uuid", "rebase").catch((e) => e.name);
    const badHow = await sync.resolve(conflictId, "merge").catch((e) => e.name);
    await sync.resolve(conflictId, "rebase");
    const round = await sync.now();
    return { bad, badHow, round, tricks: (await app.get("Dog", id)).state.tricks, conflicts: (await sync.conflicts()).length };
  }, [id, out.conflictId]);
  assert.deepEqual([resolved.bad, resolved.badHow], ["ValidationError", "ValidationError"]);
  assert.deepEqual(resolved.round, { pushed: 2, pulled: 0 });
  assert.deepEqual(resolved.tricks, ["sit", "beg", "roll"]);
  assert.equal(resolved.conflicts, 0);
  const final = await one.page.evaluate(async (id) => { await sync.now(); return (await app.get("Dog", id)).state.tricks; }, id);
  assert.deepEqual(final, ["sit", "beg", "roll"]);
  await one.close();
  await two.close();
});

test("a conflict that takes rows out of a view tells its subscribers, in this tab and another", async () => {
  const { one, two, id } = await twoDevicesWithFido();
  await one.page.evaluate(async (id) => { await app.record("Dog", id, "TrickAdded", { trick: "sit" }); await sync.now(); }, id);
  // device two teaches "beg" offline, and watches its row here and in a second tab
  const other = await two.open();
  await other.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.counts = defineTrickCounts(await openDogSchool("dogschool"));
    globalThis.heard = [];
    counts.subscribe((change) => heard.push(change), { key: "beg" });
  });
  const out = await two.page.evaluate(async (id) => {
    const { notificationId } = await app.record("Dog", id, "TrickAdded", { trick: "beg" });
    await counts.wait(notificationId, { timeoutMs: 5000 });
    const before = await counts.get("beg");
    globalThis.heard = [];
    counts.subscribe((change) => heard.push(change), { key: "beg" });
    await sync.now(); // the server's "sit" takes version 2: "beg" is lost
    await counts.wait(await app.maxNotificationId(), { timeoutMs: 5000 });
    await new Promise((done) => setTimeout(done, 300));
    return { before, after: await counts.get("beg"), heard: heard.length };
  }, id);
  assert.deepEqual([out.before, out.after], [{ count: 1 }, undefined], "the conflict took the row out");
  assert.ok(out.heard > 0, "a subscriber of the row heard that it changed");
  const otherTab = await other.evaluate(() => heard.length);
  assert.ok(otherTab > 0, "so did one in another tab");
  await one.close();
  await two.close();
});

test("a conflict's server side holds only the server's events, and resolve counts the events it leaves pending", async () => {
  const { one, two, id } = await twoDevicesWithFido();
  const teach = (device, trick) => device.page.evaluate(([id, trick]) => app.record("Dog", id, "TrickAdded", { trick }), [id, trick]);
  // Two conflicts on Fido: "beg" loses to "sit" at version 2, then "roll" to "jump" at version 3.
  await teach(one, "sit");
  await one.page.evaluate(() => sync.now());
  await teach(two, "beg");
  await two.page.evaluate(() => sync.now());
  await teach(two, "roll");
  await teach(one, "jump");
  await one.page.evaluate(() => sync.now());
  const out = await two.page.evaluate(async () => {
    await sync.now();
    const sides = async () => (await sync.conflicts()).map((c) => ({ version: c.version, local: c.local.map((e) => e.data.trick), server: c.server.map((e) => e.data.trick) }));
    const before = await sides();
    const roll = (await sync.conflicts()).find((c) => c.version === 3);
    await sync.resolve(roll.id, "rebase"); // "roll" again at version 4, pending
    return { before, after: await sides(), pending: sync.status().pending };
  });
  assert.deepEqual(out.before, [{ version: 2, local: ["beg"], server: ["sit", "jump"] }, { version: 3, local: ["roll"], server: ["jump"] }], "oldest first");
  assert.deepEqual(out.after, [{ version: 2, local: ["beg"], server: ["sit", "jump"] }], "the rebased roll is this device's, not the server's");
  assert.equal(out.pending, 1, "resolve counted the rebased event as pending");
  await one.close();
  await two.close();
});

test("a conflict kept earlier and rebased by a later round's sync reaches the views", async () => {
  const { one, two, id } = await twoDevicesWithFido();
  await one.page.evaluate(async (id) => {
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await sync.now();
  }, id);
  const seen = await two.page.evaluate(async ([id, token]) => {
    const url = sync.url;
    await app.record("Dog", id, "TrickAdded", { trick: "roll" });
    await sync.now();
    const kept = (await sync.conflicts()).length;
    sync.stop();
    // the round that kept it was cut off before it could rebase: a sync that rebases takes it up
    const rebasing = app.sync({ url, token, onConflict: "rebase" });
    const round = await rebasing.now();
    await counts.wait(await app.maxNotificationId(), { timeoutMs: 3000 });
    return { kept, round, roll: await counts.get("roll"), sit: await counts.get("sit"), left: (await rebasing.conflicts()).length };
  }, [id, TOKEN]);
  assert.deepEqual(seen, { kept: 1, round: { pushed: 1, pulled: 0 }, roll: { count: 1 }, sit: { count: 1 }, left: 0 });
  await one.close();
  await two.close();
});

test("a round goes on when only the server's wait route fails (asked first, for the progress total)", async () => {
  const started = await server();
  const proxy = await faultProxy(started.base);
  proxy.answer((req) => (req.url.includes("/wait?") ? { status: 502, body: "bad gateway" } : null));
  const two = await device(`${proxy.base}/acme/dogschool`);
  const out = await two.page.evaluate(async () => {
    await app.create("Dog", "Registered", { name: "Rex" });
    return { round: await sync.now().catch((e) => `${e.name}: ${e.message}`), status: sync.status() };
  });
  assert.deepEqual(out.round, { pushed: 1, pulled: 0 });
  assert.deepEqual([out.status.state, out.status.pending], ["idle", 0]);
  await two.close();
});
