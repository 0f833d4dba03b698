// The workflow plots, drawn by uPlot from BIOMERO's views: runs per day by
// final status, how long tasks take per task name, the failure rate per task
// name by day, and compute (task time) per user and group from job accounting.
// Each chart element keeps its uPlot (`element.chart`), whose `data` is what is drawn.

// uPlot formats with navigator.language, read as it loads. WebKitGTK under LANG=C
// gives "C", a tag Intl refuses (uPlot would throw as it loads): the browser's
// default locale stands in for it then.
try {
  new Intl.NumberFormat(navigator.language);
} catch {
  Object.defineProperty(navigator, "language", { value: new Intl.NumberFormat().resolvedOptions().locale, configurable: true });
}
const { default: uPlot } = await import("uplot");

const DAY = 86_400;
const COLORS = ["#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563"];
const day = (iso) => Math.floor(Date.parse(iso) / 1000 / DAY) * DAY;
const seconds = (row) => (row.endTime ? (Date.parse(row.endTime) - Date.parse(row.startTime)) / 1000 : null);
const sorted = (values) => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Runs that ended, per day of their start, by final status. */
export function runsPerDay(progress) {
  const ended = progress.filter((r) => r.status === "DONE" || r.status === "FAILED");
  const days = sorted(ended.map((r) => day(r.startTime)));
  const count = (status) => days.map((d) => ended.filter((r) => r.status === status && day(r.startTime) === d).length);
  return { x: days, series: { DONE: count("DONE"), FAILED: count("FAILED") }, time: true };
}

/** Finished tasks per duration (bounds in seconds: up to 1, 2, 4, ...), one series per task name. */
export function taskDurations(tasks) {
  const finished = tasks.filter((t) => seconds(t) !== null);
  const bucket = (s) => 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(s, 1))));
  const bounds = sorted(finished.map((t) => bucket(seconds(t))));
  const series = Object.fromEntries(sorted(finished.map((t) => t.taskName)).map((name) =>
    [name, bounds.map((b) => finished.filter((t) => t.taskName === name && bucket(seconds(t)) === b).length)]));
  return { x: bounds, series, time: false };
}

/** Of the tasks that ended each day, the share that failed, per task name (null: none ended). */
export function failureRate(tasks) {
  const ended = tasks.filter((t) => t.endTime && (t.status === "COMPLETED" || t.status === "FAILED"));
  const days = sorted(ended.map((t) => day(t.endTime)));
  const series = Object.fromEntries(sorted(ended.map((t) => t.taskName)).map((name) => [name, days.map((d) => {
    const those = ended.filter((t) => t.taskName === name && day(t.endTime) === d);
    return those.length ? those.filter((t) => t.status === "FAILED").length / those.length : null;
  })]));
  return { x: days, series, time: true };
}

/** Task seconds per user (x: user ids), one series per group, from the jobs each task ran. */
export function compute(accounting, tasks) {
  const byTask = new Map(tasks.map((t) => [t.key, t.value]));
  const jobs = accounting.map(({ value }) => ({ ...value, seconds: seconds(byTask.get(value.taskId) ?? {}) ?? 0 }));
  const users = sorted(jobs.map((j) => j.user));
  const series = Object.fromEntries(sorted(jobs.map((j) => j.group)).map((group) =>
    [`group ${group}`, users.map((user) => jobs.filter((j) => j.user === user && j.group === group).reduce((sum, j) => sum + j.seconds, 0))]));
  return { x: users, series, time: false };
}

/** Draws `plot` ({ x, series, time }) in `element`, replacing what was there. */
export function draw(element, plot, { title, y, bars = false, max }) {
  element.chart?.destroy();
  const names = Object.keys(plot.series);
  // Each x value a tick of its own (days as the reader writes dates), and y from 0.
  const label = (v) => (v === null || v === undefined ? "" : plot.time ? new Date(v * 1000).toLocaleDateString(undefined, { timeZone: "UTC" }) : v.toLocaleString());
  const options = {
    title,
    width: Math.max(280, element.clientWidth || 480),
    height: 220,
    scales: { x: { time: false, distr: 2 }, y: { range: (u, low, high) => [0, max ?? Math.max(1, high)] } },
    axes: [{ values: (u, splits) => splits.map(label) }, { label: y }],
    series: [{ label: plot.time ? "day" : "x", value: (u, v) => label(v) }, ...names.map((name, i) => ({
      label: name, stroke: COLORS[i % COLORS.length], fill: bars ? `${COLORS[i % COLORS.length]}55` : undefined,
      width: 2, paths: bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined, spanGaps: false,
    }))],
  };
  element.chart = new uPlot(options, [plot.x, ...names.map((name) => plot.series[name])], element);
  element.setAttribute("aria-label", `${title}: ${names.join(", ") || "no data yet"}`);
}
