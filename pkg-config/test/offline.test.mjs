// The dashboard offline, as a person lives it: loaded once, it reloads with its
// data when the network (the profile offline, in Chromium) and the servers are
// gone (its service worker keeps the page, scripts, styles and the WebAssembly),
// records there, and syncs once the server is back: a second browser profile
// then sees what was recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { serve } from "../../scripts/serve.mjs";
import { engine, tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";

const run = promisify(execFile);
const shots = fileURLToPath(new URL("../../target/screenshots/", import.meta.url));

/** The dashboard served on a port of its own (so that it can be taken away); its URL and how to stop it. */
async function site() {
  const server = await serve(0);
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    stop: () => new Promise((done) => {
      server.close(done);
      server.closeAllConnections();
    }),
  };
}

const ready = (page) => page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"), null, { timeout: 30_000 });
const dogs = (page) => page.evaluate(() => [...document.querySelectorAll("#dogs li")].map((li) => li.textContent.split(" (")[0]).sort());
const synced = (page) => page.waitForFunction(() => /^idle · 0 pending/.test(document.getElementById("sync-status").textContent), null, { timeout: 30_000 });

async function register(page, name) {
  await page.fill("#register input[name=name]", name);
  await page.click("#register button");
  await page.waitForFunction((name) => [...document.querySelectorAll("#dogs li")].some((li) => li.textContent.startsWith(`${name} (`)), name);
}

async function connect(page, url) {
  await page.fill("#connect input[name=url]", url);
  await page.fill("#connect input[name=token]", TOKEN);
  await page.click("#connect button:not([type])");
  await synced(page);
}

test("the dashboard reloads with its data with the network and the server gone, records, and syncs once the server is back", async () => {
  mkdirSync(shots, { recursive: true });
  const server = await startServer();
  const first = await site();
  const { pages: [page], close, offline } = await tabs(1, first.url);
  await ready(page);
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  // (The test's profile is an incognito one, which Chromium never installs apps from: that says nothing of the app.)
  const refusals = (await page.installability() ?? []).filter(({ errorId }) => errorId !== "in-incognito");
  assert.deepEqual(refusals, [], "Chromium would offer to install it as an app");
  await connect(page, server.app("dogschool"));
  await register(page, "Fido");
  await synced(page);

  // The network gone: the profile offline where the engine allows it (Chromium), and the servers stopped.
  await offline?.(true);
  await first.stop();
  await server.kill();
  await page.reload();
  await ready(page);
  assert.deepEqual(await dogs(page), ["Fido"], "the page and its data, with nothing to serve them");
  await register(page, "Rex");
  await page.waitForFunction(() => /^offline · 1 pending/.test(document.getElementById("sync-status").textContent), null, { timeout: 30_000 });
  assert.match(await page.textContent("#sync-status"), /^offline · 1 pending · server position 1 · last synced /, "where the last sync left it, and when");
  await page.screenshot({ path: `${shots}${engine}-dashboard-offline.png`, fullPage: true });

  const again = await server.restart();
  await offline?.(false);
  await page.click("#sync-now");
  await synced(page);
  const other = await site();
  const { pages: [theirs], close: closeTheirs } = await tabs(1, other.url);
  await ready(theirs);
  await connect(theirs, again.app("dogschool"));
  await theirs.waitForFunction(() => document.querySelectorAll("#dogs li").length === 2, null, { timeout: 30_000 });
  assert.deepEqual(await dogs(theirs), ["Fido", "Rex"], "what was recorded offline reached another profile");
  await closeTheirs();
  await close();
  await other.stop();
  await again.stop(); // and the data both shared
});

test("a new release of the dashboard is picked up on the next load, whole: never one version's page with another's scripts", async () => {
  const folder = mkdtempSync(join(tmpdir(), "tributary-dashboard-"));
  cpSync(fileURLToPath(new URL("../../www/", import.meta.url)), folder, { recursive: true });
  const release = async (n) => {
    for (const [file, mark] of [["index.html", `<!-- release ${n} -->`], ["main.js", `globalThis.release = ${n};`]]) {
      const text = readFileSync(join(folder, file), "utf8").replace(/\n(<!-- release \d+ -->|globalThis\.release = \d+;)$/, "");
      writeFileSync(join(folder, file), `${text}\n${mark}`);
    }
    await run(process.execPath, [fileURLToPath(new URL("../../scripts/offline.mjs", import.meta.url)), folder]);
  };
  /** Which release the page is, and which its main script (what the page ran), and how many versions are kept. */
  const loaded = async (page) => {
    await page.waitForFunction(() => globalThis.release !== undefined, null, { timeout: 30_000 });
    return page.evaluate(async () => ({
      page: /release (\d+)/.exec([...document.childNodes].filter((n) => n.nodeType === Node.COMMENT_NODE).map((n) => n.textContent).join(""))?.[1],
      script: String(globalThis.release),
      caches: (await caches.keys()).filter((name) => name.startsWith("tributary-dashboard-") && name !== "tributary-dashboard-settings").length,
    }));
  };
  await release(1);
  const server = await serve(0, { "/": folder });
  const url = `http://127.0.0.1:${server.address().port}/`;
  const { pages: [page], close } = await tabs(1, url);
  await ready(page);
  await page.waitForFunction(() => navigator.serviceWorker?.controller != null, null, { timeout: 30_000 });
  await release(2);
  await page.reload(); // served release 1 from its cache; the browser finds release 2 meanwhile
  await ready(page);
  const before = await loaded(page);
  assert.deepEqual([before.page, before.script], ["1", "1"]);
  // Release 2 installed whole and in charge: one version kept, and it is 2's.
  await page.waitForFunction(async () => {
    const kept = (await caches.keys()).filter((name) => name.startsWith("tributary-dashboard-") && name !== "tributary-dashboard-settings");
    return kept.length === 1 && /globalThis\.release = 2;/.test(await (await (await caches.open(kept[0])).match("main.js"))?.text());
  }, null, { timeout: 30_000 });
  await page.reload();
  await ready(page);
  assert.deepEqual(await loaded(page), { page: "2", script: "2", caches: 1 });
  await close();
  await new Promise((done) => {
    server.close(done);
    server.closeAllConnections();
  });
  rmSync(folder, { recursive: true, force: true });
});
