// The demo dashboard (www/), used as a person would: it must show the core
// working from the published package, and keep everything across a reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";
import { startServer, TOKEN } from "./server.mjs";
import { startBiomero } from "./peers.mjs";
import { randomBytes } from "node:crypto";

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
  await page.click("#dogs li button");
  await page.waitForSelector("#history li:nth-child(3)");
  assert.match(await page.textContent("#history li:first-child"), /^v1 Registered \{"name":"Fido"\}/);
  await page.locator("#version-slider").fill("2");
  await page.waitForFunction(() => JSON.parse(document.getElementById("state").textContent).tricks.length === 1);
  assert.equal(await page.textContent("#at-version"), "2");
  await page.screenshot({ path: process.env.DEMO_SCREENSHOT ?? "/dev/null" }).catch(() => {});
  await close();
});

test("the demo dashboard starts and advances workflows, shows their views live, and keeps them across a reload", async () => {
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  for (const name of ["segment cells", "classify tissue"]) {
    await page.selectOption("#start-workflow select", name);
    await page.click("#start-workflow button:not([type])");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Started a workflow"));
    await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  }
  await page.waitForFunction(() => document.querySelectorAll("#workflows tr").length === 2);
  for (let i = 0; i < 14; i++) {
    await page.click("#advance");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Advanced"));
    await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  }
  await page.waitForFunction(() => [...document.querySelectorAll("#workflows tr")].every((r) => r.className !== "running"), null, { timeout: 10000 });
  const statuses = await page.$$eval("#workflows tr", (rows) => rows.map((r) => r.className).sort());
  assert.ok(statuses.every((s) => s === "completed" || s === "failed"), statuses.join());
  await page.waitForFunction(() => document.querySelectorAll("#stats tr").length >= 2);
  assert.ok(await page.locator("#jobs tr").count() >= 2);
  await page.screenshot({ path: process.env.DEMO_SCREENSHOT ?? "/dev/null", fullPage: true }).catch(() => {});

  await page.reload();
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await page.waitForFunction(() => document.querySelectorAll("#workflows tr").length === 2);
  assert.deepEqual(await page.$$eval("#workflows tr", (rows) => rows.map((r) => r.className).sort()), statuses);
  await close();
});

/** Rows of CSV text (RFC 4180) as objects by its header. */
function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(cell), (cell = "");
    else if (c === "\r" && text[i + 1] === "\n") row.push(cell), rows.push(row), (row = []), (cell = ""), i++;
    else cell += c;
  }
  const [header, ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])));
}

/** Starts each workflow `[name, user]` from the form, then advances them all until every one has ended. */
async function runWorkflows(page, workflows) {
  for (const [name, user] of workflows) {
    await page.selectOption("#start-workflow select", name);
    await page.fill("#start-workflow input[name=user]", user);
    await page.click("#start-workflow button:not([type])");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Started a workflow"));
    await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  }
  for (let i = 0; i < 16; i++) {
    await page.click("#advance");
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Advanced"));
    await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  }
  await page.waitForFunction(() => [...document.querySelectorAll("#workflows tr")].every((r) => r.className !== "running"), null, { timeout: 10000 });
}

test("the dashboard's plots hold what BIOMERO's views hold, and each view exports as CSV", async () => {
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await runWorkflows(page, [["segment cells", "5"], ["classify tissue", "5"], ["segment cells", "5"]]);
  const views = {};
  for (const name of ["workflowProgress", "taskAnalytics", "jobAccounting"]) views[name] = parseCsv(await page.evaluate((name) => dashboard.csv(name), name));
  assert.equal(views.workflowProgress.length, 3);
  const ended = (status) => views.workflowProgress.filter((r) => r.status === status).length;
  const seconds = (task) => (task.endTime ? (Date.parse(task.endTime) - Date.parse(task.startTime)) / 1000 : null);
  const finished = views.taskAnalytics.filter((t) => seconds(t) !== null);
  const byTask = new Map(views.taskAnalytics.map((t) => [t.key, t]));
  const computed = views.jobAccounting.reduce((sum, job) => sum + (seconds(byTask.get(job.taskId)) ?? 0), 0);
  const failedShare = (name) => {
    const those = views.taskAnalytics.filter((t) => t.taskName === name && (t.status === "COMPLETED" || t.status === "FAILED"));
    return those.filter((t) => t.status === "FAILED").length / those.length;
  };
  // The plots, once drawn from the views as they are now.
  await page.waitForFunction(([done, failed]) => {
    const data = document.getElementById("chart-runs").chart?.data;
    const total = (i) => (data?.[i] ?? []).reduce((a, b) => a + b, 0);
    return total(1) === done && total(2) === failed;
  }, [ended("DONE"), ended("FAILED")], { timeout: 10000 });
  const plots = await page.evaluate(() => Object.fromEntries(["runs", "durations", "failures", "compute"].map((id) => {
    const chart = document.getElementById(`chart-${id}`).chart;
    return [id, { labels: chart.series.slice(1).map((s) => s.label), data: chart.data }];
  })));
  const sum = (plot) => plot.data.slice(1).flat().reduce((a, b) => a + (b ?? 0), 0);
  assert.deepEqual(plots.runs.labels, ["DONE", "FAILED"]);
  assert.equal(sum(plots.durations), finished.length, "every finished task in one duration bucket");
  assert.deepEqual(plots.durations.labels, [...new Set(finished.map((t) => t.taskName))].sort());
  for (const [i, name] of plots.failures.labels.entries()) {
    assert.equal(plots.failures.data[i + 1].at(-1), failedShare(name), `failure rate of ${name}`);
  }
  assert.ok(Math.abs(sum(plots.compute) - computed) < 1e-6, `compute: ${sum(plots.compute)} s plotted, ${computed} s in the views`);
  assert.deepEqual(plots.compute.data[0], [...new Set(views.jobAccounting.map((j) => Number(j.user)))].sort((a, b) => a - b));
  await page.screenshot({ path: process.env.DEMO_SCREENSHOT ?? "/dev/null", fullPage: true }).catch(() => {});
  await close();
});

test("the runs filter and sort; a run's detail shows its tasks, jobs and history, and the run as it was", async () => {
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await runWorkflows(page, [["classify tissue", "7"], ["segment cells", "5"]]);
  const names = () => page.$$eval("#workflows tr", (rows) => rows.map((r) => r.querySelector("button").textContent));
  await page.fill("#filter input[name=user]", "7");
  await page.waitForFunction(() => document.querySelectorAll("#workflows tr").length === 1);
  assert.deepEqual(await names(), ["classify tissue"]);
  await page.fill("#filter input[name=user]", "");
  await page.waitForFunction(() => document.querySelectorAll("#workflows tr").length === 2);
  await page.selectOption("#filter select[name=sort]", "name");
  // (the table re-renders on the next frame: wait for the order, not just the rows)
  await page.waitForFunction(() => [...document.querySelectorAll("#workflows tr button")].map((b) => b.textContent).join() === "classify tissue,segment cells");
  assert.deepEqual(await names(), ["classify tissue", "segment cells"]);
  await page.fill("#filter input[name=name]", "SEGMENT");
  await page.waitForFunction(() => document.querySelectorAll("#workflows tr").length === 1);
  assert.deepEqual(await names(), ["segment cells"]);

  await page.click("#workflows tr button");
  await page.waitForFunction(() => document.querySelectorAll("#run-tasks tr").length === 3);
  const end = await page.evaluate(() => ({
    state: document.getElementById("run-state").textContent,
    jobs: [...document.querySelectorAll("#run-tasks tr")].map((r) => r.children[1].textContent),
    timeline: document.querySelectorAll("#run-timeline li").length,
  }));
  assert.match(end.state, /^segment cells · user 5, group 1 · (DONE|FAILED)/);
  assert.ok(end.jobs.some((jobs) => /^\d+$/.test(jobs)), `job ids: ${end.jobs}`);
  assert.ok(end.timeline >= 5, `${end.timeline} entries in the status history`);
  await page.locator("#run-slider").fill("0");
  await page.waitForFunction(() => !/DONE|FAILED/.test(document.getElementById("run-state").textContent));
  const start = await page.evaluate(() => [...document.querySelectorAll("#run-tasks tr")].map((r) => [r.children[1].textContent, r.children[2].textContent]));
  assert.ok(start.every(([jobs, status]) => jobs === "" && status === "created"), `at its first moment no task had started: ${JSON.stringify(start)}`);
  await close();
});

test("every control of the dashboard has a name and takes the keyboard, and the layout fits a tablet and a laptop", async () => {
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await page.fill("#register input[name=name]", "Fido");
  await page.click("#register button");
  await page.waitForSelector("#dogs li.selected");
  const out = await page.evaluate(async () => {
    const unnamed = [...document.querySelectorAll("input, select, button")]
      .filter((e) => !e.labels?.length && !e.getAttribute("aria-label") && !(e.tagName === "BUTTON" && e.textContent.trim()))
      .map((e) => e.outerHTML.slice(0, 80));
    // A dog is picked with a button, so from the keyboard too.
    const pick = document.querySelector("#dogs li button");
    pick.focus();
    const focused = document.activeElement === pick;
    // The page in frames as wide as a tablet and a laptop: nothing wider than the frame.
    const overflow = {};
    for (const width of [768, 1280]) {
      const frame = Object.assign(document.createElement("iframe"), { src: "/", width: String(width), height: "900" });
      document.body.append(frame);
      await new Promise((done) => frame.addEventListener("load", done, { once: true }));
      const until = performance.now() + 20_000;
      while (!frame.contentDocument.getElementById("status")?.textContent.startsWith("Ready") && performance.now() < until) await new Promise((done) => setTimeout(done, 50));
      overflow[width] = frame.contentDocument.documentElement.scrollWidth - width;
      frame.remove();
    }
    return { unnamed, focused, overflow };
  });
  assert.deepEqual(out.unnamed, [], "controls without a label");
  assert.ok(out.focused, "the dog's button takes the focus");
  assert.ok(out.overflow[768] <= 0 && out.overflow[1280] <= 0, `pixels wider than the frame: ${JSON.stringify(out.overflow)}`);
  await close();
});

test("two browser profiles connected to the server see each other's dogs and workflows, through the sync panel", async () => {
  const server = await startServer();
  const profiles = [await tabs(1, "/"), await tabs(1, "/")];
  for (const { pages: [page] } of profiles) {
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
    await page.fill("#connect input[name=url]", server.app("dogschool"));
    await page.fill("#connect input[name=token]", TOKEN);
    await page.click("#connect button:not([type])");
    await page.waitForFunction(() => document.getElementById("sync-status").textContent.startsWith("idle"));
  }
  const [one, two] = profiles.map((p) => p.pages[0]);
  await one.fill("#register input[name=name]", "Fido");
  await one.click("#register button");
  await two.waitForFunction(() => [...document.querySelectorAll("#dogs li")].some((li) => li.textContent.startsWith("Fido")), null, { timeout: 10000 });
  await two.fill("#register input[name=name]", "Rex");
  await two.click("#register button");
  await one.waitForFunction(() => [...document.querySelectorAll("#dogs li")].some((li) => li.textContent.startsWith("Rex")), null, { timeout: 10000 });
  await one.selectOption("#start-workflow select", "track nuclei");
  await one.click("#start-workflow button:not([type])");
  await two.waitForFunction(() => [...document.querySelectorAll("#workflows tr")].some((tr) => tr.textContent.startsWith("track nuclei")), null, { timeout: 10000 });
  await two.click("#advance");
  await two.waitForFunction(() => document.getElementById("status").textContent.startsWith("Advanced"));
  await one.waitForFunction(() => document.querySelectorAll("#jobs tr").length === 1, null, { timeout: 10000 });
  await one.waitForFunction(() => /^idle · 0 pending/.test(document.getElementById("sync-status").textContent));
  await two.waitForFunction(() => /^idle · 0 pending/.test(document.getElementById("sync-status").textContent));
  const rows = (page) => page.$$eval("#workflows tr, #jobs tr", (trs) => trs.map((tr) => [...tr.cells].slice(0, 4).map((td) => td.textContent).join("|")));
  // Each page re-renders once its views caught up with what sync brought: the two agree within moments.
  for (let tries = 0; JSON.stringify(await rows(one)) !== JSON.stringify(await rows(two)) && tries < 100; tries++) await new Promise((done) => setTimeout(done, 100));
  assert.deepEqual(await rows(one), await rows(two));
  assert.match((await rows(one))[0], /^track nuclei\|5\|1\|TRANSFERRING$/);
  for (const profile of profiles) await profile.close();
  await server.stop();
});

test("the dashboard follows a BIOMERO server, decrypting its workflows into BIOMERO's views", async () => {
  const key = randomBytes(32).toString("base64");
  const biomero = await startBiomero({ workflows: 6, key });
  const { pages: [page], close } = await tabs(1, "/");
  await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("Ready"));
  await page.fill("#follow-biomero input[name=url]", biomero.url);
  await page.fill("#follow-biomero input[name=key]", key);
  await page.click("#follow-biomero button");
  const expected = Object.keys((await biomero.views()).workflowProgress).length;
  await page.waitForFunction((n) => document.querySelectorAll("#biomero-workflows tr").length === n, expected, { timeout: 20000 });
  await page.waitForFunction(() => document.getElementById("biomero-status").textContent.startsWith("idle"));
  const statuses = await page.$$eval("#biomero-workflows tr", (rows) => rows.map((r) => r.cells[2].textContent));
  assert.ok(statuses.includes("DONE"), statuses.join());
  await biomero.drive(2);
  await page.waitForFunction((n) => document.querySelectorAll("#biomero-workflows tr").length === n, expected + 2, { timeout: 20000 });
  await close();
  await biomero.stop();
});
