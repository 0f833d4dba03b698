//! Questions about tasks across runs, answered from the task analytics rows as
//! BIOMERO's `WorkflowAnalytics` answers them (counts, failures, mean duration).

use serde::Serialize;

use crate::domain::parse_iso;
use crate::persistence::Row;

/// How one kind of task (by name) has fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatistics {
    pub name: String,
    /// Tasks of this name.
    pub count: u64,
    /// Those that have ended (an `endTime`).
    pub finished: u64,
    /// Those that failed (an `errorType`).
    pub failed: u64,
    /// failed / finished (0 when none has finished).
    pub failure_rate: f64,
    /// Mean of end minus start over those that ended, in milliseconds.
    pub mean_duration_ms: Option<f64>,
}

/// Counts, failure rate and mean duration per task name, from the task analytics rows.
pub fn task_statistics(rows: &[Row]) -> Vec<TaskStatistics> {
    #[derive(Default)]
    struct Tally {
        count: u64,
        finished: u64,
        failed: u64,
        durations: Vec<f64>,
    }
    // Sorted by name: a Vec, as a map of its own would cost the wasm a BTreeMap copy.
    let mut tallies: Vec<(String, Tally)> = Vec::new();
    for row in rows {
        let Some(name) = row.value["taskName"].as_str() else { continue };
        let at = tallies.binary_search_by(|(n, _)| n.as_str().cmp(name)).unwrap_or_else(|at| {
            tallies.insert(at, (name.to_owned(), Tally::default()));
            at
        });
        let tally = &mut tallies[at].1;
        tally.count += 1;
        let time = |key: &str| row.value[key].as_str().and_then(|t| parse_iso(t).ok());
        if let Some(end) = time("endTime") {
            tally.finished += 1;
            tally.durations.extend(time("startTime").map(|start| (end - start).num_microseconds().unwrap_or(0) as f64 / 1000.0));
        }
        if !row.value["errorType"].is_null() {
            tally.failed += 1;
        }
    }
    tallies
        .into_iter()
        .map(|(name, t)| TaskStatistics {
            name,
            count: t.count,
            finished: t.finished,
            failed: t.failed,
            failure_rate: if t.finished == 0 { 0.0 } else { t.failed as f64 / t.finished as f64 },
            mean_duration_ms: (!t.durations.is_empty()).then(|| t.durations.iter().sum::<f64>() / t.durations.len() as f64),
        })
        .collect()
}
