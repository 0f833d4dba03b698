// The workflow domain through the published package, in headless Chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tabs } from "./browser.mjs";

test("BIOMERO's workflow views follow runs and tasks recorded from JavaScript, and a second tab sees them", async () => {
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
    const { id: run, version } = await app.create("WorkflowRun", "WorkflowInitiated", { name: "cellpose", description: "nuclei ✓", user: 5, group: 7 });
    const { id: task } = await app.create("Task", "TaskCreated", { workflow_id: run, task_name: "cellpose", task_version: "v1.2.7", input_data: {}, params: { diameter: 30.5 } });
    await app.record("WorkflowRun", run, "TaskAdded", { task_id: task }, { expectedVersion: 0 });
    await app.record("WorkflowRun", run, "WorkflowStarted", {});
    await app.record("Task", task, "TaskStarted", {});
    await app.record("Task", task, "JobIdAdded", { job_id: 17 });
    await app.record("Task", task, "StatusUpdated", { status: "RUNNING" });
    const { notificationId } = await app.record("Task", task, "ProgressUpdated", { progress: "43%" });
    const progress = app.view("workflowProgress");
    await progress.wait(notificationId);
    const during = await progress.get(run);
    await app.record("Task", task, "StatusUpdated", { status: "COMPLETED" });
    await app.record("Task", task, "TaskCompleted", { result: "812 cells" });
    const { notificationId: last } = await app.record("WorkflowRun", run, "WorkflowCompleted", {});
    for (const name of ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"]) await app.view(name).wait(last);
    const history = await app.history(run);
    return {
      run, task, version, last, during,
      after: await progress.get(run),
      job: await app.view("jobAccounting").get("17"),
      jobProgress: await app.view("jobProgress").get("17"),
      analytics: await app.view("taskAnalytics").get(task),
      byUser: (await app.view("workflowProgress").query({ index: "user", gte: 5, lte: 5 })).length,
      stats: await app.taskStatistics(),
      state: (await app.get("WorkflowRun", run)).state,
      versions: history.map((e) => e.originatorVersion),
      section: (await app.notificationLog.section("1,1")).items[0].topic,
    };
  });
  assert.equal(out.version, 0, "BIOMERO's aggregates start at version 0");
  assert.deepEqual(out.versions, [0, 1, 2, 3]);
  assert.equal(out.section, "biomero.eventsourcing:WorkflowRun.WorkflowInitiated", "stored under BIOMERO's topics");
  assert.deepEqual([out.during.status, out.during.progress, out.during.mainTaskName, out.during.user], ["JOB_RUNNING", "50%", "cellpose", 5]);
  assert.deepEqual([out.after.status, out.after.progress], ["DONE", "100%"]);
  assert.deepEqual(out.job, { user: 5, group: 7, taskId: out.task });
  assert.deepEqual(out.jobProgress, { status: "COMPLETED", progress: "43%" });
  assert.deepEqual([out.analytics.taskName, out.analytics.taskVersion, out.analytics.userId, out.analytics.status], ["cellpose", "v1.2.7", 5, "COMPLETED"]);
  assert.match(out.analytics.endTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
  assert.equal(out.byUser, 1);
  assert.deepEqual(out.stats.map((s) => [s.name, s.count, s.finished, s.failureRate]), [["cellpose", 1, 1, 0]]);
  assert.deepEqual([out.state.status, out.state.tasks], ["DONE", [out.task]]);
  // the second tab reads the same rows, and heard the changes
  await two.waitForFunction(() => changes.length > 0);
  const seen = await two.evaluate(async (run) => (await app.view("workflowProgress").get(run)).status, out.run);
  assert.equal(seen, "DONE");
  await close();
});

test("workflow views rebuilt from 10,800 events equal the views built as the events came", async () => {
  const { pages: [page], close } = await tabs();
  const out = await page.evaluate(async () => {
    const { openWorkflows, simulate, VIEWS } = await import("/test/workflows.js");
    const app = await openWorkflows();
    let head = 0;
    for (let chunk = 0; chunk < 4; chunk++) {
      head = await simulate(app, 100, chunk * 100);
      for (const name of VIEWS) await app.view(name).wait(head, { timeoutMs: 30000 });
    }
    const incremental = await Promise.all(VIEWS.map((name) => app.view(name).all()));
    const progress = [];
    for (const name of VIEWS) await app.view(name).rebuild({ onProgress: (p) => progress.push(p) });
    const rebuilt = await Promise.all(VIEWS.map((name) => app.view(name).all()));
    return { head, sizes: incremental.map((rows) => rows.length), same: JSON.stringify(incremental) === JSON.stringify(rebuilt), last: progress.at(-1), stats: await app.taskStatistics() };
  });
  assert.equal(out.head, 10800);
  assert.deepEqual(out.sizes, [1200, 1200, 400, 1200]);
  assert.ok(out.same, "rebuilt rows differ");
  assert.deepEqual(out.last, { processed: 10800, total: 10800 });
  assert.deepEqual(out.stats.map((s) => [s.name, s.finished, Math.round(s.failureRate * 100)]), [["SLURM_Get_Results.py", 400, 20], ["_SLURM_Image_Transfer.py", 400, 20], ["cellpose", 400, 20]]);
  await close();
});
