// Shared by the sync page tests: devices (browser contexts running the dog
// school, syncing), the real server binary, and a proxy that answers for it.
import { after } from "node:test";
import { createServer, request as send } from "node:http";
import { tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";

/** Servers the tests started, stopped after them (push one started by hand). */
export const servers = [];
after(async () => Promise.all(servers.map((s) => s.stop())));
export async function server() {
  const started = await startServer();
  servers.push(started);
  return started;
}

/** A device: a fresh browser context with the dog school open and syncing with `url`. */
export async function device(url, options = {}) {
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
export async function faultProxy(target) {
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

/** Two devices on a fresh server, both holding Fido (registered by the first, synced by both). */
export async function twoDevicesWithFido() {
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

/** A device that pushed Fido and 20 tricks to `url`: 21 events on the server. */
export async function pushedTwentyOne(url) {
  const one = await device(url);
  await one.page.evaluate(async () => {
    const { id } = await app.create("Dog", "Registered", { name: "Fido" });
    for (let i = 0; i < 20; i++) await app.record("Dog", id, "TrickAdded", { trick: `t${i}` });
    await sync.now();
  });
  return one;
}
