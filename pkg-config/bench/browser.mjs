// Benchmark plumbing: the demo server (with the test pages at /test/ and Dexie
// at /dexie/) and one headless Chromium page, shared by every benchmark of a run.
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "../../scripts/serve.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export async function openBench() {
  const server = await serve(0, { "/test/": here("../test/pages/"), "/bench/": here("./"), "/dexie/": here("../node_modules/dexie/dist/") });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage();
  page.on("console", (message) => message.type() === "error" && console.error("page:", message.text()));
  await page.goto(`http://127.0.0.1:${server.address().port}/test/`);
  return { page, close: async () => { await browser.close(); server.close(); } };
}

/** Events per second, readably. */
export const rate = (count, ms) => Math.round(count / (ms / 1000)).toLocaleString("en");

/** A figure next to its limit: "1.2x (limit 1.5x)". */
export const against = (ours, raw, limit) => `${(ours / raw).toFixed(2)}x raw (limit ${limit}x)`;
