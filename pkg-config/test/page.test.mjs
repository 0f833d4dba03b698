// The release package, exactly as built for publishing, loaded by the demo page
// in headless Chromium: proof that the optimised wasm loads and runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { serve } from "../../scripts/serve.mjs";

let server, browser, base;

before(async () => {
  server = await serve(0);
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

test("the demo page runs the dog school in wasm and shows the Python-format log", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(base);
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Saved"));
  const section = JSON.parse(await page.textContent("#section"));
  assert.equal(section.id, "1,6");
  assert.equal(section.next_id, null);
  assert.deepEqual(section.items.map((n) => n.topic), ["Dog.Registered", "Dog.TrickAdded", "Dog.Registered", "Dog.TrickAdded", "Dog.Registered", "Dog.TrickAdded"]);
  assert.match(section.items[0].originator_id, /^[0-9a-f]{32}$/);
  const state = JSON.parse(atob(section.items[1].state));
  assert.equal(state.trick, "roll over");
  assert.equal(state.timestamp._type_, "datetime_iso");
  assert.deepEqual(errors, []);
});

test("an error from the core reaches the page as a typed JS Error", async () => {
  const page = await browser.newPage();
  await page.goto(base);
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Saved"));
  // The same dog registered twice in one batch: the whole batch conflicts.
  await page.fill("input[name=names]", "Fido, Fido");
  await page.click("button");
  await page.waitForFunction(() => document.getElementById("status").className === "error");
  const status = await page.textContent("#status");
  assert.match(status, /^ConflictError: conflict: aggregate [0-9a-f-]{36} already has version 1/);
});
