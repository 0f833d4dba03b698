//! `JobAccounting` and `JobProgress`: per Slurm job, who ran it for which task,
//! and the status and progress its task last reported.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{field, id_key, job_key, object, originator, private};
use crate::error::Result;
use crate::projection::{Handler, Notified, Staged};

/// Per job id: `user`, `group`, `taskId` (BIOMERO's `biomero_job_view`).
pub(super) struct JobAccounting;

#[async_trait(?Send)]
impl Handler for JobAccounting {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        match event.event.name() {
            "WorkflowInitiated" => {
                view.put(private("run", originator(event)), json!({ "user": field(event, "user"), "group": field(event, "group") }))
            }
            "TaskAdded" => view.put(private("task", id_key(&field(event, "task_id"))), json!({ "workflowId": originator(event) })),
            _ => {
                let Some(task) = object(view, &private("task", originator(event))).await? else { return Ok(()) };
                let Some(run) = object(view, &private("run", id_key(task.get("workflowId").unwrap_or(&Value::Null)))).await? else {
                    return Ok(());
                };
                let Some(job) = job_key(&field(event, "job_id")) else { return Ok(()) };
                view.put(job, json!({ "user": run.get("user"), "group": run.get("group"), "taskId": originator(event) }));
            }
        }
        Ok(())
    }
}

/// Per job id: `status`, `progress` (BIOMERO's `biomero_job_progress_view`).
pub(super) struct JobProgress;

#[async_trait(?Send)]
impl Handler for JobProgress {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let task = private("task", originator(event));
        if event.event.name() == "JobIdAdded" {
            view.put(task, json!({ "jobId": field(event, "job_id") }));
            return Ok(());
        }
        let Some(job) = object(view, &task).await?.and_then(|t| job_key(t.get("jobId")?)) else { return Ok(()) };
        let mut row = object(view, &job).await?;
        let row = match (event.event.name(), &mut row) {
            ("StatusUpdated", Some(row)) => {
                row.insert("status".into(), field(event, "status"));
                Value::Object(row.clone())
            }
            ("StatusUpdated", None) => json!({ "status": field(event, "status"), "progress": null }),
            (_, Some(row)) => {
                row.insert("progress".into(), field(event, "progress"));
                Value::Object(row.clone())
            }
            (_, None) => json!({ "status": "UNKNOWN", "progress": field(event, "progress") }),
        };
        view.put(job, row);
        Ok(())
    }
}
