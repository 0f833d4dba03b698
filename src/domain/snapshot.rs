//! A snapshot: an aggregate's state at one version, so that a replay can start
//! there instead of at the first event.

use serde_json::Value;
use uuid::Uuid;

use super::event::kind;
use super::timestamp::Timestamp;
use crate::error::{Error, Result};

/// Keys the snapshot state reserves (as Python's `Snapshot` does).
pub(crate) const RESERVED_STATE_KEYS: [&str; 3] = ["_created_on", "_modified_on", "class_version"];

/// An aggregate's state at `originator_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub originator_id: Uuid,
    pub originator_version: u64,
    /// The aggregate type's name (Python: the aggregate's topic).
    pub aggregate_type: String,
    /// When the snapshot was taken.
    pub timestamp: Timestamp,
    /// Time of the aggregate's first event.
    pub created_on: Timestamp,
    /// Time of the event at `originator_version`.
    pub modified_on: Timestamp,
    /// The aggregate's state: a JSON object, as of the current schema version.
    pub state: Value,
}

impl Snapshot {
    /// Checks that the state can be stored: an object, without reserved keys.
    pub(crate) fn validate_state(aggregate_type: &str, state: &Value) -> Result<()> {
        let Value::Object(fields) = state else {
            return Err(Error::invalid(format!("{aggregate_type} state must be a JSON object to be snapshotted, not {}", kind(state))));
        };
        match RESERVED_STATE_KEYS.iter().find(|key| fields.contains_key(**key)) {
            Some(key) => Err(Error::invalid(format!("{aggregate_type} state uses the reserved key {key:?}"))),
            None => Ok(()),
        }
    }
}
