// The React hooks (tributary/react) in a real app: test/bundlers/react.js,
// bundled by esbuild with React 19's development build, each probe mounted in
// StrictMode. A hook re-renders on an event recorded in another tab, on a sync
// pull and on a rebuild; it renders no more than the changes ask; unmounting
// leaves no subscription behind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { serve } from "../../scripts/serve.mjs";
import { tabs } from "./browser.mjs";
import { server } from "./syncing.mjs";
import { TOKEN } from "./server.mjs";

const run = promisify(execFile);
const app = fileURLToPath(new URL("./bundlers/", import.meta.url));
let out, url, stop;

before(async () => {
  const packed = fileURLToPath(new URL("../../target/npm/", import.meta.url));
  const tarball = (await readdir(packed)).find((name) => /^tributary-.*\.tgz$/.test(name));
  await run("npm", ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", join(packed, tarball)], { cwd: app });
  out = await mkdtemp(join(tmpdir(), "tributary-react-"));
  await run(join(app, "node_modules/esbuild/bin/esbuild"), [
    "react.js", "--bundle", "--format=esm", "--target=es2022", "--loader:.wasm=file", '--define:process.env.NODE_ENV="development"',
    `--outfile=${join(out, "main.js")}`, "--log-level=warning",
  ], { cwd: app });
  await copyFile(join(app, "index.html"), join(out, "index.html"));
  const served = await serve(0, { "/": out });
  stop = () => new Promise((done) => served.close(done));
  url = `http://127.0.0.1:${served.address().port}/`;
});

after(async () => {
  await stop?.();
  await rm(out, { recursive: true, force: true });
});

/** Pages of one profile with the app loaded and the dog school open (syncing with `sync`, if given). */
async function opened(count, sync) {
  const { pages, close } = await tabs(count, url);
  for (const page of pages) {
    await page.waitForFunction(() => document.getElementById("out")?.textContent === "ready", null, { timeout: 60_000 });
    await page.evaluate((sync) => harness.open(sync), sync);
  }
  return { pages, close };
}

/** Waits until probe `id`'s last render passes `check` (run in the page as its source). */
async function rendered(page, id, check) {
  // Nothing rendered yet (React renders after the mount returns) passes no check.
  await page.waitForFunction(([id, check]) => harness.last(id) !== undefined && (0, eval)(check)(harness.last(id)), [id, check], { timeout: 10_000 });
  return page.evaluate((id) => harness.renders(id), id);
}

test("useView re-renders a row when another tab records the event that changes it, and no more", async () => {
  const { pages: [mine, other], close } = await opened(2);
  const id = await mine.evaluate(() => harness.mount("row", { k: "sit" }));
  await rendered(mine, id, "(s) => !s.loading");
  const before = (await mine.evaluate((id) => harness.renders(id), id)).length;
  await other.evaluate(async () => {
    const { id } = await harness.app.create("Dog", "Registered", { name: "Fido" });
    await harness.app.record("Dog", id, "TrickAdded", { trick: "beg" }); // another row: not this probe's
    await harness.app.record("Dog", id, "TrickAdded", { trick: "sit" });
  });
  const renders = await rendered(mine, id, "(s) => s.value?.count === 1");
  await new Promise((done) => setTimeout(done, 300)); // time for a loop to show
  const settled = await mine.evaluate((id) => harness.renders(id), id);
  assert.equal(settled.length, renders.length, "no render after the value settled");
  // StrictMode renders twice per change: the load, then the one change of this row.
  assert.ok(settled.length - before <= 2, `${settled.length - before} renders for one change: ${JSON.stringify(settled)}`);
  assert.deepEqual(settled[0], { loading: true, value: null, error: null });
  await close();
});

test("useView of a query re-renders on a rebuild that changes the rows; unmounting leaves no subscription", async () => {
  const { pages: [page], close } = await opened(1);
  const out = await page.evaluate(async () => {
    const { id } = await harness.app.create("Dog", "Registered", { name: "Fido" });
    const { notificationId } = await harness.app.record("Dog", id, "TrickAdded", { trick: "sit" });
    await harness.tricks.wait(notificationId);
    const subscribedBefore = harness.subscribed;
    const probe = harness.mount("rows");
    return { probe, subscribedBefore };
  });
  await rendered(page, out.probe, "(s) => s.value?.[0]?.value.count === 1");
  assert.equal(await page.evaluate(() => harness.subscribed), out.subscribedBefore + 1, "StrictMode's second mount leaves one subscription");
  await page.evaluate(() => harness.recount());
  await rendered(page, out.probe, "(s) => s.value?.[0]?.value.count === 10");
  await page.evaluate((id) => harness.unmount(id), out.probe);
  assert.equal(await page.evaluate(() => harness.subscribed), out.subscribedBefore, "unmounted: no listener left");
  await close();
});

test("useAggregate and useSyncStatus re-render on a sync pull of what another device recorded", async () => {
  const started = await server();
  const sync = { url: started.app("dogschool"), token: TOKEN };
  const one = await opened(1, sync);
  const two = await opened(1, sync);
  const [mine, theirs] = [one.pages[0], two.pages[0]];
  const dog = await mine.evaluate(() => harness.app.idFor("Dog", "Rex"));
  const probe = await mine.evaluate((id) => harness.mount("dog", { id }), dog);
  const status = await mine.evaluate(() => harness.mount("status"));
  await rendered(mine, probe, "(s) => s.error === 'NotFoundError'");
  await theirs.evaluate(async (id) => {
    await harness.app.create("Dog", "Registered", { name: "Rex" }, { id });
    await harness.sync.now();
  }, dog);
  await mine.evaluate(() => harness.sync.now());
  const renders = await rendered(mine, probe, "(s) => s.value?.state?.name === 'Rex'");
  assert.equal(renders.at(-1).value.version, 1);
  assert.equal(renders.at(-1).error, null, "the error went with the read that found it");
  const statuses = await rendered(mine, status, "(s) => s.value?.state === 'idle' && s.value.position === 1");
  assert.ok(statuses.some((s) => s.value?.state === "syncing"), "the round showed as it went");
  await mine.evaluate(() => harness.unmount(1));
  await mine.evaluate(() => harness.unmount(2));
  assert.equal(await mine.evaluate(() => harness.subscribed), 0);
  await one.close();
  await two.close();
});
