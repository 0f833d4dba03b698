//! `WorkflowProgress`: per workflow run, its status and progress as BIOMERO
//! derives them from the task that last reported (a transfer, a conversion,
//! the Slurm job...), who ran it, and its main task.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::{field, id_key, object, originator, private};
use crate::domain::to_iso;
use crate::error::Result;
use crate::persistence::python_float;
use crate::projection::{Handler, Notified, Staged};

/// Per workflow id: `status`, `progress`, `user`, `group`, `name`, `task`,
/// `mainTaskName`, `startTime` (BIOMERO's `biomero_workflow_progress_view`).
/// The run's lookup row holds the same fields plus `taskProgress` and the
/// tasks it holds (see [`tasks`]); the public row is written when BIOMERO writes its table.
pub(super) struct WorkflowProgress;

#[async_trait(?Send)]
impl Handler for WorkflowProgress {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        let id = originator(event);
        match event.event.name() {
            "WorkflowInitiated" => {
                let run = json!({ "status": "INITIALIZING", "progress": "0%", "user": field(event, "user"), "group": field(event, "group"),
                    "name": field(event, "name"), "task": null, "startTime": to_iso(&event.event.timestamp), "tasks": [] });
                write(view, &id, run);
            }
            "WorkflowCompleted" => update(view, &id, |run| set(run, &[("status", json!("DONE")), ("progress", json!("100%"))])).await?,
            "WorkflowFailed" => update(view, &id, |run| set(run, &[("status", json!("FAILED"))])).await?,
            "TaskCreated" => {
                let task = json!({ "taskName": field(event, "task_name"), "workflowId": null, "created": event.notification_id });
                view.put(private("task", &id), task)
            }
            "TaskAdded" => {
                let task_id = id_key(&field(event, "task_id"));
                let task_key = private("task", &task_id);
                let Some(mut task) = object(view, &task_key).await? else { return Ok(()) };
                let moved = task.insert("workflowId".into(), Value::from(id.clone()));
                view.put(task_key, Value::Object(task.clone()));
                // A task is of one run at a time: the one it was added to last.
                if let Some(previous) = moved.as_ref().and_then(Value::as_str).filter(|previous| *previous != id) {
                    if let Some(mut run) = object(view, &private("run", previous)).await? {
                        let others = tasks(&run).into_iter().filter(|t| t["id"] != task_id.as_str()).collect();
                        run.insert("tasks".into(), Value::Array(others));
                        view.put(private("run", previous), Value::Object(run));
                    }
                }
                // BIOMERO notes the task on the run but writes its table only at the next update.
                if let Some(mut run) = object(view, &private("run", &id)).await? {
                    run.insert("task".into(), task["taskName"].clone());
                    let mut held = tasks(&run);
                    if !held.iter().any(|t| t["id"] == task_id.as_str()) {
                        held.push(json!({ "id": task_id, "name": task["taskName"], "created": task.get("created").unwrap_or(&json!(0)) }));
                        held.sort_by_key(|t| t["created"].as_u64().unwrap_or(0));
                    }
                    run.insert("tasks".into(), Value::Array(held));
                    run.remove("taskNames");
                    view.put(private("run", &id), Value::Object(run));
                }
            }
            "StatusUpdated" => {
                let Some(task) = object(view, &private("task", &id)).await? else { return Ok(()) };
                let status = field(event, "status");
                update(view, &id_key(&task["workflowId"]), |run| {
                    let (status, progress) =
                        derive(task["taskName"].as_str().unwrap_or_default(), status.as_str().unwrap_or_default(), run);
                    set(run, &[("status", Value::from(status)), ("progress", Value::from(progress))]);
                })
                .await?
            }
            _ => {
                let Some(task) = object(view, &private("task", &id)).await? else { return Ok(()) };
                let progress = field(event, "progress");
                update(view, &id_key(&task["workflowId"]), |run| set(run, &[("taskProgress", progress)])).await?
            }
        }
        Ok(())
    }
}

/// Changes a known run's lookup and writes its row, as BIOMERO's `update_view_table`.
async fn update(view: &Staged, run_id: &str, change: impl FnOnce(&mut Map<String, Value>)) -> Result<()> {
    let Some(mut run) = object(view, &private("run", run_id)).await? else { return Ok(()) };
    change(&mut run);
    write(view, run_id, Value::Object(run));
    Ok(())
}

fn set(run: &mut Map<String, Value>, fields: &[(&str, Value)]) {
    for (key, value) in fields {
        run.insert((*key).to_owned(), value.clone());
    }
}

/// Keeps the run's lookup, and writes its public row.
fn write(view: &Staged, run_id: &str, run: Value) {
    let row = json!({ "status": run["status"], "progress": run["progress"], "user": run["user"], "group": run["group"],
        "name": run["name"], "task": run["task"], "mainTaskName": main_task_name(&run), "startTime": run["startTime"] });
    view.put(private("run", run_id), run);
    view.put(run_id, row);
}

/// The tasks a run holds, in the order they were created (as BIOMERO keeps its
/// tasks): `{ id, name, created }`. A lookup written before kept their names only.
fn tasks(run: &Map<String, Value>) -> Vec<Value> {
    match (run.get("tasks"), run.get("taskNames")) {
        (Some(Value::Array(tasks)), _) => tasks.clone(),
        (_, Some(Value::Array(names))) => names.iter().map(|name| json!({ "id": null, "name": name, "created": 0 })).collect(),
        _ => Vec::new(),
    }
}

/// The first created of the run's tasks that is not infrastructure, else its current task.
fn main_task_name(run: &Value) -> Value {
    let held = run.as_object().map(tasks).unwrap_or_default();
    let main = held.iter().map(|task| &task["name"]).find(|name| {
        let name = name.as_str().unwrap_or_default().to_ascii_lowercase();
        !(name.starts_with("_slurm_") || name.starts_with("slurm_") || name.starts_with("convert_"))
    });
    main.cloned().unwrap_or_else(|| run["task"].clone())
}

/// The workflow status and progress a task's new status means, by the task's
/// name, as BIOMERO's `WorkflowProgress` derives them. Python's `lower()` and
/// ASCII lowercasing match the same names once the Kelvin sign reads as `k`
/// (the only non-ASCII letter `lower()` turns into ASCII alone: dotted I gives
/// `i` and a combining dot), and ASCII spares the wasm the Unicode case tables.
fn derive(task_name: &str, status: &str, run: &Map<String, Value>) -> (String, String) {
    let known = |s: &str| s.to_owned();
    match task_name.replace('\u{212A}', "k").to_ascii_lowercase().as_str() {
        "_slurm_image_transfer.py" => (known("TRANSFERRING"), known("5%")),
        name if name.starts_with("convert_") => (known("CONVERTING"), known("25%")),
        "slurm_get_results.py" if status == "POSTPROCESSING" => (known("POSTPROCESSING"), known("95%")),
        "slurm_get_results.py" => (known("RETRIEVING"), known("90%")),
        "slurm_import_results.py" => {
            let progress = if status == "POSTPROCESSING" { "95%" } else { "90%" };
            (workflow_status(status), known(progress))
        }
        "slurm_run_workflow.py" => (known("RUNNING"), known("50%")),
        _ => {
            // A Slurm job's own status; progress from 50% to 90% as the task reports it.
            let progress = match run.get("taskProgress").and_then(Value::as_str).filter(|p| !p.is_empty()).and_then(percent) {
                Some(task) => format!("{}%", python_float(50.0 + (hundredths(task) * (90.0 - 50.0)))),
                None => known("50%"),
            };
            (format!("JOB_{status}"), progress)
        }
    }
}

/// BIOMERO's `getattr(workflow_status, status, status)`: the constant of that name, else the status.
fn workflow_status(status: &str) -> String {
    match status {
        "JOB_STATUS" => "JOB_".into(),
        other => other.into(),
    }
}

/// Python's `int("43%".strip("%"))`.
fn percent(text: &str) -> Option<i64> {
    text.trim_matches('%').trim().replace('_', "").parse().ok()
}

/// Python's `n / 100` for an int: the exact quotient rounded once (Rust's
/// parse rounds so), where `n as f64 / 100.0` rounds twice past 2^53.
fn hundredths(n: i64) -> f64 {
    format!("{n}e-2").parse().unwrap_or(n as f64 / 100.0)
}
