// A workflow run in detail: its tasks (job ids, status, results, errors), its
// status history as a timeline, and the run as it was at any earlier moment: a
// slider over the instants its events (and its tasks') were recorded, each
// shown by reading the aggregates as they were then.

const $ = (id) => document.getElementById(id);
const when = (date) => date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });

function item(tag, text, attributes = {}) {
  return Object.assign(document.createElement(tag), { textContent: text }, attributes);
}

/** Shows runs picked with `show(id)`; `refresh()` reads the shown one again. */
export function runDetail(app) {
  let shown = null;
  /** Every event of the run and its tasks, oldest first. */
  let events = [];

  /** The run and its tasks as they were at `at` (a task created later is left out). */
  async function at(moment) {
    const run = await app.get("WorkflowRun", shown, moment ? { at: moment } : undefined);
    const tasks = [];
    for (const id of run.state.tasks) {
      const task = await app.get("Task", id, moment ? { at: moment } : undefined).catch((error) => (error.name === "NotFoundError" ? null : Promise.reject(error)));
      if (task) tasks.push(task);
    }
    return { run, tasks };
  }

  async function render() {
    const slider = $("run-slider");
    const index = Number(slider.value);
    const moment = index < events.length - 1 ? events[index].timestamp : undefined;
    const { run, tasks } = await at(moment);
    $("run-at").textContent = events[index] ? `${when(events[index].timestamp)} · ${events[index].aggregate}.${events[index].type}` : "";
    $("run-state").textContent = `${run.state.name} · user ${run.state.user}, group ${run.state.group} · ${run.state.status}${run.state.error_message ? ` · ${run.state.error_message}` : ""} · version ${run.version}`;
    const failures = new Map(events.filter((e) => e.type === "TaskFailed" && (!moment || e.timestamp <= moment)).map((e) => [e.originatorId, e.data.error_message]));
    $("run-tasks").replaceChildren(...tasks.map((task) => {
      const row = document.createElement("tr");
      for (const value of [task.state.task_name, task.state.job_ids.join(", "), task.state.status ?? "created", task.state.progress ?? "",
        task.state.results.length ? JSON.stringify(task.state.results) : task.state.result_message ?? "", failures.get(task.id) ?? ""]) row.append(item("td", value));
      row.className = task.state.status === "FAILED" ? "failed" : task.state.status === "COMPLETED" ? "completed" : "";
      return row;
    }));
  }

  async function show(id) {
    shown = id;
    $("run-detail").hidden = false;
    const run = await app.get("WorkflowRun", id);
    const histories = await Promise.all([id, ...run.state.tasks].map((aggregate) => app.history(aggregate)));
    events = histories.flat().sort((a, b) => a.timestamp - b.timestamp || a.originatorVersion - b.originatorVersion);
    const slider = $("run-slider");
    slider.max = String(Math.max(0, events.length - 1));
    slider.value = slider.max;
    $("run-timeline").replaceChildren(...events.filter((e) => e.aggregate === "WorkflowRun" || /Started|Completed|Failed|StatusUpdated/.test(e.type)).map((e) =>
      item("li", `${when(e.timestamp)} · ${e.aggregate === "WorkflowRun" ? "run" : (run.state.tasks.includes(e.originatorId) ? "task" : "")} ${e.type}${e.data.status ? ` ${e.data.status}` : ""}`)));
    await render();
  }

  $("run-slider").oninput = () => render();
  /** Reads the shown run again, unless the reader is looking at an earlier moment of it. */
  const refresh = () => (shown && $("run-slider").value === $("run-slider").max ? show(shown) : Promise.resolve());
  return { show, refresh };
}
