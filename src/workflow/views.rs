//! BIOMERO's four dashboard views (`biomero.views`), as handlers over the public
//! projection API: for the same events, the same rows as BIOMERO's tables,
//! keyed the same way, with its column names in camelCase. BIOMERO keeps the
//! lookups a view needs (a task's workflow, a run's user) in process memory;
//! here they are private rows of the view, so a reload or a crash loses nothing.

mod analytics;
mod jobs;
mod progress;

use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Task, WorkflowRun};
use crate::application::Application;
use crate::error::Result;
use crate::persistence::{is_private, ViewDefinition, PRIVATE};
use crate::projection::{Handler, Notified, Staged};

pub const JOB_ACCOUNTING: &str = "jobAccounting";
pub const JOB_PROGRESS: &str = "jobProgress";
pub const WORKFLOW_PROGRESS: &str = "workflowProgress";
pub const TASK_ANALYTICS: &str = "taskAnalytics";

/// The module BIOMERO's aggregates live in: their topics are `{BIOMERO}:WorkflowRun.TaskAdded`, ...
pub const BIOMERO: &str = "biomero.eventsourcing";

/// Registers the workflow aggregate types, stored under BIOMERO's topics.
pub fn register(app: &mut Application) {
    app.register::<WorkflowRun>().register::<Task>();
    let registry = app.registry_mut();
    registry.store_as("WorkflowRun", format!("{BIOMERO}:WorkflowRun")).expect("BIOMERO's topics are well formed");
    registry.store_as("Task", format!("{BIOMERO}:Task")).expect("BIOMERO's topics are well formed");
    // BIOMERO's events and aggregates hold these as `UUID`s.
    registry.uuid_fields("WorkflowRun.TaskAdded", &["task_id"]);
    registry.uuid_fields("Task.TaskCreated", &["workflow_id"]);
    registry.uuid_fields("WorkflowRun", &["tasks"]);
    registry.uuid_fields("Task", &["workflow_id"]);
    // BIOMERO's `WorkflowRun` keeps no status: its snapshots are BIOMERO's alone.
    registry.not_snapshotted("WorkflowRun", &["status", "error_message"]);
}

/// The four views, ready for [`ProjectionRunner`](crate::projection::ProjectionRunner)s.
pub fn views() -> Vec<(ViewDefinition, Rc<dyn Handler>)> {
    let view = |name, topics: &[&str], indexes: &[&str], projection: Rc<dyn Handler>| {
        (ViewDefinition::new(name, topics, indexes).expect("the workflow views are well defined"), projection)
    };
    vec![
        view(
            JOB_ACCOUNTING,
            &["WorkflowRun.WorkflowInitiated", "WorkflowRun.TaskAdded", "Task.JobIdAdded"],
            &["user", "group", "taskId"],
            Rc::new(jobs::JobAccounting),
        ),
        view(JOB_PROGRESS, &["Task.JobIdAdded", "Task.StatusUpdated", "Task.ProgressUpdated"], &["status"], Rc::new(jobs::JobProgress)),
        view(
            WORKFLOW_PROGRESS,
            &[
                "WorkflowRun.WorkflowInitiated",
                "WorkflowRun.TaskAdded",
                "WorkflowRun.WorkflowCompleted",
                "WorkflowRun.WorkflowFailed",
                "Task.TaskCreated",
                "Task.StatusUpdated",
                "Task.ProgressUpdated",
            ],
            &["status", "user", "group"],
            Rc::new(progress::WorkflowProgress),
        ),
        view(
            TASK_ANALYTICS,
            &[
                "WorkflowRun.WorkflowInitiated",
                "WorkflowRun.TaskAdded",
                "Task.TaskCreated",
                "Task.StatusUpdated",
                "Task.TaskCompleted",
                "Task.TaskFailed",
            ],
            &["taskName", "status", "userId"],
            Rc::new(analytics::TaskAnalytics),
        ),
    ]
}

/// The key of a lookup row, private to its view.
fn private(kind: &str, id: impl std::fmt::Display) -> String {
    format!("{PRIVATE}{kind}:{id}")
}

/// The aggregate an event is of, as a row key.
fn originator(event: &Notified) -> String {
    event.event.originator_id.to_string()
}

fn field(event: &Notified, key: &str) -> Value {
    event.event.payload.get(key).cloned().unwrap_or(Value::Null)
}

/// A row as an object (`None` when there is none).
async fn object(view: &Staged, key: &str) -> Result<Option<Map<String, Value>>> {
    Ok(match view.get(key).await? {
        Some(Value::Object(row)) => Some(row),
        _ => None,
    })
}

/// A UUID field as a row key, in the form of [`originator`] (hyphenated, lowercase).
fn id_key(value: &Value) -> String {
    let text = value.as_str().unwrap_or_default();
    uuid::Uuid::try_parse(text).map_or_else(|_| text.to_owned(), |id| id.to_string())
}

/// A Slurm job id as a row key: BIOMERO's are integers, kept as their digits.
/// A string that reads as a private key is no job's: its row would replace a lookup.
fn job_key(job_id: &Value) -> Option<String> {
    match job_id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !is_private(s) => Some(s.clone()),
        _ => None,
    }
}
