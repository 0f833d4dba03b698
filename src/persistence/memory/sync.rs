//! Sync's writes in memory: checked whole first, then made, so all or nothing.

use async_trait::async_trait;

use super::{check_batch, check_tracking, MemoryApplicationRecorder};
use crate::error::Result;
use crate::persistence::{cleared_row, Removal, SyncRecorder, SyncWrite};

#[async_trait(?Send)]
impl SyncRecorder for MemoryApplicationRecorder {
    async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>> {
        let mut log = self.inner.borrow_mut();
        let mut snapshots = self.snapshots.inner.borrow_mut();
        for removal in write.removed {
            let found = log.notifications.get(removal.notification_id);
            if found.is_none_or(|n| n.originator_id != removal.originator_id || n.originator_version != removal.originator_version) {
                return Err(removal.absent());
            }
        }
        Removal::check_tails(write.removed, |id| log.streams.get(id).and_then(|s| s.last_position()))?;
        let removed =
            |id: &uuid::Uuid, version: u64| write.removed.iter().any(|r| r.originator_id == *id && r.originator_version == version);
        check_batch(write.events, |id, v| !removed(id, v) && log.streams.get(id).is_some_and(|s| s.contains(v)))?;
        if let Some(tracking) = write.tracking {
            check_tracking(tracking, log.tracking.get(&tracking.application_name))?;
        }
        for removal in write.removed {
            log.notifications.remove(removal.notification_id);
            if let Some(stream) = log.streams.get_mut(&removal.originator_id) {
                stream.remove(removal.originator_version);
            }
            if let Some(stream) = snapshots.get_mut(&removal.originator_id) {
                stream.retain(|version| version < removal.originator_version);
            }
        }
        if let Some(tracking) = write.tracking {
            log.tracking.insert(tracking.application_name.clone(), tracking.notification_id);
        }
        for view in write.cleared {
            log.views.insert(view.clone(), cleared_row().into_iter().filter_map(|(key, value)| Some((key, value?))).collect());
            log.tracking.insert(view.clone(), 0);
        }
        for (view, changes) in write.rows {
            let rows = log.views.entry(view.to_string()).or_default();
            for (key, change) in changes.iter() {
                match change {
                    Some(value) => rows.insert(key.clone(), value.clone()),
                    None => rows.remove(key),
                };
            }
        }
        Ok(log.append(write.events))
    }
}
