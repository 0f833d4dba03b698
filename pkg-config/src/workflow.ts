// The types of the workflow domain that `defineWorkflows()` adds: workflow runs
// and their tasks, as the core defines them, and the rows of their views.

/** A workflow run's state. */
export interface WorkflowRunState {
  name: string;
  user: string;
  group: string;
  taskIds: string[];
  status: "created" | "running" | "completed" | "failed";
  error: string | null;
}

/** A task's state. */
export interface TaskState {
  name: string;
  version: string;
  workflowId: string | null;
  jobIds: string[];
  status: string;
  progress: number;
  results: unknown;
  error: string | null;
}

export type WorkflowTypes = {
  WorkflowRun: {
    state: WorkflowRunState;
    events: { Created: { name: string; user: string; group: string; taskIds: string[] }; Started: {}; Completed: {}; Failed: { error: string } };
  };
  Task: {
    state: TaskState;
    events: {
      Created: { name: string; version: string; workflowId: string };
      Started: {};
      JobAdded: { jobId: string };
      StatusUpdated: { jobId: string; status: string; progress: number };
      Completed: { results: object };
      Failed: { error: string };
    };
  };
};

/** A row of `workflowProgress`, keyed by the run's id. */
export interface WorkflowProgressRow {
  name: string;
  user: string;
  group: string;
  status: WorkflowRunState["status"];
  /** Percent of tasks completed. */
  progress: number;
  tasks: number;
  tasksDone: number;
  currentTask: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
}

/** How one kind of task (by name) has fared. */
export interface TaskStatistics {
  name: string;
  finished: number;
  failed: number;
  failureRate: number;
  meanDurationMs: number | null;
}
