//! What a client remembers about syncing with one server, kept in a row of a
//! private view beside the log (written in the same transactions as what it
//! describes): its id, how far its local log is settled, and what is on its way back.

use std::collections::HashSet;

use serde::{Deserialize, Serialize, Serializer};
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
    /// Positions `(aggregate, version)` above the watermark that are on the server
    /// (written in order, as a `BTreeSet` would be, which would cost the wasm more code).
    #[serde(serialize_with = "in_order")]
    pub settled: HashSet<(Uuid, u64)>,
    /// Server notification ids of events this client pushed that its pull has
    /// not reached yet: when they come, they are ours, already in the log.
    pub returning: ByPosition<(Uuid, u64)>,
}

impl State {
    pub fn new() -> Self {
        State { client_id: Uuid::new_v4(), watermark: 0, settled: HashSet::new(), returning: ByPosition::default() }
    }

    pub fn read(row: Value) -> Result<Self> {
        serde_json::from_value(row).map_err(|e| Error::corrupt(format!("the sync state row: {e}")))
    }

    pub fn row(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|e| Error::corrupt(format!("the sync state: {e}")))
    }
}

fn in_order<S: Serializer>(settled: &HashSet<(Uuid, u64)>, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    let mut positions: Vec<_> = settled.iter().collect();
    positions.sort_unstable();
    positions.serialize(serializer)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::State;

    #[test]
    fn settled_positions_are_written_in_order_and_read_back() {
        let (a, b) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let mut state = State::new();
        for position in [(a, 3), (b, 7), (a, 1), (b, 2)] {
            state.settled.insert(position);
        }
        state.returning.insert(9, (a, 4));
        let row = state.row().unwrap();
        let written: Vec<(Uuid, u64)> = serde_json::from_value(row["settled"].clone()).unwrap();
        assert_eq!(written, [(b, 2), (b, 7), (a, 1), (a, 3)]);
        assert_eq!(row["returning"], serde_json::json!({ "9": [a, 4] }));
        assert_eq!(State::read(row).unwrap(), state);
    }
}
