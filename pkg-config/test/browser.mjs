// Page-test plumbing: the demo server (with the test pages mounted at /test/)
// and Debian's Chromium driven by playwright-core. Each test gets a fresh
// browser context, so its own empty IndexedDB.
import assert from "node:assert/strict";
import { before, after } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../../scripts/serve.mjs";

let server, browser;
export let base;

before(async () => {
  server = await serve(0, { "/test/": fileURLToPath(new URL("./pages/", import.meta.url)) });
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/**
 * A fresh origin's storage, and `tabs` pages open on the blank test page (`open` opens
 * another). `close` fails the test if any page threw an error nobody caught (a timer
 * or a promise of the package failing behind the caller's back), but those it expects.
 */
export async function tabs(count = 1, path = "/test/") {
  const context = await browser.newContext();
  const uncaught = [];
  const open = async () => {
    const page = await context.newPage();
    page.on("pageerror", (error) => uncaught.push(String(error)));
    await page.goto(base + path);
    return page;
  };
  const pages = [];
  for (let i = 0; i < count; i++) pages.push(await open());
  /** `expected`: a pattern of uncaught errors the test provokes on purpose. */
  const close = async (expected) => {
    await context.close();
    assert.deepEqual(uncaught.filter((error) => !expected?.test(error)), [], "no error the pages left uncaught");
  };
  return { pages, open, close };
}

