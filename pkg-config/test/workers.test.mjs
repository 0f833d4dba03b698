// tributary in workers, in every engine: a dedicated module Worker and its page
// share one application (records, a view, live changes both ways), and a
// SharedWorker is the one context that syncs for the pages connected to it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";

const servers = [];
after(() => Promise.all(servers.map((server) => server.stop())));

/** In the page: `globalThis.worker` answers requests (see pages/worker.js) through `globalThis.ask`. */
const startWorker = (page, shared) => page.evaluate(async (shared) => {
  const url = "/test/worker.js";
  const port = shared ? new SharedWorker(url, { type: "module" }).port : new Worker(url, { type: "module" });
  const waiting = new Map();
  let n = 0;
  port.onmessage = ({ data }) => {
    const { resolve, reject } = waiting.get(data.n);
    waiting.delete(data.n);
    if ("error" in data) reject(new Error(data.error));
    else resolve(data.value);
  };
  port.onerror = (event) => console.error("worker failed", event.message);
  globalThis.ask = (request, args = {}) => new Promise((resolve, reject) => {
    waiting.set(++n, { resolve, reject });
    port.postMessage({ n, request, ...args });
  });
  return ask("open");
}, shared);

test("a dedicated module Worker and its page share one application: records, a view and its changes, both ways", async () => {
  const { pages: [page], close } = await tabs();
  const opened = await startWorker(page, false);
  assert.deepEqual(opened, { locks: true, scope: "DedicatedWorkerGlobalScope" });
  const out = await page.evaluate(async () => {
    const { openDogSchool, defineTrickCounts } = await import("/test/dogschool.js");
    const app = await openDogSchool("dogschool");
    const counts = defineTrickCounts(app);
    const { id } = await ask("create", { name: "Fido" });
    await ask("teach", { id, trick: "sit" });
    const fromWorker = await ask("teach", { id, trick: "sit" });
    await counts.wait(fromWorker.notificationId, { timeoutMs: 10_000 });
    const inPage = { dog: (await app.get("Dog", id)).state, sit: (await counts.get("sit")).count };
    const fromPage = await app.record("Dog", id, "TrickAdded", { trick: "beg" });
    const inWorker = { dog: await ask("dog", { id }), beg: await ask("count", { trick: "beg", after: fromPage.notificationId }) };
    const until = Date.now() + 10_000;
    while (!(await ask("heard")).includes("beg") && Date.now() < until) await new Promise((done) => setTimeout(done, 50));
    return { inPage, inWorker, heard: await ask("heard") };
  });
  assert.deepEqual(out.inPage, { dog: { name: "Fido", tricks: ["sit", "sit"] }, sit: 2 });
  assert.deepEqual(out.inWorker, { dog: { name: "Fido", tricks: ["sit", "sit", "beg"] }, beg: 1 });
  assert.ok(out.heard.includes("sit") && out.heard.includes("beg"), `the worker's subscriber heard ${out.heard}`);
  await close();
});

test("a SharedWorker syncs for every page connected to it: what the pages record reaches the server", async () => {
  const server = await startServer();
  servers.push(server);
  const { pages: [one, two], close } = await tabs(2);
  for (const page of [one, two]) assert.equal((await startWorker(page, true)).scope, "SharedWorkerGlobalScope");
  await one.evaluate(([url, token]) => ask("sync", { url, token }), [server.app("dogschool"), TOKEN]);
  for (const [page, name] of [[one, "Fido"], [two, "Rex"]]) {
    await page.evaluate(async (name) => {
      const { openDogSchool } = await import("/test/dogschool.js");
      await (await openDogSchool("dogschool")).create("Dog", "Registered", { name });
    }, name);
  }
  const pushed = async () => {
    const reply = await fetch(`${server.app("dogschool")}/notifications?start=1&limit=10`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return (await reply.json()).length;
  };
  const until = Date.now() + 20_000;
  while ((await pushed()) < 2 && Date.now() < until) await new Promise((done) => setTimeout(done, 100));
  assert.equal(await pushed(), 2);
  assert.equal((await two.evaluate(() => ask("syncStatus"))).pending, 0);
  await close();
});
