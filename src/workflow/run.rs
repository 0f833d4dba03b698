//! A workflow run, as BIOMERO's `WorkflowRun`: initiated by a user of a group,
//! given its tasks, started, then completed or failed. Its first version is 0.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::domain::{Aggregate, DomainEvent, EventType, Root};
use crate::error::{Error, Result};

/// The state BIOMERO's `WorkflowRun` keeps, with its attribute names, and a status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    pub name: String,
    /// `None` where BIOMERO was given none, as it keeps it.
    pub description: Option<String>,
    pub user: i64,
    pub group: i64,
    /// The ids of its tasks, in the order they were added.
    pub tasks: Vec<Uuid>,
    /// INITIALIZING, RUNNING, DONE or FAILED (BIOMERO's words).
    pub status: String,
    pub error_message: Option<String>,
}

impl Aggregate for WorkflowRun {
    const TYPE: &'static str = "WorkflowRun";
    const EVENTS: &'static [EventType] = &[
        EventType::new("WorkflowInitiated"),
        EventType::new("TaskAdded"),
        EventType::new("WorkflowStarted"),
        EventType::new("WorkflowCompleted"),
        EventType::new("WorkflowFailed"),
    ];
    const INITIAL_VERSION: u64 = 0;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "WorkflowInitiated" => {
                self.name = event.field("name")?;
                self.description = event.field("description")?;
                self.user = event.field("user")?;
                self.group = event.field("group")?;
                self.status = "INITIALIZING".into();
            }
            "TaskAdded" => self.tasks.push(event.field("task_id")?),
            "WorkflowStarted" => self.status = "RUNNING".into(),
            "WorkflowCompleted" => self.status = "DONE".into(),
            "WorkflowFailed" => {
                self.status = "FAILED".into();
                self.error_message = event.field("error_message")?;
            }
            other => return Err(Error::UnknownTopic(format!("WorkflowRun.{other}"))),
        }
        Ok(())
    }

    /// Its `apply` reads only the event's fields: one it cannot apply to a new
    /// run it cannot apply to any.
    fn check(event: &DomainEvent) -> Result<()> {
        Self::default().apply(event)
    }
}

impl WorkflowRun {
    /// A new run of the named workflow, as `WorkflowTracker.initiate_workflow`.
    pub fn initiate(name: &str, description: &str, user: i64, group: i64) -> Result<Root<WorkflowRun>> {
        if name.is_empty() {
            return Err(Error::invalid("a workflow needs a name"));
        }
        Root::create("WorkflowInitiated", json!({ "name": name, "description": description, "user": user, "group": group }))
    }
}

/// The commands of a run, as `WorkflowTracker`'s.
pub trait RunCommands {
    fn add_task(&mut self, task_id: Uuid) -> Result<()>;
    fn start_workflow(&mut self) -> Result<()>;
    fn complete_workflow(&mut self) -> Result<()>;
    fn fail_workflow(&mut self, error_message: &str) -> Result<()>;
}

impl RunCommands for Root<WorkflowRun> {
    fn add_task(&mut self, task_id: Uuid) -> Result<()> {
        self.trigger("TaskAdded", json!({ "task_id": task_id }))
    }

    fn start_workflow(&mut self) -> Result<()> {
        self.trigger("WorkflowStarted", json!({}))
    }

    fn complete_workflow(&mut self) -> Result<()> {
        self.trigger("WorkflowCompleted", json!({}))
    }

    fn fail_workflow(&mut self, error_message: &str) -> Result<()> {
        self.trigger("WorkflowFailed", json!({ "error_message": error_message }))
    }
}
