//! Snapshots: taken on demand or every N versions, pruned to the newest K.

use uuid::Uuid;

use super::{loading::At, Application};
use crate::domain::{now, DomainEvent, Snapshot};
use crate::error::{Error, Result};

impl Application {
    /// Snapshots an aggregate at `version` (its latest when `None`). Taking the
    /// same snapshot twice is harmless: the state at a version never changes.
    pub async fn take_snapshot(&self, id: Uuid, version: Option<u64>) -> Result<Snapshot> {
        let replayed = self.replay(id, version.map_or(At::Latest, At::Version)).await?;
        let snapshot = Snapshot {
            originator_id: id,
            originator_version: replayed.version,
            aggregate_type: replayed.aggregate_type,
            timestamp: now(),
            created_on: replayed.created_on,
            modified_on: replayed.modified_on,
            state: replayed.state,
        };
        let stored = self.mapper().to_stored_snapshot(&snapshot)?;
        match self.snapshots.insert_events(&[stored]).await {
            Ok(_) | Err(Error::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
        if let Some(keep) = self.keep_snapshots {
            self.snapshots.prune(id, keep).await?;
        }
        Ok(snapshot)
    }

    /// Snapshots each aggregate whose new version is a multiple of its type's interval.
    pub(crate) async fn take_due_snapshots(&self, saved: &[DomainEvent]) -> Result<()> {
        for event in saved {
            let aggregate_type = self.registry().resolve(&event.topic)?.aggregate_type;
            let due = self.snapshot_every.get(aggregate_type).is_some_and(|every| event.originator_version % every == 0);
            if due {
                self.take_snapshot(event.originator_id, Some(event.originator_version)).await?;
            }
        }
        Ok(())
    }
}
