// Sync through the published package in headless Chromium: syncs and tabs
// of one device that must not race, progress, and what sync() refuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";
import { TOKEN } from "./server.mjs";
import { device, faultProxy, pushedTwentyOne, server } from "./syncing.mjs";

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

test("a push over the server's body limit gets its 413 in every engine: the page reads it, and sync says so rather than offline", async () => {
  const started = await server();
  const one = await device(started.app("dogschool"));
  const out = await one.page.evaluate(async ([push, token]) => {
    const letters = new Uint8Array(9 * 1024 * 1024);
    for (let at = 0; at < letters.length; at += 65536) crypto.getRandomValues(letters.subarray(at, at + 65536));
    letters.forEach((byte, i) => (letters[i] = 97 + (byte % 26)));
    const big = new TextDecoder().decode(letters);
    const raw = await fetch(push, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: big })
      .then(async (reply) => [reply.status, (await reply.json()).error], (error) => `${error.name}: ${error.message}`);
    const wrongToken = await fetch(push, { method: "POST", headers: { authorization: "Bearer wrong" }, body: big })
      .then((reply) => reply.status, (error) => `${error.name}: ${error.message}`);
    const { id } = await app.create("Dog", "Registered", { name: big });
    const round = await sync.now().then(() => null, (error) => ({ name: error.name, message: error.message }));
    return { raw, wrongToken, round, status: sync.status(), id };
  }, [`${started.app("dogschool")}/push`, TOKEN]);
  assert.deepEqual(out.raw, [413, "PayloadTooLargeError"]);
  assert.equal(out.wrongToken, 413);
  assert.equal(out.round?.name, "SyncError", JSON.stringify(out.round));
  assert.match(out.round.message, /413/);
  assert.equal(out.status.pending, 1, "the event stays pending");
  await one.close();
});
