//! What a client remembers about syncing with one server, kept in a row of a
//! private view beside the log (written in the same transactions as what it
//! describes): its id, how far its local log is settled, and what is on its way back.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::persistence::ByPosition;

/// A client's sync state for one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    pub client_id: Uuid,
    /// Every local notification up to here is on the server (pulled, or pushed
    /// and acknowledged) or was removed: pending events are all above it.
    pub watermark: u64,
    /// Positions `(aggregate, version)` above the watermark that are on the server.
    pub settled: BTreeSet<(Uuid, u64)>,
    /// Server notification ids of events this client pushed that its pull has
    /// not reached yet: when they come, they are ours, already in the log.
    pub returning: ByPosition<(Uuid, u64)>,
}

impl State {
    pub fn new() -> Self {
        State { client_id: Uuid::new_v4(), watermark: 0, settled: BTreeSet::new(), returning: ByPosition::default() }
    }

    pub fn read(row: Value) -> Result<Self> {
        serde_json::from_value(row).map_err(|e| Error::corrupt(format!("the sync state row: {e}")))
    }

    pub fn row(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|e| Error::corrupt(format!("the sync state: {e}")))
    }
}
