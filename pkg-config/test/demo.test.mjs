// The demo dashboard (www/), used as a person would: it must show the core
// working from the published package, and keep everything across a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("the demo dashboard registers dogs, teaches tricks, time-travels, and keeps it all across a reload", async () => {
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await page.fill("#register input[name=name]", "Fido");
  await page.click("#register button");
  await page.waitForSelector("#dogs li.selected");
  for (const trick of ["sit", "roll over"]) {
    await page.fill("#teach input[name=trick]", trick);
    await page.click("#teach button:not([type])");
    await page.waitForFunction((trick) => document.getElementById("status").textContent === `Taught ${trick}.`, trick);
  }
  assert.deepEqual(JSON.parse(await page.textContent("#state")), { name: "Fido", tricks: ["sit", "roll over"] });
  assert.equal(await page.locator("#log tr").count(), 3);
  const section = JSON.parse(await page.textContent("#section"));
  assert.equal(section.id, "1,3");

  await page.reload();
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await page.click("#dogs li");
  await page.waitForSelector("#history li:nth-child(3)");
  assert.match(await page.textContent("#history li:first-child"), /^v1 Registered \{"name":"Fido"\}/);
  await page.locator("#version-slider").fill("2");
  await page.waitForFunction(() => JSON.parse(document.getElementById("state").textContent).tricks.length === 1);
  assert.equal(await page.textContent("#at-version"), "2");
  await page.screenshot({ path: process.env.DEMO_SCREENSHOT ?? "/dev/null" }).catch(() => {});
  await close();
});
