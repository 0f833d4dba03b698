//! `WorkflowAnalytics`: per task, what it was, who ran it, how it ended and when.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{field, id_key, object, originator, private};
use crate::domain::to_iso;
use crate::error::Result;
use crate::projection::{Handler, Notified, Staged};

/// Per task id: `taskName`, `taskVersion`, `userId`, `groupId`, `status`,
/// `startTime`, `endTime`, `errorType` (BIOMERO's `biomero_task_execution`).
/// The task's lookup row gathers what its events said; the public row is
/// written when BIOMERO writes its table, with the run's user and group then.
pub(super) struct TaskAnalytics;

#[async_trait(?Send)]
impl Handler for TaskAnalytics {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let id = originator(event);
        let at = Value::from(to_iso(&event.event.timestamp));
        match event.event.name() {
            "WorkflowInitiated" => {
                view.put(private("run", &id), json!({ "user": field(event, "user"), "group": field(event, "group") }));
                Ok(())
            }
            "TaskAdded" => {
                let task = id_key(&field(event, "task_id"));
                let mut info = object(view, &private("task", &task)).await?.unwrap_or_default();
                info.insert("workflowId".into(), Value::from(id));
                view.put(private("task", task), Value::Object(info));
                Ok(())
            }
            "TaskCreated" => {
                let fields = [("taskName", field(event, "task_name")), ("taskVersion", field(event, "task_version")), ("startTime", at)];
                update(view, &id, true, &[&fields[..], &[("status", json!("CREATED"))]].concat()).await
            }
            "StatusUpdated" => update(view, &id, false, &[("status", field(event, "status"))]).await,
            "TaskCompleted" => update(view, &id, false, &[("endTime", at)]).await,
            _ => update(view, &id, false, &[("endTime", at), ("errorType", field(event, "error_message"))]).await,
        }
    }
}

/// Adds to a task's lookup (a known task's, unless `create`) and writes its row.
async fn update(view: &Staged, task: &str, create: bool, fields: &[(&str, Value)]) -> Result<()> {
    let info = object(view, &private("task", task)).await?;
    let Some(mut info) = info.or_else(|| create.then(Map::new)) else { return Ok(()) };
    for (key, value) in fields {
        info.insert((*key).to_owned(), value.clone());
    }
    view.put(private("task", task), Value::Object(info.clone()));
    let run = match info.get("workflowId") {
        Some(workflow) => object(view, &private("run", id_key(workflow))).await?,
        None => None,
    };
    let existing = object(view, task).await?;
    // A row BIOMERO could not insert (no name, start or status yet) is not written.
    if existing.is_none() && ["taskName", "startTime", "status"].iter().any(|k| info.get(*k).is_none_or(Value::is_null)) {
        return Ok(());
    }
    let existing = existing.unwrap_or_default();
    let pick = |key: &str| info.get(key).or_else(|| existing.get(key)).cloned().unwrap_or(Value::Null);
    let user = |key: &str| run.as_ref().and_then(|run| run.get(key)).cloned().unwrap_or(Value::Null);
    let row = json!({ "taskName": pick("taskName"), "taskVersion": pick("taskVersion"), "userId": user("user"), "groupId": user("group"),
        "status": pick("status"), "startTime": pick("startTime"), "endTime": pick("endTime"), "errorType": pick("errorType") });
    view.put(task, row);
    Ok(())
}
