//! The in-memory adapter: every port over plain collections, natively and in wasm.
//! Each call checks the whole batch before it changes anything, which makes it
//! atomic. Clones share the same storage, as two handles on one database would.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use async_trait::async_trait;
use uuid::Uuid;

mod sync;
mod views;

use super::by_position::ByPosition;
use super::record::{validate_batch, EventQuery, Notification, StoredEvent, Tracking};
use super::recorder::{AggregateRecorder, ApplicationRecorder, NotificationQuery, Recording, SnapshotRecorder, TrackingRecorder};
use crate::error::{Error, Result};

/// Events with their notification log, tracking records, and the snapshots beside them.
#[derive(Clone, Default)]
pub struct MemoryApplicationRecorder {
    inner: Rc<RefCell<Log>>,
    snapshots: MemorySnapshotRecorder,
}

#[derive(Default)]
struct Log {
    notifications: ByPosition<Notification>,
    /// The last notification id given: ids are never given twice, even after a removal.
    last: u64,
    /// originator id -> version -> notification id.
    streams: HashMap<Uuid, ByPosition<u64>>,
    /// The newest position of each name.
    tracking: HashMap<String, u64>,
    /// view -> key -> row.
    views: HashMap<String, BTreeMap<String, serde_json::Value>>,
}

/// Snapshots: stored events without a log, which may be pruned.
#[derive(Clone, Default)]
pub struct MemorySnapshotRecorder {
    inner: Rc<RefCell<HashMap<Uuid, ByPosition<StoredEvent>>>>,
}

impl MemoryApplicationRecorder {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Log {
    /// Appends checked events, each with the next notification id.
    fn append(&mut self, events: &[StoredEvent]) -> Vec<u64> {
        let mut ids = Vec::with_capacity(events.len());
        for event in events {
            self.last += 1;
            self.streams.entry(event.originator_id).or_default().insert(event.originator_version, self.last);
            self.notifications.insert(self.last, Notification::new(self.last, event.clone()));
            ids.push(self.last);
        }
        ids
    }
}

impl MemorySnapshotRecorder {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Fails on the first invalid event or taken position, in the batch or in storage.
fn check_batch(events: &[StoredEvent], taken: impl Fn(&Uuid, u64) -> bool) -> Result<()> {
    validate_batch(events)?;
    match events.iter().find(|e| taken(&e.originator_id, e.originator_version)) {
        Some(event) => Err(Error::Conflict {
            originator_id: event.originator_id,
            originator_version: event.originator_version,
            detail: "position taken (in-memory recorder)".into(),
        }),
        None => Ok(()),
    }
}

/// Fails on an invalid tracking record or one at or below the newest.
fn check_tracking(tracking: &Tracking, newest: Option<&u64>) -> Result<()> {
    tracking.validate()?;
    if newest.is_some_and(|newest| *newest >= tracking.notification_id) {
        return Err(Error::DuplicateTracking {
            application_name: tracking.application_name.clone(),
            notification_id: tracking.notification_id,
        });
    }
    Ok(())
}

/// Applies an [`EventQuery`] to one aggregate's versions.
fn select<'a, T: 'a>(stream: Option<&'a ByPosition<T>>, query: EventQuery) -> Vec<&'a T> {
    let Some(stream) = stream else { return vec![] };
    let matching = stream.iter().filter(|(v, _)| query.contains(*v)).map(|(_, t)| t);
    let limit = query.limit.unwrap_or(usize::MAX);
    if query.desc {
        matching.rev().take(limit).collect()
    } else {
        matching.take(limit).collect()
    }
}

#[async_trait(?Send)]
impl AggregateRecorder for MemoryApplicationRecorder {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
        self.record(Recording { events, ..Recording::default() }).await
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        let log = self.inner.borrow();
        Ok(select(log.streams.get(&originator_id), query)
            .into_iter()
            .filter_map(|id| log.notifications.get(*id))
            .map(Notification::stored_event)
            .collect())
    }
}

#[async_trait(?Send)]
impl ApplicationRecorder for MemoryApplicationRecorder {
    async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>> {
        let mut log = self.inner.borrow_mut();
        let mut snapshots = self.snapshots.inner.borrow_mut();
        // Check everything first: then the writes below cannot fail half way.
        check_batch(recording.events, |id, v| log.streams.get(id).is_some_and(|s| s.contains(v)))?;
        check_batch(recording.snapshots, |id, v| snapshots.get(id).is_some_and(|s| s.contains(v)))?;
        if let Some(tracking) = recording.tracking {
            check_tracking(tracking, log.tracking.get(&tracking.application_name))?;
            log.tracking.insert(tracking.application_name.clone(), tracking.notification_id);
        }
        for snapshot in recording.snapshots {
            snapshots.entry(snapshot.originator_id).or_default().insert(snapshot.originator_version, snapshot.clone());
        }
        Ok(log.append(recording.events))
    }

    fn snapshots(&self) -> Rc<dyn SnapshotRecorder> {
        Rc::new(self.snapshots.clone())
    }

    async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
        let log = self.inner.borrow();
        Ok(log
            .notifications
            .from(query.start.max(1))
            .take_while(|n| query.stop.is_none_or(|stop| n.id <= stop))
            .filter(|n| query.matches(n))
            .take(query.limit)
            .cloned()
            .collect())
    }

    async fn max_notification_id(&self) -> Result<Option<u64>> {
        Ok(self.inner.borrow().notifications.last_position())
    }
}

#[async_trait(?Send)]
impl TrackingRecorder for MemoryApplicationRecorder {
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
        let mut log = self.inner.borrow_mut();
        check_tracking(tracking, log.tracking.get(&tracking.application_name))?;
        log.tracking.insert(tracking.application_name.clone(), tracking.notification_id);
        Ok(())
    }

    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
        Ok(self.inner.borrow().tracking.get(application_name).copied())
    }
}

#[async_trait(?Send)]
impl AggregateRecorder for MemorySnapshotRecorder {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
        let mut streams = self.inner.borrow_mut();
        check_batch(events, |id, v| streams.get(id).is_some_and(|s| s.contains(v)))?;
        for event in events {
            streams.entry(event.originator_id).or_default().insert(event.originator_version, event.clone());
        }
        Ok(vec![])
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        Ok(select(self.inner.borrow().get(&originator_id), query).into_iter().cloned().collect())
    }
}

#[async_trait(?Send)]
impl SnapshotRecorder for MemorySnapshotRecorder {
    async fn prune(&self, originator_id: Uuid, keep: usize) -> Result<usize> {
        let mut streams = self.inner.borrow_mut();
        let Some(stream) = streams.get_mut(&originator_id) else { return Ok(0) };
        let excess = stream.len().saturating_sub(keep);
        stream.drop_first(excess);
        Ok(excess)
    }
}
