// The workflow domain through the published package, in headless Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("workflow views follow runs and tasks recorded from JavaScript, and a second tab sees them", async () => {
  const { pages: [one, two], close } = await tabs(2);
  const open = (page) => page.evaluate(async () => {
    const { openWorkflows } = await import("/test/workflows.js");
    globalThis.app = await openWorkflows();
    globalThis.changes = [];
    app.view("workflowProgress").subscribe((change) => changes.push(change));
  });
  await open(one);
  await open(two);
  const out = await one.evaluate(async () => {
    const run = crypto.randomUUID();
    const task = crypto.randomUUID();
    await app.create("WorkflowRun", "Created", { name: "segment cells", user: "alice", group: "lab", taskIds: [task] }, { id: run });
    await app.record("WorkflowRun", run, "Started", {});
    await app.create("Task", "Created", { name: "segment", version: "1.2", workflowId: run }, { id: task });
    await app.record("Task", task, "Started", {});
    await app.record("Task", task, "JobAdded", { jobId: "slurm-1" });
    const { notificationId } = await app.record("Task", task, "StatusUpdated", { jobId: "slurm-1", status: "running", progress: 40 });
    const progress = app.view("workflowProgress");
    await progress.wait(notificationId);
    const during = await progress.get(run);
    await app.record("Task", task, "Completed", { results: { cells: 3 } });
    const { notificationId: last } = await app.record("WorkflowRun", run, "Completed", {});
    for (const name of ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"]) await app.view(name).wait(last);
    return {
      run, task, last, during,
      after: await progress.get(run),
      job: await app.view("jobAccounting").get("slurm-1"),
      jobProgress: await app.view("jobProgress").get("slurm-1"),
      analytics: await app.view("taskAnalytics").get(task),
      byUser: (await app.view("workflowProgress").query({ index: "user", gte: "alice", lte: "alice" })).length,
      stats: await app.taskStatistics(),
      state: (await app.get("WorkflowRun", run)).state.status,
    };
  });
  assert.equal(out.during.currentTask, "segment");
  assert.equal(out.during.status, "running");
  assert.deepEqual([out.after.status, out.after.progress, out.after.tasksDone, out.after.currentTask], ["completed", 100, 1, null]);
  assert.deepEqual(out.job, { user: "alice", group: "lab", taskId: out.task, workflowId: out.run });
  assert.deepEqual(out.jobProgress, { taskId: out.task, status: "running", progress: 40 });
  assert.equal(out.analytics.status, "completed");
  assert.equal(typeof out.analytics.durationMs, "number");
  assert.equal(out.byUser, 1);
  assert.deepEqual(out.stats.map((s) => [s.name, s.finished, s.failureRate]), [["segment", 1, 0]]);
  assert.equal(out.state, "completed");
  // the second tab reads the same rows, and heard the changes
  await two.waitForFunction(() => changes.length > 0);
  const seen = await two.evaluate(async (run) => (await app.view("workflowProgress").get(run)).status, out.run);
  assert.equal(seen, "completed");
  await close();
});

test("workflow views rebuilt from 10,500 events equal the views built as the events came", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openWorkflows, simulate, VIEWS } = await import("/test/workflows.js");
    const app = await openWorkflows();
    let head = 0;
    for (let chunk = 0; chunk < 5; chunk++) {
      head = await simulate(app, 100, chunk * 100);
      for (const name of VIEWS) await app.view(name).wait(head, { timeoutMs: 30000 });
    }
    const incremental = await Promise.all(VIEWS.map((name) => app.view(name).all()));
    const progress = [];
    for (const name of VIEWS) await app.view(name).rebuild({ onProgress: (p) => progress.push(p) });
    const rebuilt = await Promise.all(VIEWS.map((name) => app.view(name).all()));
    return { head, sizes: incremental.map((rows) => rows.length), same: JSON.stringify(incremental) === JSON.stringify(rebuilt), last: progress.at(-1), stats: await app.taskStatistics() };
  });
  assert.equal(out.head, 10500);
  assert.deepEqual(out.sizes, [1500, 1500, 500, 1500]);
  assert.ok(out.same, "rebuilt rows differ");
  assert.deepEqual(out.last, { processed: 10500, total: 10500 });
  assert.deepEqual(out.stats.map((s) => [s.name, s.finished, Math.round(s.failureRate * 100)]), [["compute", 500, 20], ["load", 500, 20], ["save", 500, 20]]);
  await close();
});
