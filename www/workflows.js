// The workflow part of the dashboard: starts and advances workflow runs and
// renders tributary's workflow views live (they re-render on each committed change).

const $ = (id) => document.getElementById(id);
const TASKS = { "segment cells": ["load", "segment", "save"], "track nuclei": ["load", "track", "link", "save"], "classify tissue": ["load", "classify"] };

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

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");

export function workflows(app, act) {
  const progress = app.view("workflowProgress");

  async function start(form) {
    const name = form.name.value;
    const run = crypto.randomUUID();
    const tasks = TASKS[name].map(() => crypto.randomUUID());
    await app.recordMany([
      { aggregate: "WorkflowRun", id: run, event: "Created", expectedVersion: 0, data: { name, user: form.user.value, group: "lab", taskIds: tasks } },
      ...tasks.map((id, i) => ({ aggregate: "Task", id, event: "Created", expectedVersion: 0, data: { name: TASKS[name][i], version: "1.0", workflowId: run } })),
      { aggregate: "WorkflowRun", id: run, event: "Started", data: {} },
    ]);
  }

  /** One step of every running workflow: start its next task, let its job progress, finish it. */
  async function advance() {
    for (const { key: id, value } of await progress.query({ index: "status", gte: "running", lte: "running" })) {
      const run = await app.get("WorkflowRun", id);
      const tasks = await Promise.all(run.state.taskIds.map((task) => app.get("Task", task)));
      const next = tasks.find((t) => t.state.status !== "completed");
      if (!next) {
        await app.record("WorkflowRun", id, "Completed", {}, { expectedVersion: run.version });
      } else if (next.state.status === "failed") {
        await app.record("WorkflowRun", id, "Failed", { error: `${next.state.name} failed` }, { expectedVersion: run.version });
      } else if (next.state.status === "created") {
        const job = `job-${next.id.slice(0, 6)}`;
        await app.recordMany([
          { aggregate: "Task", id: next.id, event: "Started", data: {}, expectedVersion: next.version },
          { aggregate: "Task", id: next.id, event: "JobAdded", data: { jobId: job } },
        ]);
      } else if (next.state.progress < 100) {
        const job = next.state.jobIds.at(-1);
        await app.record("Task", next.id, "StatusUpdated", { jobId: job, status: "running", progress: Math.min(100, next.state.progress + 50) }, { expectedVersion: next.version });
      } else {
        const failed = Math.random() < 0.15;
        await app.record("Task", next.id, failed ? "Failed" : "Completed", failed ? { error: "the job was lost" } : { results: { ok: true } }, { expectedVersion: next.version });
      }
      void value;
    }
  }

  async function render() {
    const rows = await progress.all();
    $("workflows").replaceChildren(...rows.map(({ value: w }) => {
      const row = cells(document.createElement("tr"), [w.name, w.user, w.status, bar(w.progress), w.currentTask, time(w.startedAt), time(w.endedAt)]);
      row.className = w.status;
      return row;
    }));
    const jobs = await app.view("jobProgress").all();
    const owners = new Map((await app.view("jobAccounting").all()).map((r) => [r.key, r.value]));
    $("jobs").replaceChildren(...jobs.slice(-12).map(({ key, value }) => cells(document.createElement("tr"), [key, owners.get(key)?.user, value.status, `${value.progress}%`])));
    const stats = await app.taskStatistics();
    $("stats").replaceChildren(...stats.map((s) => cells(document.createElement("tr"), [s.name, s.finished, `${Math.round(s.failureRate * 100)}%`, s.meanDurationMs === null ? "" : `${(s.meanDurationMs / 1000).toFixed(1)} s`])));
  }

  let pending = false;
  const rerender = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  };
  for (const name of ["workflowProgress", "jobProgress", "jobAccounting", "taskAnalytics"]) app.view(name).subscribe(rerender);

  $("start-workflow").onsubmit = (event) => {
    event.preventDefault();
    act(() => start(event.target), "Started a workflow: its run and tasks were recorded in one atomic save.");
  };
  $("advance").onclick = () => act(advance, "Advanced every running workflow by one step.");
  let timer;
  $("auto").onchange = (event) => {
    clearInterval(timer);
    if (event.target.checked) timer = setInterval(() => advance().catch(() => {}), 1000);
  };
  return render;
}
