// The workflow part of the dashboard: starts and advances BIOMERO workflow runs
// (its events and fields, as its WorkflowTracker records them) and renders
// BIOMERO's four views live (live queries of the package: each re-renders the
// part when its rows changed), with plots of them and any of them as CSV.
import { liveView } from "tributary";
import { compute, draw, failureRate, runsPerDay, taskDurations } from "./charts.js";
import { download } from "./csv.js";
import { runDetail } from "./run.js";

const $ = (id) => document.getElementById(id);
const TASKS = {
  "segment cells": ["_SLURM_Image_Transfer.py", "cellpose", "SLURM_Get_Results.py"],
  "track nuclei": ["_SLURM_Image_Transfer.py", "convert_zarr_to_tiff", "stardist"],
  "classify tissue": ["_SLURM_Image_Transfer.py", "classify"],
};
const ENDED = new Set(["DONE", "FAILED"]);

function cells(row, values) {
  for (const value of values) {
    const td = document.createElement("td");
    if (value instanceof Node) td.append(value);
    else td.textContent = value ?? "";
    row.append(td);
  }
  return row;
}

function bar(percent) {
  const outer = document.createElement("div");
  outer.className = "bar";
  outer.title = `${percent}%`;
  const inner = document.createElement("span");
  inner.style.width = `${percent}%`;
  outer.append(inner);
  return outer;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "");

export function workflows(app, act) {
  const progress = app.view("workflowProgress");

  async function start(form) {
    const name = form.name.value;
    const run = crypto.randomUUID();
    const tasks = TASKS[name].map(() => crypto.randomUUID());
    const user = Number.parseInt(form.user.value, 10) || 0;
    await app.recordMany([
      { aggregate: "WorkflowRun", id: run, event: "WorkflowInitiated", expectedVersion: -1, data: { name, description: `${name}, from the dashboard`, user, group: 1 } },
      ...tasks.flatMap((id, i) => [
        { aggregate: "Task", id, event: "TaskCreated", expectedVersion: -1, data: { workflow_id: run, task_name: TASKS[name][i], task_version: "1.0", input_data: {}, params: {} } },
        { aggregate: "WorkflowRun", id: run, event: "TaskAdded", data: { task_id: id } },
      ]),
      { aggregate: "WorkflowRun", id: run, event: "WorkflowStarted", data: {} },
    ]);
  }

  /** One step of every running workflow: its next task starts its Slurm job, progresses, or ends. */
  async function advance() {
    for (const { key: id } of (await progress.all()).filter(({ value }) => !ENDED.has(value.status))) {
      const run = await app.get("WorkflowRun", id);
      if (ENDED.has(run.state.status)) continue;
      const tasks = await Promise.all(run.state.tasks.map((task) => app.get("Task", task)));
      const next = tasks.find((t) => t.state.result_message === null);
      const on = (task, event, data = {}) => ({ aggregate: "Task", id: task.id, event, data });
      if (tasks.some((t) => t.state.status === "FAILED")) {
        await app.record("WorkflowRun", id, "WorkflowFailed", { error_message: "a task failed" }, { expectedVersion: run.version });
      } else if (!next) {
        await app.record("WorkflowRun", id, "WorkflowCompleted", {}, { expectedVersion: run.version });
      } else if (next.state.status === null) {
        await app.recordMany([
          { ...on(next, "TaskStarted"), expectedVersion: next.version },
          on(next, "JobIdAdded", { job_id: Math.floor(Math.random() * 1e6) }),
          on(next, "StatusUpdated", { status: "RUNNING" }),
        ]);
      } else if (Number.parseInt(next.state.progress ?? "0", 10) < 100) {
        const percent = Math.min(100, Number.parseInt(next.state.progress ?? "0", 10) + 50);
        await app.record("Task", next.id, "ProgressUpdated", { progress: `${percent}%` }, { expectedVersion: next.version });
      } else {
        const failed = Math.random() < 0.15;
        await app.recordMany([
          { ...on(next, "StatusUpdated", { status: failed ? "FAILED" : "COMPLETED" }), expectedVersion: next.version },
          failed ? on(next, "TaskFailed", { error_message: "the job was lost" }) : on(next, "TaskCompleted", { result: "ok" }),
        ]);
      }
    }
  }

  const detail = runDetail(app);

  /** The runs the filter lets through, in its order (status RUNNING: any not ended). */
  function filtered(rows) {
    const f = $("filter");
    const number = (text) => (text.trim() === "" ? null : Number(text));
    const [user, group] = [number(f.user.value), number(f.group.value)];
    const by = f.sort.value;
    const key = (w) => (by === "progress" ? Number.parseFloat(w.progress) : w[by]);
    return rows
      .filter(({ value: w }) => w.name.toLowerCase().includes(f.name.value.trim().toLowerCase()))
      .filter(({ value: w }) => (user === null || w.user === user) && (group === null || w.group === group))
      .filter(({ value: w }) => !f.status.value || (f.status.value === "RUNNING" ? !ENDED.has(w.status) : w.status === f.status.value))
      .sort((a, b) => (key(a.value) < key(b.value) ? -1 : key(a.value) > key(b.value) ? 1 : 0) * (by === "startTime" || by === "progress" ? -1 : 1));
  }

  /** The four views' rows, kept current by the package's live queries. */
  const live = Object.fromEntries(["workflowProgress", "jobProgress", "jobAccounting", "taskAnalytics"].map((name) => [name, liveView(app.view(name), { query: {} })]));
  const rowsOf = (name) => live[name].current.value ?? [];

  async function render() {
    const rows = rowsOf("workflowProgress");
    $("workflows").replaceChildren(...filtered(rows).map(({ key: id, value: w }) => {
      const open = Object.assign(document.createElement("button"), { type: "button", className: "link", textContent: w.name, title: "Show this run" });
      open.onclick = () => act(() => detail.show(id), `Showing run ${id.slice(0, 8)}.`);
      const row = cells(document.createElement("tr"), [open, w.user, w.group, w.status, bar(Number.parseFloat(w.progress)), w.task, w.mainTaskName, time(w.startTime)]);
      row.className = w.status === "DONE" ? "completed" : w.status === "FAILED" ? "failed" : "running";
      row.dataset.id = id;
      return row;
    }));
    const jobs = rowsOf("jobProgress");
    const owners = new Map(rowsOf("jobAccounting").map((r) => [r.key, r.value]));
    $("jobs").replaceChildren(...jobs.slice(-12).map(({ key, value }) => cells(document.createElement("tr"), [key, owners.get(key)?.user, value.status, value.progress ?? ""])));
    const stats = await app.taskStatistics();
    const percent = (share) => share.toLocaleString(undefined, { style: "percent" });
    const seconds = (ms) => (ms / 1000).toLocaleString(undefined, { style: "unit", unit: "second", maximumFractionDigits: 1 });
    $("stats").replaceChildren(...stats.map((s) => cells(document.createElement("tr"), [s.name, s.finished.toLocaleString(), percent(s.failureRate), s.meanDurationMs === null ? "" : seconds(s.meanDurationMs)])));
    const tasks = rowsOf("taskAnalytics");
    const accounting = rowsOf("jobAccounting");
    draw($("chart-runs"), runsPerDay(rows.map((r) => r.value)), { title: "Runs per day, by final status", y: "runs", bars: true });
    draw($("chart-durations"), taskDurations(tasks.map((t) => t.value)), { title: "Task durations (up to s), per task", y: "tasks", bars: true });
    draw($("chart-failures"), failureRate(tasks.map((t) => t.value)), { title: "Failure rate per task, by day", y: "failed share", max: 1 });
    draw($("chart-compute"), compute(accounting, tasks), { title: "Compute per user (x) and group", y: "task seconds", bars: true });
    await detail.refresh();
  }

  let pending = false;
  const rerender = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  };
  for (const query of Object.values(live)) query.subscribe(rerender);

  $("start-workflow").onsubmit = (event) => {
    event.preventDefault();
    act(() => start(event.target), "Started a workflow: its run and tasks were recorded in one atomic save.");
  };
  $("advance").onclick = () => act(advance, "Advanced every running workflow by one step.");
  $("filter").oninput = () => rerender();
  $("filter").onsubmit = (event) => event.preventDefault();
  $("export").onsubmit = (event) => {
    event.preventDefault();
    const name = event.target.view.value;
    act(() => download(app.view(name)), `Exported ${name} as ${name}.csv.`);
  };
  let timer;
  $("auto").onchange = (event) => {
    clearInterval(timer);
    if (event.target.checked) timer = setInterval(() => advance().catch(() => {}), 1000);
  };
  return render;
}
