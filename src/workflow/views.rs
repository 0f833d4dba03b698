//! The workflow views, as handlers over the public projection API. Lookups a
//! view needs (a task's workflow, a run's user) are private rows of that view.

use std::rc::Rc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{Task, WorkflowRun};
use crate::application::Application;
use crate::domain::to_iso;
use crate::error::Result;
use crate::persistence::{ViewDefinition, PRIVATE};
use crate::projection::{Handler, Notified, Staged};

pub const JOB_ACCOUNTING: &str = "jobAccounting";
pub const JOB_PROGRESS: &str = "jobProgress";
pub const WORKFLOW_PROGRESS: &str = "workflowProgress";
pub const TASK_ANALYTICS: &str = "taskAnalytics";

/// Registers the workflow aggregate types with an application.
pub fn register(app: &mut Application) {
    app.register::<WorkflowRun>().register::<Task>();
}

/// The four views, ready for [`ProjectionRunner`](crate::projection::ProjectionRunner)s.
pub fn views() -> Vec<(ViewDefinition, Rc<dyn Handler>)> {
    let view = |name, topics: &[&str], indexes: &[&str], projection: Rc<dyn Handler>| {
        (ViewDefinition::new(name, topics, indexes).expect("the workflow views are well defined"), projection)
    };
    vec![
        view(
            JOB_ACCOUNTING,
            &["WorkflowRun.Created", "Task.Created", "Task.JobAdded"],
            &["user", "group", "taskId"],
            Rc::new(JobAccounting),
        ),
        view(JOB_PROGRESS, &["Task.JobAdded", "Task.StatusUpdated"], &["status", "taskId"], Rc::new(JobProgress)),
        view(
            WORKFLOW_PROGRESS,
            &[
                "WorkflowRun.Created",
                "WorkflowRun.Started",
                "WorkflowRun.Completed",
                "WorkflowRun.Failed",
                "Task.Created",
                "Task.Started",
                "Task.Completed",
                "Task.Failed",
            ],
            &["status", "user", "group"],
            Rc::new(WorkflowProgress),
        ),
        view(
            TASK_ANALYTICS,
            &["Task.Created", "Task.Started", "Task.Completed", "Task.Failed"],
            &["name", "status"],
            Rc::new(TaskAnalytics),
        ),
    ]
}

fn private(kind: &str, id: impl std::fmt::Display) -> String {
    format!("{PRIVATE}{kind}:{id}")
}

fn id(event: &Notified) -> String {
    event.event.originator_id.to_string()
}

fn field(event: &Notified, key: &str) -> Value {
    event.event.payload.get(key).cloned().unwrap_or(Value::Null)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Changes some fields of a row (a new row if there was none).
async fn update(view: &Staged, key: &str, fields: Value) -> Result<Map<String, Value>> {
    let mut row = match view.get(key).await? {
        Some(Value::Object(row)) => row,
        _ => Map::new(),
    };
    if let Value::Object(fields) = fields {
        row.extend(fields);
    }
    view.put(key, Value::Object(row.clone()));
    Ok(row)
}

/// Per job: who ran it (user, group), for which task and workflow.
struct JobAccounting;

#[async_trait(?Send)]
impl Handler for JobAccounting {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        match event.event.topic.as_str() {
            "WorkflowRun.Created" => {
                view.put(private("run", id(event)), json!({ "user": field(event, "user"), "group": field(event, "group") }))
            }
            "Task.Created" => view.put(private("task", id(event)), json!({ "workflowId": field(event, "workflowId") })),
            _ => {
                let task = view.get(&private("task", id(event))).await?.unwrap_or(Value::Null);
                let workflow_id = task["workflowId"].clone();
                let run = view.get(&private("run", text(&workflow_id))).await?.unwrap_or(Value::Null);
                let job = json!({ "user": run["user"], "group": run["group"], "taskId": id(event), "workflowId": workflow_id });
                view.put(text(&field(event, "jobId")), job);
            }
        }
        Ok(())
    }
}

/// Per job: its status and progress.
struct JobProgress;

#[async_trait(?Send)]
impl Handler for JobProgress {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let job = text(&field(event, "jobId"));
        let fields = match event.event.name() {
            "JobAdded" => json!({ "taskId": id(event), "status": "created", "progress": 0 }),
            _ => json!({ "taskId": id(event), "status": field(event, "status"), "progress": field(event, "progress") }),
        };
        update(view, &job, fields).await.map(drop)
    }
}

/// Per workflow run: who, its status and progress, the task now running, and when.
struct WorkflowProgress;

#[async_trait(?Send)]
impl Handler for WorkflowProgress {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let at = Value::from(to_iso(&event.event.timestamp));
        let run = id(event);
        match event.event.topic.as_str() {
            "WorkflowRun.Created" => {
                let tasks = field(event, "taskIds").as_array().map_or(0, Vec::len);
                let row = json!({ "name": field(event, "name"), "user": field(event, "user"), "group": field(event, "group"),
                    "status": "created", "progress": 0, "tasks": tasks, "tasksDone": 0, "currentTask": null, "startedAt": null, "endedAt": null, "error": null });
                view.put(run, row);
            }
            "WorkflowRun.Started" => drop(update(view, &run, json!({ "status": "running", "startedAt": at })).await?),
            "WorkflowRun.Completed" => {
                drop(update(view, &run, json!({ "status": "completed", "progress": 100, "currentTask": null, "endedAt": at })).await?)
            }
            "WorkflowRun.Failed" => {
                drop(update(view, &run, json!({ "status": "failed", "endedAt": at, "error": field(event, "error") })).await?)
            }
            "Task.Created" => {
                view.put(private("task", id(event)), json!({ "workflowId": field(event, "workflowId"), "name": field(event, "name") }))
            }
            topic => {
                let task = view.get(&private("task", id(event))).await?.unwrap_or(Value::Null);
                let workflow = text(&task["workflowId"]);
                let Some(Value::Object(row)) = view.get(&workflow).await? else { return Ok(()) };
                let fields = match topic {
                    "Task.Started" => json!({ "currentTask": task["name"] }),
                    "Task.Completed" => {
                        let done = row["tasksDone"].as_u64().unwrap_or(0) + 1;
                        let total = row["tasks"].as_u64().unwrap_or(0).max(done);
                        json!({ "tasksDone": done, "progress": (done * 100) / total, "currentTask": null })
                    }
                    _ => json!({ "currentTask": null, "error": field(event, "error") }),
                };
                update(view, &workflow, fields).await?;
            }
        }
        Ok(())
    }
}

/// Per task: what it is, its outcome and timing.
struct TaskAnalytics;

#[async_trait(?Send)]
impl Handler for TaskAnalytics {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let task = id(event);
        let at = event.event.timestamp;
        let fields = match event.event.name() {
            "Created" => {
                json!({ "name": field(event, "name"), "version": field(event, "version"), "workflowId": field(event, "workflowId"),
                "status": "created", "startedAt": null, "endedAt": null, "durationMs": null, "error": null })
            }
            "Started" => json!({ "status": "running", "startedAt": to_iso(&at) }),
            ended => {
                let started = view.get(&task).await?.and_then(|row| row["startedAt"].as_str().map(crate::domain::parse_iso));
                let duration = match started {
                    Some(Ok(started)) => Value::from((at - started).num_milliseconds()),
                    _ => Value::Null,
                };
                let (status, error) = if ended == "Completed" { ("completed", Value::Null) } else { ("failed", field(event, "error")) };
                json!({ "status": status, "endedAt": to_iso(&at), "durationMs": duration, "error": error })
            }
        };
        update(view, &task, fields).await.map(drop)
    }
}
