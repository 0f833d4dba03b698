//! A conflict: local events that lost to the server's at the same aggregate
//! versions. The server's events win in the log; the local ones are kept here,
//! exactly as they were stored, until the application resolves the conflict.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{DomainEvent, Timestamp};
use crate::error::{Error, Result};
use crate::persistence::{Mapper, StoredEvent};

/// Row keys of conflicts start with this, in sync's private view.
pub(crate) const PREFIX: &str = "conflict:";

/// A conflict as kept: the lost events' stored records, exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Kept {
    pub id: Uuid,
    pub originator_id: Uuid,
    /// The first version the server took.
    pub version: u64,
    /// The lost events: `(topic, version, state as standard base64)`, oldest first.
    pub lost: Vec<(String, u64, String)>,
}

impl Kept {
    pub fn new(originator_id: Uuid, lost: &[StoredEvent]) -> Self {
        Kept {
            id: Uuid::new_v4(),
            originator_id,
            version: lost.first().map_or(0, |e| e.originator_version),
            lost: lost.iter().map(|e| (e.topic.clone(), e.originator_version, STANDARD.encode(&e.state))).collect(),
        }
    }

    pub fn key(&self) -> String {
        format!("{PREFIX}{}", self.id)
    }

    pub fn read(row: Value) -> Result<Self> {
        serde_json::from_value(row).map_err(|e| Error::corrupt(format!("a conflict row: {e}")))
    }

    pub fn row(&self) -> Result<Value> {
        serde_json::to_value(self).map_err(|e| Error::corrupt(format!("a conflict: {e}")))
    }

    /// The lost events as stored.
    pub fn stored(&self) -> Result<Vec<StoredEvent>> {
        self.lost
            .iter()
            .map(|(topic, version, state)| {
                let state = STANDARD.decode(state).map_err(|e| Error::corrupt(format!("a conflict's event: {e}")))?;
                Ok(StoredEvent { originator_id: self.originator_id, originator_version: *version, topic: topic.clone(), state })
            })
            .collect()
    }
}

/// A conflict as the application sees it: both sides, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub id: Uuid,
    pub originator_id: Uuid,
    /// The first version both sides recorded.
    pub version: u64,
    /// This client's events that lost, oldest first.
    pub local: Vec<DomainEvent>,
    /// The server's events of the aggregate from that version on, as in the log now.
    pub server: Vec<DomainEvent>,
}

impl Conflict {
    pub(crate) fn decoded(kept: &Kept, mapper: &Mapper, server: Vec<DomainEvent>) -> Result<Self> {
        let local = kept.stored()?.iter().map(|e| mapper.to_domain_event(e)).collect::<Result<Vec<_>>>()?;
        Ok(Conflict { id: kept.id, originator_id: kept.originator_id, version: kept.version, local, server })
    }

    /// When the first lost event happened.
    pub fn recorded_on(&self) -> Option<Timestamp> {
        self.local.first().map(|e| e.timestamp)
    }
}

/// What to do with a conflict's lost events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Record them again after the server's newest version, through the aggregate's fold.
    Rebase,
    /// Drop them, on purpose.
    Discard,
}
