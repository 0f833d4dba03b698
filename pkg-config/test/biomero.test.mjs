// A page follows a real BIOMERO server (its WorkflowTracker and four views, on
// SQLite, with zlib and AES on, serving its notification log over HTTP): its
// four views hold the same rows as BIOMERO's tables, and stay so live.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tabs } from "./browser.mjs";
import { startBiomero } from "./peers.mjs";

const VIEWS = ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"];

/** The page's four views, as `{ view: { key: row } }`, once they have caught up with `head`. */
function pageViews(page, head) {
  return page.evaluate(async ([views, head]) => {
    const out = {};
    for (const name of views) {
      await app.view(name).wait(head, { timeoutMs: 60000 });
      out[name] = Object.fromEntries((await app.view(name).all()).map(({ key, value }) => [key, value]));
    }
    return out;
  }, [VIEWS, head]);
}

test("a page following a BIOMERO server with zlib and AES holds BIOMERO's four tables in its views, row for row, live", async () => {
  const key = randomBytes(32).toString("base64");
  const biomero = await startBiomero({ workflows: 12, key });
  const { pages: [page], close } = await tabs();
  try {
    const first = await page.evaluate(async ([url, key]) => {
      const { openApplication } = await import("tributary");
      globalThis.app = (await openApplication("biomero", { compress: true, cipherKey: key })).defineWorkflows();
      globalThis.follow = app.sync({ url, push: false, batch: 10 });
      const progress = [];
      follow.subscribe((change) => change.type === "progress" && progress.push(change));
      const round = await follow.now();
      return { round, head: await app.maxNotificationId(), steps: progress.length, status: follow.status() };
    }, [biomero.url, key]);
    const head = await biomero.max();
    assert.equal(first.head, head, "every event of the server was pulled");
    assert.equal(first.round.pulled, head);
    assert.equal(first.round.pushed, 0);
    assert.ok(first.steps >= Math.ceil(head / 10), `progress in batches of 10 (${first.steps} steps for ${head} events)`);
    assert.equal(first.status.position, head);
    const expected = await biomero.views();
    const actual = await pageViews(page, head);
    for (const view of VIEWS) {
      assert.ok(Object.keys(expected[view]).length > 0, `BIOMERO's ${view} has rows`);
      assert.deepEqual(actual[view], expected[view], `${view} equals BIOMERO's table`);
    }
    const statuses = Object.values(actual.workflowProgress).map((row) => row.status);
    assert.ok(statuses.includes("DONE") && statuses.includes("FAILED") && statuses.some((s) => s !== "DONE" && s !== "FAILED"), statuses.join());

    // live: BIOMERO runs more workflows; the page follows, polling (BIOMERO has no wait route)
    await page.evaluate(() => follow.start());
    await biomero.drive(3);
    const later = await biomero.max();
    await page.waitForFunction((later) => follow.status().position === later, later, { timeout: 30000 });
    assert.deepEqual(await pageViews(page, later), await biomero.views(), "still equal after following live");

    // a reload resumes where it was: nothing pulled twice
    await page.evaluate(() => follow.stop());
    await page.reload();
    const resumed = await page.evaluate(async ([url, key]) => {
      const { openApplication } = await import("tributary");
      globalThis.app = (await openApplication("biomero", { compress: true, cipherKey: key })).defineWorkflows();
      const round = await app.sync({ url, push: false }).now();
      return { round, head: await app.maxNotificationId() };
    }, [biomero.url, key]);
    assert.deepEqual([resumed.round.pulled, resumed.head], [0, later]);
  } finally {
    await close();
    await biomero.stop();
  }
});

test("an aggregate pulled from Python, got at its own modifiedOn or at any event's timestamp, includes that event", async () => {
  // Python stamps events to the microsecond; a Date holds milliseconds.
  const key = randomBytes(32).toString("base64");
  const biomero = await startBiomero({ workflows: 3, key });
  const { pages: [page], close } = await tabs();
  try {
    const out = await page.evaluate(async ([url, key]) => {
      const { openApplication } = await import("tributary");
      const app = (await openApplication("biomero-at", { compress: true, cipherKey: key })).defineWorkflows();
      await app.sync({ url, push: false }).now();
      const ids = [...new Set((await app.notifications({ limit: 1000 })).filter((n) => n.topic.includes("WorkflowRun")).map((n) => n.originatorId))];
      const misses = [];
      for (const id of ids) {
        const latest = await app.get("WorkflowRun", id);
        const atOwnTime = await app.get("WorkflowRun", id, { at: latest.modifiedOn }).then((r) => r.version, (e) => e.name);
        if (atOwnTime !== latest.version) misses.push(`${id} latest v${latest.version}, at its modifiedOn: ${atOwnTime}`);
        for (const event of await app.history(id)) {
          const at = await app.get("WorkflowRun", id, { at: event.timestamp }).then((r) => r.version, (e) => e.name);
          if (!(at >= event.originatorVersion)) misses.push(`${id} v${event.originatorVersion} at its timestamp: ${at}`);
        }
      }
      return { runs: ids.length, misses };
    }, [biomero.url, key]);
    assert.ok(out.runs >= 3, `${out.runs} runs`);
    assert.deepEqual(out.misses, []);
  } finally {
    await close();
    await biomero.stop();
  }
});
