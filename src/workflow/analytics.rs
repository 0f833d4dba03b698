//! Questions about tasks across runs, answered from the task analytics view.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::persistence::Row;

/// How one kind of task (by name) has fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatistics {
    pub name: String,
    /// Tasks of this name that have ended.
    pub finished: u64,
    pub failed: u64,
    /// failed / finished (0 when none has finished).
    pub failure_rate: f64,
    /// Mean duration of those that completed, in milliseconds.
    pub mean_duration_ms: Option<f64>,
}

/// Failure rate and mean duration per task name, from the task analytics rows.
pub fn task_statistics(rows: &[Row]) -> Vec<TaskStatistics> {
    #[derive(Default)]
    struct Tally {
        finished: u64,
        failed: u64,
        durations: Vec<f64>,
    }
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for row in rows {
        let Some(name) = row.value["name"].as_str() else { continue };
        let tally = tallies.entry(name.to_owned()).or_default();
        match row.value["status"].as_str() {
            Some("completed") => {
                tally.finished += 1;
                tally.durations.extend(row.value["durationMs"].as_f64());
            }
            Some("failed") => {
                tally.finished += 1;
                tally.failed += 1;
            }
            _ => {}
        }
    }
    tallies
        .into_iter()
        .map(|(name, t)| TaskStatistics {
            name,
            finished: t.finished,
            failed: t.failed,
            failure_rate: if t.finished == 0 { 0.0 } else { t.failed as f64 / t.finished as f64 },
            mean_duration_ms: (!t.durations.is_empty()).then(|| t.durations.iter().sum::<f64>() / t.durations.len() as f64),
        })
        .collect()
}
