//! A workflow run: created with its tasks, started, then completed or failed.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::{Aggregate, DomainEvent, EventType, Root};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowRun {
    pub name: String,
    pub user: String,
    pub group: String,
    pub task_ids: Vec<Uuid>,
    /// created, running, completed or failed.
    pub status: String,
    pub error: Option<String>,
}

impl Aggregate for WorkflowRun {
    const TYPE: &'static str = "WorkflowRun";
    const EVENTS: &'static [EventType] =
        &[EventType::new("Created"), EventType::new("Started"), EventType::new("Completed"), EventType::new("Failed")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Created" => {
                self.name = event.field("name")?;
                self.user = event.field("user")?;
                self.group = event.field("group")?;
                self.task_ids = event.field("taskIds")?;
                self.status = "created".into();
            }
            "Started" => self.status = "running".into(),
            "Completed" => self.status = "completed".into(),
            "Failed" => {
                self.status = "failed".into();
                self.error = Some(event.field("error")?);
            }
            other => return Err(Error::UnknownTopic(format!("WorkflowRun.{other}"))),
        }
        Ok(())
    }
}

impl WorkflowRun {
    /// A new run of the named workflow, for a user and group, with its tasks' ids.
    pub fn create(name: &str, user: &str, group: &str, task_ids: &[Uuid]) -> Result<Root<WorkflowRun>> {
        if name.is_empty() {
            return Err(Error::invalid("a workflow needs a name"));
        }
        Root::create("Created", json!({ "name": name, "user": user, "group": group, "taskIds": task_ids }))
    }
}

/// The commands of a run.
pub trait RunCommands {
    fn start(&mut self) -> Result<()>;
    fn complete(&mut self) -> Result<()>;
    fn fail(&mut self, error: &str) -> Result<()>;
}

impl RunCommands for Root<WorkflowRun> {
    fn start(&mut self) -> Result<()> {
        require(self, &["created"], "start")?;
        self.trigger("Started", json!({}))
    }

    fn complete(&mut self) -> Result<()> {
        require(self, &["running"], "complete")?;
        self.trigger("Completed", json!({}))
    }

    fn fail(&mut self, error: &str) -> Result<()> {
        require(self, &["created", "running"], "fail")?;
        self.trigger("Failed", json!({ "error": error }))
    }
}

fn require(run: &Root<WorkflowRun>, allowed: &[&str], doing: &str) -> Result<()> {
    let status = &run.state().status;
    if !allowed.contains(&status.as_str()) {
        return Err(Error::invalid(format!("cannot {doing} workflow {} while it is {status}", run.id())));
    }
    Ok(())
}
