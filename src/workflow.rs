//! The workflow domain of BIOMERO (`biomero.eventsourcing`), built on the public
//! API only: workflow runs and their tasks as aggregates, with BIOMERO's events
//! and fields, stored under its topics; and the four views its dashboard needs
//! (job accounting, job progress, workflow progress, task analytics).

mod run;
mod statistics;
mod task;
mod views;

pub use run::{RunCommands, WorkflowRun};
pub use statistics::{task_statistics, TaskStatistics};
pub use task::{Task, TaskCommands};
pub use views::{register, views, BIOMERO, JOB_ACCOUNTING, JOB_PROGRESS, TASK_ANALYTICS, WORKFLOW_PROGRESS};
