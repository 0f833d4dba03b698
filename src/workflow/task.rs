//! A task of a workflow run: started, given job ids, progressing, then
//! completed with results or failed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::{Aggregate, DomainEvent, EventType, Root};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub name: String,
    pub version: String,
    pub workflow_id: Option<Uuid>,
    pub job_ids: Vec<String>,
    /// created, running, completed or failed (or a status a job reported).
    pub status: String,
    pub progress: f64,
    pub results: Option<Value>,
    pub error: Option<String>,
}

impl Aggregate for Task {
    const TYPE: &'static str = "Task";
    const EVENTS: &'static [EventType] = &[
        EventType::new("Created"),
        EventType::new("Started"),
        EventType::new("JobAdded"),
        EventType::new("StatusUpdated"),
        EventType::new("Completed"),
        EventType::new("Failed"),
    ];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Created" => {
                self.name = event.field("name")?;
                self.version = event.field("version")?;
                self.workflow_id = Some(event.field("workflowId")?);
                self.status = "created".into();
            }
            "Started" => self.status = "running".into(),
            "JobAdded" => self.job_ids.push(event.field("jobId")?),
            "StatusUpdated" => {
                self.status = event.field("status")?;
                self.progress = event.field("progress")?;
            }
            "Completed" => {
                self.status = "completed".into();
                self.progress = 100.0;
                self.results = Some(event.field("results")?);
            }
            "Failed" => {
                self.status = "failed".into();
                self.error = Some(event.field("error")?);
            }
            other => return Err(Error::UnknownTopic(format!("Task.{other}"))),
        }
        Ok(())
    }
}

impl Task {
    /// A new task (a named, versioned step) of a workflow run.
    pub fn create(name: &str, version: &str, workflow_id: Uuid) -> Result<Root<Task>> {
        if name.is_empty() {
            return Err(Error::invalid("a task needs a name"));
        }
        Root::create("Created", json!({ "name": name, "version": version, "workflowId": workflow_id }))
    }
}

/// The commands of a task.
pub trait TaskCommands {
    fn start(&mut self) -> Result<()>;
    fn add_job(&mut self, job_id: &str) -> Result<()>;
    fn update_status(&mut self, job_id: &str, status: &str, progress: f64) -> Result<()>;
    fn complete(&mut self, results: Value) -> Result<()>;
    fn fail(&mut self, error: &str) -> Result<()>;
}

impl TaskCommands for Root<Task> {
    fn start(&mut self) -> Result<()> {
        self.trigger("Started", json!({}))
    }

    fn add_job(&mut self, job_id: &str) -> Result<()> {
        self.trigger("JobAdded", json!({ "jobId": job_id }))
    }

    fn update_status(&mut self, job_id: &str, status: &str, progress: f64) -> Result<()> {
        if !(0.0..=100.0).contains(&progress) {
            return Err(Error::invalid(format!("progress is a percentage, not {progress}")));
        }
        self.trigger("StatusUpdated", json!({ "jobId": job_id, "status": status, "progress": progress }))
    }

    fn complete(&mut self, results: Value) -> Result<()> {
        self.trigger("Completed", json!({ "results": results }))
    }

    fn fail(&mut self, error: &str) -> Result<()> {
        self.trigger("Failed", json!({ "error": error }))
    }
}
