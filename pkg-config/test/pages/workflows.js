// Drives BIOMERO's workflow domain from JavaScript, as a dashboard would.
import { openApplication } from "tributary";

export async function openWorkflows(name = "workflows") {
  return (await openApplication(name)).defineWorkflows();
}

export const TASKS = ["_SLURM_Image_Transfer.py", "cellpose", "SLURM_Get_Results.py"];

/** Records `runs` runs of three tasks each (27 events a run) as BIOMERO's tracker would, in one recordMany per 50 runs. */
export async function simulate(app, runs, seed = 0) {
  for (let start = 0; start < runs; start += 50) {
    const batch = [];
    for (let n = seed + start; n < seed + Math.min(runs, start + 50); n++) {
      const run = crypto.randomUUID();
      const tasks = TASKS.map(() => crypto.randomUUID());
      batch.push({ aggregate: "WorkflowRun", id: run, event: "WorkflowInitiated", expectedVersion: -1, data: { name: ["cellpose", "stardist"][n % 2], description: `run ${n}`, user: n % 3, group: 1 } });
      tasks.forEach((task, t) => {
        batch.push({ aggregate: "Task", id: task, event: "TaskCreated", expectedVersion: -1, data: { workflow_id: run, task_name: TASKS[t], task_version: "1.0", input_data: {}, params: { n } } });
        batch.push({ aggregate: "WorkflowRun", id: run, event: "TaskAdded", data: { task_id: task } });
      });
      batch.push({ aggregate: "WorkflowRun", id: run, event: "WorkflowStarted", data: {} });
      tasks.forEach((task, t) => {
        const job = n * 3 + t;
        batch.push({ aggregate: "Task", id: task, event: "TaskStarted", data: {} });
        batch.push({ aggregate: "Task", id: task, event: "JobIdAdded", data: { job_id: job } });
        batch.push({ aggregate: "Task", id: task, event: "StatusUpdated", data: { status: "RUNNING" } });
        batch.push({ aggregate: "Task", id: task, event: "ProgressUpdated", data: { progress: `${(n * 7 + t) % 100}%` } });
        batch.push({ aggregate: "Task", id: task, event: "StatusUpdated", data: { status: "COMPLETED" } });
        batch.push((n + t) % 5 === 0
          ? { aggregate: "Task", id: task, event: "TaskFailed", data: { error_message: "node lost" } }
          : { aggregate: "Task", id: task, event: "TaskCompleted", data: { result: "ok" } });
      });
      batch.push(n % 5 === 0
        ? { aggregate: "WorkflowRun", id: run, event: "WorkflowFailed", data: { error_message: "a task failed" } }
        : { aggregate: "WorkflowRun", id: run, event: "WorkflowCompleted", data: {} });
    }
    await app.recordMany(batch);
  }
  return app.maxNotificationId();
}

export const VIEWS = ["jobAccounting", "jobProgress", "workflowProgress", "taskAnalytics"];
