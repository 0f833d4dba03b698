// The types of the workflow domain that `defineWorkflows()` adds: BIOMERO's
// `WorkflowRun` and `Task` aggregates with its events and fields (stored under
// BIOMERO's topics, `biomero.eventsourcing:WorkflowRun.TaskAdded`, ...), and the
// rows of its four views, with BIOMERO's column names in camelCase.

/** A workflow run's state: BIOMERO's attributes, and a status. */
export interface WorkflowRunState {
  name: string;
  /** `null` where BIOMERO was given none, as it keeps it. */
  description: string | null;
  user: number;
  group: number;
  /** Task ids, in the order they were added. */
  tasks: string[];
  status: "INITIALIZING" | "RUNNING" | "DONE" | "FAILED";
  error_message: string | null;
}

/** A task's state: BIOMERO's attributes. */
export interface TaskState {
  workflow_id: string | null;
  task_name: string;
  /** `null` where BIOMERO was given none, as it keeps it. */
  task_version: string | null;
  /** What BIOMERO was given: an object, a list of ids or a file name. */
  input_data: unknown;
  params: unknown;
  job_ids: (number | string)[];
  results: unknown[];
  result_message: string | null;
  status: string | null;
  progress: string | null;
}

/** BIOMERO's aggregates count their versions from 0: `expectedVersion: -1` means "new". */
export type WorkflowTypes = {
  WorkflowRun: {
    state: WorkflowRunState;
    events: {
      WorkflowInitiated: { name: string; description: string | null; user: number; group: number };
      TaskAdded: { task_id: string };
      WorkflowStarted: {};
      WorkflowCompleted: {};
      WorkflowFailed: { error_message: string };
    };
  };
  Task: {
    state: TaskState;
    events: {
      TaskCreated: { workflow_id: string; task_name: string; task_version: string | null; input_data: unknown; params: unknown };
      TaskStarted: {};
      JobIdAdded: { job_id: number | string };
      StatusUpdated: { status: string };
      ProgressUpdated: { progress: string };
      ResultAdded: { result: object };
      TaskCompleted: { result: string };
      TaskFailed: { error_message: string };
    };
  };
};

/** A row of `jobAccounting`, keyed by Slurm job id. */
export interface JobAccountingRow {
  user: number;
  group: number;
  taskId: string;
}

/** A row of `jobProgress`, keyed by Slurm job id: status and progress as the task reported them. */
export interface JobProgressRow {
  status: string;
  progress: string | null;
}

/** A row of `workflowProgress`, keyed by the run's id; status and progress as BIOMERO writes them. */
export interface WorkflowProgressRow {
  /** INITIALIZING, TRANSFERRING, CONVERTING, JOB_<slurm status>, RETRIEVING, POSTPROCESSING, DONE, FAILED, ... */
  status: string;
  /** "0%" ... "100%" (interpolated job progress reads like "67.2%"). */
  progress: string;
  user: number;
  group: number;
  name: string;
  /** The task added last. */
  task: string | null;
  /** The first task that is not infrastructure (`_slurm_*`, `slurm_*`, `convert_*`). */
  mainTaskName: string | null;
  /** ISO-8601 UTC. */
  startTime: string;
}

/** A row of `taskAnalytics`, keyed by task id. */
export interface TaskAnalyticsRow {
  taskName: string;
  taskVersion: string | null;
  userId: number | null;
  groupId: number | null;
  status: string;
  startTime: string;
  endTime: string | null;
  errorType: string | null;
}

/** How one kind of task (by name) has fared. */
export interface TaskStatistics {
  name: string;
  count: number;
  /** Those with an end time (completed or failed). */
  finished: number;
  failed: number;
  failureRate: number;
  /** Mean of end minus start over those that ended. */
  meanDurationMs: number | null;
}
