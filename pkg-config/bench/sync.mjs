// Sync over loopback: 10,000 events pushed by one device and pulled by another
// (browser contexts, IndexedDB, the server binary on SQLite), next to the same
// events written straight to the server's SQLite by a native loop (the limit).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../../scripts/serve.mjs";
import { startServer, TOKEN } from "../test/server.mjs";
import { rate } from "./browser.mjs";

export async function sync(events = 10000) {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const limit = Number(execFileSync("cargo", ["run", "--quiet", "--release", "-p", "tributary-server", "--example", "sqlite_limit", String(events), "1000"], { cwd: root, encoding: "utf8" }).trim());
  const server = await startServer();
  const pages = await serve(0, { "/test/": fileURLToPath(new URL("../test/pages/", import.meta.url)) });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const device = async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${pages.address().port}/test/`);
    await page.evaluate(async ([url, token]) => {
      const { openDogSchool } = await import("/test/dogschool.js");
      globalThis.app = await openDogSchool("dogschool");
      globalThis.sync = app.sync({ url, token });
    }, [server.app("dogschool"), TOKEN]);
    return page;
  };
  try {
    const [one, two] = [await device(), await device()];
    const pushedMs = await one.evaluate(async (events) => {
      const { teach } = await import("/test/dogschool.js");
      await teach(app, events - 1, ["sit", "beg", "roll"]);
      const started = performance.now();
      const round = await sync.now();
      if (round.pushed !== events) throw new Error(`pushed ${round.pushed}`);
      return performance.now() - started;
    }, events);
    const pulledMs = await two.evaluate(async (events) => {
      const started = performance.now();
      const round = await sync.now();
      if (round.pulled !== events) throw new Error(`pulled ${round.pulled}`);
      return performance.now() - started;
    }, events);
    console.log(`sync over loopback, ${events.toLocaleString("en")} events in batches of 1,000 (IndexedDB on both ends):`);
    console.log(`  pushed by one device ${rate(events, pushedMs)} ev/s | pulled by another ${rate(events, pulledMs)} ev/s | the same events written straight to the server's SQLite by a native loop ${limit.toLocaleString("en")} ev/s`);
  } finally {
    await browser.close();
    pages.close();
    await server.stop();
  }
}
