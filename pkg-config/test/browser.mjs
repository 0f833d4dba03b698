// Page-test plumbing: the demo server (with the test pages mounted at /test/) and
// the browser engine named by BROWSER (chromium, the default; firefox; webkit),
// each Debian's own build. Each test gets a fresh browser context, so its own
// empty IndexedDB; its pages behave alike in every engine (engines/page.mjs).
import assert from "node:assert/strict";
import { before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { serve } from "../../scripts/serve.mjs";
import { Page } from "./engines/page.mjs";

/** The engine the tests run in. */
export const engine = process.env.BROWSER ?? "chromium";
const engines = { chromium: "./engines/chromium.mjs", firefox: "./engines/firefox.mjs", webkit: "./engines/webkit.mjs" };
if (!engines[engine]) throw new Error(`BROWSER=${engine}: not one of ${Object.keys(engines).join(", ")}`);

let server, browser;
const contexts = new Set();
export let base;

before(async () => {
  server = await serve(0, { "/test/": fileURLToPath(new URL("./pages/", import.meta.url)) });
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await (await import(engines[engine])).launch();
});

after(async () => {
  for (const context of contexts) await context.close().catch(() => {}); // a failed test's, left open
  await browser?.close();
  server?.close();
});

/**
 * A fresh profile's storage, and `tabs` pages open on the blank test page or `path` (`open` opens
 * another). `close` fails the test if any page threw an error nobody caught (a timer
 * or a promise of the package failing behind the caller's back), but those it expects.
 * `quota`: the bytes of storage the pages' origin may use, as near as the engine allows.
 */
export async function tabs(count = 1, path = "/test/", { quota } = {}) {
  const url = /^https?:/.test(path) ? path : base + path;
  const context = await browser.newContext({ quota });
  contexts.add(context);
  const uncaught = [];
  const open = async () => {
    const page = await Page.open((heard) => context.newPage(url, heard));
    page.on("pageerror", (error) => uncaught.push(String(error)));
    return page;
  };
  const pages = [];
  for (let i = 0; i < count; i++) pages.push(await open());
  /** `expected`: a pattern of uncaught errors the test provokes on purpose. */
  const close = async (expected) => {
    contexts.delete(context);
    await context.close();
    assert.deepEqual(uncaught.filter((error) => !expected?.test(error)), [], "no error the pages left uncaught");
  };
  /** Takes the profile off the network, or back on, where the engine can (Chromium); else undefined. */
  const offline = context.offline && ((on) => context.offline(on));
  return { pages, open, close, offline };
}
