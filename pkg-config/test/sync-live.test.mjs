// Live sync through the published package in headless Chromium, against the
// real server binary: following the server, stopping and starting, and what
// a failing round or server leaves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { device, faultProxy, server, servers } from "./syncing.mjs";

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
    await sync.now(); // rounds take turns: this one ends after both loops' first rounds, however slow the machine
    await new Promise((done) => setTimeout(done, 200));
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
