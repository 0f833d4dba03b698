// Sync through the published package in headless Chromium, against the real
// server binary over real HTTP: two devices (browser contexts) converge,
// conflicts are shown and resolved, live sync follows the server, and errors
// are typed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request as send } from "node:http";
import { tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";

const servers = [];
after(async () => Promise.all(servers.map((s) => s.stop())));
async function server() {
  const started = await startServer();
  servers.push(started);
  return started;
}

/** A device: a fresh browser context with the dog school open and syncing with `url`. */
async function device(url, options = {}) {
  const { pages: [page], close, open } = await tabs();
  await page.evaluate(async ([url, token, options]) => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    globalThis.counts = defineTrickCounts(app);
    globalThis.sync = app.sync({ url, token, ...options });
    globalThis.changes = [];
    sync.subscribe((change) => changes.push(change));
  }, [url, TOKEN, options]);
  return { page, close, open };
}

/** A proxy to `target` that answers itself what `answer(req)` returns ({ status, body }), else forwards. */
async function faultProxy(target) {
  let answer = () => null;
  const proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const own = req.method === "OPTIONS" ? null : answer(req);
    if (own) {
      res.writeHead(own.status, { "content-type": "application/json", "access-control-allow-origin": "*" });
      return res.end(own.body ?? "");
    }
    const url = new URL(req.url, target);
    const out = send(url, { method: req.method, headers: { ...req.headers, host: url.host, connection: "close" } }, (reply) => {
      res.writeHead(reply.statusCode, reply.headers);
      reply.pipe(res);
    });
    out.on("error", () => req.socket.destroy());
    out.end(Buffer.concat(chunks));
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  after(() => new Promise((done) => { proxy.closeAllConnections?.(); proxy.close(done); }));
  return { base: `http://127.0.0.1:${proxy.address().port}`, answer: (next) => (answer = next) };
}

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

/** Two devices on a fresh server, both holding Fido (registered by the first, synced by both). */
async function twoDevicesWithFido() {
  const url = (await server()).app("dogschool");
  const [one, two] = [await device(url), await device(url)];
  const id = await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await sync.now();
    return id;
  });
  await two.page.evaluate(() => sync.now());
  return { one, two, id };
}

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

test("live sync brings another device's events within moments, and onConflict rebase resolves by itself", async () => {
  const url = (await server()).app("dogschool");
  const [one, two] = [await device(url), await device(url, { onConflict: "rebase" })];
  await two.page.evaluate(() => sync.start());
  const id = await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await sync.now();
    return id;
  });
  const arrived = await two.page.evaluate(async (id) => {
    const started = performance.now();
    for (;;) {
      const found = await app.get("Dog", id).then((d) => d.state.name, () => null);
      if (found) return { found, ms: performance.now() - started };
      await new Promise((done) => setTimeout(done, 20));
    }
  }, id);
  assert.equal(arrived.found, "Fido");
  assert.ok(arrived.ms < 3000, `arrived in ${Math.round(arrived.ms)} ms`);
  // two records while live: it is pushed without a call
  await two.page.evaluate(async (id) => app.record("Dog", id, "TrickAdded", { trick: "sit" }), id);
  const pushed = await one.page.evaluate(async (id) => {
    for (let i = 0; i < 200; i++) {
      await sync.now();
      const tricks = (await app.get("Dog", id)).state.tricks;
      if (tricks.length) return tricks;
      await new Promise((done) => setTimeout(done, 20));
    }
    return [];
  }, id);
  assert.deepEqual(pushed, ["sit"]);
  await two.page.evaluate(() => sync.stop());
  await one.close();
  await two.close();
});

test("stopping and starting live sync in one turn leaves one loop: one round per news from the server", async () => {
  const url = (await server()).app("dogschool");
  const [one, two] = [await device(url), await device(url)];
  await two.page.evaluate(async () => {
    sync.stop(); // not started: nothing to stop
    sync.start();
    sync.stop();
    sync.start(); // the first loop, woken by the stop, must not carry on beside this one
    await new Promise((done) => setTimeout(done, 500));
    changes.length = 0;
  });
  await one.page.evaluate(async () => {
    await app.create("Dog", "Registered", { name: "Fido" });
    await sync.now();
  });
  const rounds = await two.page.evaluate(async () => {
    await new Promise((done) => setTimeout(done, 1500));
    sync.stop();
    return changes.filter((change) => change.type === "status" && change.status.state === "syncing").length;
  });
  assert.equal(rounds, 1, "one round for the one push another device made");
  await one.close();
  await two.close();
});

test("a wrong token is an AuthError that stops live sync; a server down is a SyncError, offline, then back", async () => {
  const started = await server();
  const url = started.app("dogschool");
  const wrong = await device(url);
  const auth = await wrong.page.evaluate(async (url) => {
    const { openApplication } = await import("tributary");
    const other = (await openApplication("other")).sync({ url, token: "not-the-token" });
    const error = await other.now().catch((e) => ({ name: e.name, message: e.message }));
    other.start();
    await new Promise((done) => setTimeout(done, 300));
    return { error, status: other.status().state };
  }, url);
  assert.equal(auth.error.name, "AuthError");
  assert.match(auth.error.message, /401/);
  assert.equal(auth.status, "failed");
  await wrong.close();
  const one = await device(url);
  await one.page.evaluate(async () => { await app.create("Dog", "Registered", { name: "Fido" }); await sync.now(); });
  await started.kill();
  const offline = await one.page.evaluate(async () => {
    await app.create("Dog", "Registered", { name: "Rex" });
    const error = await sync.now().catch((e) => e.name);
    sync.start();
    await new Promise((done) => setTimeout(done, 200));
    return { error, state: sync.status().state, pending: sync.status().pending };
  });
  assert.deepEqual([offline.error, offline.state], ["SyncError", "offline"]);
  const back = await started.restart();
  servers.push(back);
  const recovered = await one.page.evaluate(async () => {
    for (let i = 0; i < 300; i++) {
      if (sync.status().state === "idle" && sync.status().pending === 0) return sync.status();
      await new Promise((done) => setTimeout(done, 50));
    }
    return sync.status();
  });
  assert.deepEqual([recovered.state, recovered.pending], ["idle", 0], JSON.stringify(recovered));
  await one.page.evaluate(() => sync.stop());
  await one.close();
});

test("stopping live sync ends its wait for the server's news, request and all", async () => {
  const url = (await server()).app("dogschool");
  const { page, close } = await device(url);
  const out = await page.evaluate(async () => {
    const waits = [];
    const fetching = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      // the long poll (a round's own first question, `timeout_ms=0`, answers at once)
      if (/\/wait\?.*timeout_ms=[1-9]/.test(String(input))) waits.push(init.signal);
      return fetching(input, init);
    };
    sync.start();
    for (let i = 0; i < 200 && waits.length === 0; i++) await new Promise((done) => setTimeout(done, 10));
    await new Promise((done) => setTimeout(done, 50));
    sync.stop();
    await null;
    return { waits: waits.length, aborted: waits.map((signal) => signal.aborted) };
  });
  assert.equal(out.waits, 1);
  assert.deepEqual(out.aborted, [true], "the long poll was cancelled");
  await close();
});

test("events pulled by a round that then fails reach the views", async () => {
  const started = await server();
  const proxy = await faultProxy(started.base);
  const one = await device(started.app("dogschool"));
  const two = await device(`${proxy.base}/acme/dogschool`);
  await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await sync.now();
  });
  proxy.answer((req) => (req.method === "POST" && req.url.endsWith("/push") ? { status: 503, body: '{"error":"busy","message":"try later"}' } : null));
  const failed = await two.page.evaluate(async () => {
    await app.create("Dog", "Registered", { name: "Rex" }); // pending: the round pushes after pulling
    await counts.wait(await app.maxNotificationId());
    const error = await sync.now().catch((e) => e.name);
    await new Promise((done) => setTimeout(done, 500));
    return { error, log: (await app.notifications()).length, sit: (await counts.get("sit")) ?? null };
  });
  assert.equal(failed.error, "SyncError");
  assert.equal(failed.log, 3, "Fido and his trick were pulled");
  proxy.answer(() => null);
  const later = await two.page.evaluate(async () => {
    const round = await sync.now(); // pushes Rex: nothing more to pull
    await new Promise((done) => setTimeout(done, 500));
    return { round, sit: (await counts.get("sit")) ?? null };
  });
  assert.deepEqual(later.round, { pushed: 1, pulled: 0 });
  assert.deepEqual([failed.sit, later.sit], [{ count: 1 }, { count: 1 }], "the view saw the pulled trick");
  await one.close();
  await two.close();
});

test("a round that fails after pulling reports in status() the server position it reached", async () => {
  const started = await server();
  const proxy = await faultProxy(started.base);
  const one = await device(started.app("dogschool"));
  const two = await device(`${proxy.base}/acme/dogschool`);
  await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    await app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await sync.now();
  });
  proxy.answer((req) => (req.method === "POST" && req.url.endsWith("/push") ? { status: 503, body: '{"error":"busy","message":"try later"}' } : null));
  const failed = await two.page.evaluate(async () => {
    await app.create("Dog", "Registered", { name: "Rex" }); // pending: the round pulls, then fails to push
    const error = await sync.now().catch((e) => e.name);
    return { error, status: sync.status() };
  });
  assert.equal(failed.error, "SyncError");
  assert.equal(failed.status.state, "offline");
  assert.equal(failed.status.position, 2, "Fido and his trick were pulled");
  await one.close();
  await two.close();
});

/** A device that pushed Fido and 20 tricks to `url`: 21 events on the server. */
async function pushedTwentyOne(url) {
  const one = await device(url);
  await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (let i = 0; i < 20; i++) await app.record("Dog", id, "TrickAdded", { trick: `t${i}` });
    await sync.now();
  });
  return one;
}

test("two syncs of one app with the same server (one URL with a trailing slash) do not race", async () => {
  const started = await server();
  const url = started.app("dogschool");
  const one = await pushedTwentyOne(url);
  const two = await device(url);
  const out = await two.page.evaluate(async ([url, token]) => {
    const results = await Promise.allSettled([sync.now(), app.sync({ url: url + "/", token }).now()]);
    return { results: results.map((r) => r.status === "fulfilled" ? r.value : `${r.reason.name}: ${r.reason.message}`), log: (await app.notifications({ limit: 1000 })).length };
  }, [url, TOKEN]);
  assert.equal(out.log, 21, JSON.stringify(out));
  assert.ok(out.results.every((r) => typeof r === "object"), JSON.stringify(out.results));
  await one.close();
  await two.close();
});

test("progress total against a server without the wait route counts every new event", async () => {
  const started = await server();
  const proxy = await faultProxy(started.base);
  proxy.answer((req) => (req.url.includes("/wait?") ? { status: 404, body: "{}" } : null));
  const one = await device(started.app("dogschool"));
  await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (const trick of ["sit", "beg", "roll", "stay"]) await app.record("Dog", id, "TrickAdded", { trick });
    await sync.now();
  });
  const two = await device(`${proxy.base}/acme/dogschool`, { push: false });
  const progress = await two.page.evaluate(async () => {
    const round = await sync.now();
    return { round, last: changes.filter((c) => c.type === "progress").at(-1) };
  });
  assert.deepEqual(progress.round, { pushed: 0, pulled: 5 });
  assert.deepEqual([progress.last.pulled, progress.last.total], [5, 5]);
  await one.close();
  await two.close();
});

test("two syncs of an in-memory app with the same URL do not race", async () => {
  const started = await server();
  const url = started.app("dogschool");
  const one = await pushedTwentyOne(url);
  const out = await one.page.evaluate(async ([url, token]) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const memory = await openDogSchool("memory", { storage: "memory" });
    const results = await Promise.allSettled([memory.sync({ url, token }).now(), memory.sync({ url, token }).now()]);
    return { results: results.map((r) => r.status === "fulfilled" ? r.value : `${r.reason.name}: ${r.reason.message}`), log: (await memory.notifications({ limit: 1000 })).length };
  }, [url, TOKEN]);
  assert.equal(out.log, 21, JSON.stringify(out));
  assert.ok(out.results.every((r) => typeof r === "object"), JSON.stringify(out.results));
  await one.close();
});

test("a view or a followed application named like a sync's position (\"sync:\" and its url) is refused, and no server event is skipped", async () => {
  const { app: url } = await server();
  const origin = await device(url("dogschool"));
  await origin.page.evaluate(async () => {
    for (const name of ["Rex", "Fido", "Laika"]) await app.create("Dog", "Registered", { name });
    await sync.now();
  });
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([url, token]) => {
    const { openDogSchool, caught } = await import("/test/dogschool.js");
    const { openApplication } = await import("tributary");
    const app = await openDogSchool("dogschool");
    await app.create("Dog", "Registered", { name: "local1" });
    const { notificationId } = await app.create("Dog", "Registered", { name: "local2" });
    const names = [`sync:${url}`, `sync:${url}/`, "sync:", "sync:anything"];
    const views = [];
    for (const name of names) views.push(await caught(() => app.defineView(name, { handle() {} }).wait(notificationId, { timeoutMs: 2000 })));
    const leader = await openApplication(`sync:${url}`);
    const following = await caught(() => app.follow(leader, { policy: () => [] }));
    const round = await app.sync({ url, token, push: false }).now();
    return { views, following, round, names: (await app.notifications({ limit: 100 })).map((n) => n.data.name) };
  }, [url("dogschool"), TOKEN]);
  await close();
  await origin.close();
  assert.equal(out.round.pulled, 3, "every server event pulled");
  assert.deepEqual(out.names.slice(2).sort(), ["Fido", "Laika", "Rex"]);
  for (const error of [...out.views, out.following]) {
    assert.equal(error?.name, "ValidationError", JSON.stringify(error));
    assert.match(error.message, /sync:/);
  }
});

test("a token or a URL that fetch cannot send is a ValidationError of sync(), not a SyncError of every round (generated)", async () => {
  const { app: url } = await server();
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async ([url, token]) => {
    const { openDogSchool } = await import("/test/dogschool.js");
    const { random } = await import("/test/random.js");
    const rng = random(0x70c3);
    const app = await openDogSchool("dogschool");
    const { host, pathname } = new URL(url);
    const unsendable = ["\u0000", "\n", "\r", "\u0100", "😀", "\u2028", "\ufeff"];
    const tokens = Array.from({ length: 60 }, () => {
      const at = rng.int(token.length + 1);
      return token.slice(0, at) + rng.pick(unsendable) + token.slice(at);
    });
    const urls = [`http://user:pass@${host}${pathname}`, `http://user@${host}${pathname}`, `http://${host.split(":")[0]}:99999${pathname}`, "http://[zz]/t/a", "http://%zz/t/a", "https://a\u0000b/t/a", "http://host:port/t/a"];
    const outcome = (options) => {
      try {
        app.sync(options);
        return "made";
      } catch (error) {
        return `${error.name}: ${error.message}`;
      }
    };
    return {
      tokens: tokens.map((t) => [JSON.stringify(t), outcome({ url, token: t })]),
      urls: urls.map((u) => [u, outcome({ url: u, token })]),
      // what fetch sends: Latin-1, tabs and spaces inside (the ends it trims)
      fine: ["é" + token, `${token}\tx`, ` ${token} `].map((t) => outcome({ url, token: t })),
    };
  }, [url("dogschool"), TOKEN]);
  await close();
  for (const [token, got] of out.tokens) assert.match(got, /^ValidationError: .*token/, token);
  for (const [url, got] of out.urls) assert.match(got, /^ValidationError: .*url/, url);
  assert.deepEqual(out.fine, ["made", "made", "made"]);
});

test("without Web Locks (an insecure context), two tabs of a device pulling at once both end their rounds: a page the other recorded meanwhile is no error", async () => {
  const url = (await server()).app("dogschool");
  const writer = await device(url);
  await writer.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (let i = 0; i < 29; i++) await app.record("Dog", id, "TrickAdded", { trick: `trick ${i}` });
    await sync.now();
  });
  const { pages, close } = await tabs(2);
  await Promise.all(pages.map((page) => page.evaluate(async ([url, token]) => {
    delete Navigator.prototype.locks;
    const { openDogSchool } = await import("/test/dogschool.js");
    globalThis.app = await openDogSchool("dogschool");
    globalThis.sync = app.sync({ url, token, batch: 2 }); // 15 pages: the two tabs' rounds interleave
  }, [url, TOKEN])));
  const rounds = await Promise.all(pages.map((page) => page.evaluate(() => sync.now().then((round) => round.pulled, (error) => `${error.name}: ${error.message}`))));
  assert.ok(rounds.every((pulled) => typeof pulled === "number"), JSON.stringify(rounds));
  assert.equal(rounds[0] + rounds[1], 30, "each event pulled once");
  assert.equal(await pages[0].evaluate(async () => (await app.notifications({ limit: 100 })).length), 30);
  await writer.close();
  await close();
});
