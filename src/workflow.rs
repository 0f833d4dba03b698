//! The workflow domain, built on the public API only: workflow runs and their
//! tasks as aggregates, and the views a workflow dashboard needs (job
//! accounting, job progress, workflow progress, task analytics).

mod analytics;
mod run;
mod task;
mod views;

pub use analytics::{task_statistics, TaskStatistics};
pub use run::{RunCommands, WorkflowRun};
pub use task::{Task, TaskCommands};
pub use views::{register, views, JOB_ACCOUNTING, JOB_PROGRESS, TASK_ANALYTICS, WORKFLOW_PROGRESS};
