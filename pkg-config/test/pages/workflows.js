// Drives the workflow domain from JavaScript, as a dashboard would.
import { openApplication } from "tributary";

export async function openWorkflows(name = "workflows") {
  return (await openApplication(name)).defineWorkflows();
}

/** Records `runs` runs of three tasks each (21 events a run), in one recordMany per 50 runs. */
export async function simulate(app, runs, seed = 0) {
  for (let start = 0; start < runs; start += 50) {
    const batch = [];
    for (let n = seed + start; n < seed + Math.min(runs, start + 50); n++) {
      const run = crypto.randomUUID();
      const tasks = [0, 1, 2].map(() => crypto.randomUUID());
      batch.push({ aggregate: "WorkflowRun", id: run, event: "Created", expectedVersion: 0, data: { name: ["segment", "track"][n % 2], user: ["alice", "bob", "carol"][n % 3], group: "lab", taskIds: tasks } });
      batch.push({ aggregate: "WorkflowRun", id: run, event: "Started", data: {} });
      tasks.forEach((task, t) => {
        const job = `job-${n}-${t}`;
        batch.push({ aggregate: "Task", id: task, event: "Created", expectedVersion: 0, data: { name: ["load", "compute", "save"][t], version: "1.0", workflowId: run } });
        batch.push({ aggregate: "Task", id: task, event: "Started", data: {} });
        batch.push({ aggregate: "Task", id: task, event: "JobAdded", data: { jobId: job } });
        batch.push({ aggregate: "Task", id: task, event: "StatusUpdated", data: { jobId: job, status: "running", progress: 50 } });
        batch.push({ aggregate: "Task", id: task, event: "StatusUpdated", data: { jobId: job, status: "running", progress: 90 } });
        batch.push((n + t) % 5 === 0
          ? { aggregate: "Task", id: task, event: "Failed", data: { error: "node lost" } }
          : { aggregate: "Task", id: task, event: "Completed", data: { results: { n } } });
      });
      batch.push(n % 5 === 0 ? { aggregate: "WorkflowRun", id: run, event: "Failed", data: { error: "a task failed" } } : { aggregate: "WorkflowRun", id: run, event: "Completed", data: {} });
    }
    await app.recordMany(batch);
  }
  return app.maxNotificationId();
}

export const VIEWS = ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"];
