//! A task of a workflow run, as BIOMERO's `Task`: created for a workflow,
//! started, given Slurm job ids, its status and progress updated, results
//! added, then completed or failed. Its first version is 0.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::{Aggregate, DomainEvent, EventType, Root};
use crate::error::{Error, Result};

/// The state BIOMERO's `Task` keeps, with its attribute names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub workflow_id: Option<Uuid>,
    pub task_name: String,
    /// `None` where BIOMERO was given none, as it keeps it.
    pub task_version: Option<String>,
    /// What BIOMERO was given: an object, a list of ids or a file name.
    pub input_data: Value,
    pub params: Value,
    /// Slurm job ids, as recorded (BIOMERO records integers, -1 for none).
    pub job_ids: Vec<Value>,
    pub results: Vec<Value>,
    /// The completion message or the error message.
    pub result_message: Option<String>,
    /// The last status a job reported (PENDING, RUNNING, COMPLETED, ...).
    pub status: Option<String>,
    /// The last progress reported, as BIOMERO writes it ("43%").
    pub progress: Option<String>,
}

impl Aggregate for Task {
    const TYPE: &'static str = "Task";
    const EVENTS: &'static [EventType] = &[
        EventType::new("TaskCreated"),
        EventType::new("TaskStarted"),
        EventType::new("JobIdAdded"),
        EventType::new("StatusUpdated"),
        EventType::new("ProgressUpdated"),
        EventType::new("ResultAdded"),
        EventType::new("TaskCompleted"),
        EventType::new("TaskFailed"),
    ];
    const INITIAL_VERSION: u64 = 0;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "TaskCreated" => {
                self.workflow_id = event.field("workflow_id")?;
                self.task_name = event.field("task_name")?;
                self.task_version = event.field("task_version")?;
                self.input_data = event.field("input_data")?;
                self.params = event.field("params")?;
            }
            "TaskStarted" => {}
            "JobIdAdded" => self.job_ids.push(event.field("job_id")?),
            "StatusUpdated" => self.status = event.field("status")?,
            "ProgressUpdated" => self.progress = event.field("progress")?,
            "ResultAdded" => self.results.push(event.field("result")?),
            "TaskCompleted" => self.result_message = event.field("result")?,
            "TaskFailed" => self.result_message = event.field("error_message")?,
            other => return Err(Error::UnknownTopic(format!("Task.{other}"))),
        }
        Ok(())
    }

    /// Its `apply` reads only the event's fields: one it cannot apply to a new
    /// task it cannot apply to any.
    fn check(event: &DomainEvent) -> Result<()> {
        Self::default().apply(event)
    }
}

impl Task {
    /// A new task of a workflow run, as `WorkflowTracker.add_task_to_workflow` creates it.
    pub fn create(workflow_id: Uuid, task_name: &str, task_version: &str, input_data: Value, params: Value) -> Result<Root<Task>> {
        if task_name.is_empty() {
            return Err(Error::invalid("a task needs a name"));
        }
        let fields = json!({ "workflow_id": workflow_id, "task_name": task_name, "task_version": task_version,
            "input_data": input_data, "params": params });
        Root::create("TaskCreated", fields)
    }
}

/// The commands of a task, as `WorkflowTracker`'s.
pub trait TaskCommands {
    fn start_task(&mut self) -> Result<()>;
    fn add_job_id(&mut self, job_id: Value) -> Result<()>;
    fn update_task_status(&mut self, status: &str) -> Result<()>;
    fn update_task_progress(&mut self, progress: &str) -> Result<()>;
    fn add_result(&mut self, result: Value) -> Result<()>;
    fn complete_task(&mut self, message: &str) -> Result<()>;
    fn fail_task(&mut self, error_message: &str) -> Result<()>;
}

impl TaskCommands for Root<Task> {
    fn start_task(&mut self) -> Result<()> {
        self.trigger("TaskStarted", json!({}))
    }

    fn add_job_id(&mut self, job_id: Value) -> Result<()> {
        if !(job_id.is_i64() || job_id.is_string()) {
            return Err(Error::invalid(format!("a Slurm job id is a whole number or a string, not {job_id}")));
        }
        self.trigger("JobIdAdded", json!({ "job_id": job_id }))
    }

    fn update_task_status(&mut self, status: &str) -> Result<()> {
        self.trigger("StatusUpdated", json!({ "status": status }))
    }

    fn update_task_progress(&mut self, progress: &str) -> Result<()> {
        self.trigger("ProgressUpdated", json!({ "progress": progress }))
    }

    fn add_result(&mut self, result: Value) -> Result<()> {
        self.trigger("ResultAdded", json!({ "result": result }))
    }

    fn complete_task(&mut self, message: &str) -> Result<()> {
        self.trigger("TaskCompleted", json!({ "result": message }))
    }

    fn fail_task(&mut self, error_message: &str) -> Result<()> {
        self.trigger("TaskFailed", json!({ "error_message": error_message }))
    }
}
