//! Recording events of aggregates known by name (defined from JavaScript, say):
//! each new event goes at an expected version, or after the aggregate's newest.
//! Where no snapshot can fall due, the newest events are read in the same
//! transaction that writes (the recorder's `append`), so appenders queue.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::Application;
use crate::domain::{new_id, now, DomainEvent, Timestamp};
use crate::error::{Error, Result};
use crate::persistence::{EventQuery, StoredEvent};

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub aggregate_type: String,
    /// `None` creates a new aggregate with a random id.
    pub id: Option<Uuid>,
    pub event: String,
    pub payload: Value,
    /// The aggregate's version before this event; below its type's initial
    /// version (0 or -1 for types counting from 1, -1 for those counting from 0)
    /// when it must not exist yet. `None` appends after whatever is newest.
    pub expected_version: Option<i64>,
}

/// Where a recorded event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub id: Uuid,
    pub version: u64,
    pub notification_id: u64,
}

/// How often a batch that only appends is retried after losing a race.
const APPEND_RETRIES: u32 = 12;

/// Each aggregate's type, newest version and time, as recording needs them.
type Heads = HashMap<Uuid, (String, u64, Timestamp)>;

impl Application {
    /// Records events for any aggregates in one atomic save. Calls in this
    /// process take turns, in call order; a batch that names no expected version
    /// is retried when another process got in first, as appending does not
    /// depend on what came before.
    pub async fn record(&self, new: &[NewEvent]) -> Result<Vec<Recorded>> {
        let _turn = self.recording.lock().await;
        let ids: Vec<Uuid> = new.iter().map(|n| n.id.unwrap_or_else(new_id)).collect();
        let appends_only = new.iter().all(|n| n.expected_version.is_none());
        let mut attempt = 0;
        loop {
            match self.record_once(new, &ids).await {
                Err(Error::Conflict { .. }) if appends_only && attempt < APPEND_RETRIES => {
                    attempt += 1;
                    back_off(attempt).await;
                }
                outcome => return outcome,
            }
        }
    }

    async fn record_once(&self, new: &[NewEvent], ids: &[Uuid]) -> Result<Vec<Recorded>> {
        let (events, notification_ids) = if self.may_snapshot(new) {
            let events = self.prepare_with(new, ids).await?;
            let notification_ids = self.save_prepared(&events, None).await?;
            (events, notification_ids)
        } else {
            let known = known_ids(new, ids);
            let mut events = Vec::new();
            let mut prepare = |stored: &[Option<StoredEvent>]| -> Result<Vec<StoredEvent>> {
                events = self.prepare_from(new, ids, self.heads_of(&known, stored)?)?;
                events.iter().map(|e| self.mapper().to_stored_event(e)).collect()
            };
            let notification_ids = self.recorder.append(&known, &mut prepare).await?;
            (events, notification_ids)
        };
        Ok(events
            .iter()
            .zip(notification_ids)
            .map(|(e, n)| Recorded { id: e.originator_id, version: e.originator_version, notification_id: n })
            .collect())
    }

    /// The domain events that recording `new` would save (checked, versioned,
    /// timestamped), without saving them: for callers that save them with
    /// something else, such as a tracking record.
    pub async fn prepare(&self, new: &[NewEvent]) -> Result<Vec<DomainEvent>> {
        let ids: Vec<Uuid> = new.iter().map(|n| n.id.unwrap_or_else(new_id)).collect();
        self.prepare_with(new, &ids).await
    }

    /// Whether a snapshot may fall due among these events: then they are
    /// prepared before the write, as the snapshot needs a replay.
    fn may_snapshot(&self, new: &[NewEvent]) -> bool {
        new.iter().any(|n| self.snapshot_every.contains_key(&n.aggregate_type))
    }

    async fn prepare_with(&self, new: &[NewEvent], ids: &[Uuid]) -> Result<Vec<DomainEvent>> {
        let known = known_ids(new, ids);
        let mut stored = Vec::with_capacity(known.len());
        for id in &known {
            stored.push(self.recorder.select_events(*id, EventQuery::last(None)).await?.pop());
        }
        self.prepare_from(new, ids, self.heads_of(&known, &stored)?)
    }

    /// The type, newest version and time of each known aggregate.
    fn heads_of(&self, known: &[Uuid], stored: &[Option<StoredEvent>]) -> Result<Heads> {
        let mut heads = Heads::with_capacity(known.len());
        for (id, last) in known.iter().zip(stored) {
            let Some(last) = last else { continue };
            let event = self.mapper().to_domain_event(last)?;
            let found = self.registry().resolve(&event.topic)?.aggregate_type.to_owned();
            heads.insert(*id, (found, event.originator_version, event.timestamp));
        }
        Ok(heads)
    }

    /// The new events, given the aggregates' heads: versions after them (or
    /// at the expected ones), timestamps never before them.
    fn prepare_from(&self, new: &[NewEvent], ids: &[Uuid], mut heads: Heads) -> Result<Vec<DomainEvent>> {
        let mut events = Vec::with_capacity(new.len());
        for (request, id) in new.iter().zip(ids) {
            let aggregate_type = self.registry().aggregate(&request.aggregate_type)?;
            if !aggregate_type.events.contains_key(&request.event) {
                return Err(Error::UnknownTopic(aggregate_type.topic(&request.event)));
            }
            let head = heads.get(id);
            if let Some((found, _, _)) = head.filter(|(found, _, _)| *found != aggregate_type.name) {
                return Err(Error::invalid(format!("aggregate {id} is a {found}, not a {}", aggregate_type.name)));
            }
            // Versions as i64, so that "none yet" of a type counting from 0 is -1.
            let current = head.map_or(aggregate_type.initial_version as i64 - 1, |(_, version, _)| *version as i64);
            let version = match request.expected_version.map(|e| e.max(aggregate_type.initial_version as i64 - 1)) {
                Some(expected) if expected != current => {
                    return Err(Error::Conflict {
                        originator_id: *id,
                        originator_version: expected.saturating_add(1).max(0) as u64,
                        detail: format!("expected version {expected}, but it is at {current}"),
                    })
                }
                _ => (current + 1) as u64,
            };
            let timestamp = head.map_or_else(now, |(_, _, last)| now().max(*last));
            let event = DomainEvent::new(*id, version, aggregate_type.topic(&request.event), timestamp, request.payload.clone())?;
            aggregate_type.fold.check(&event)?;
            events.push(event);
            heads.insert(*id, (aggregate_type.name.clone(), version, timestamp));
        }
        Ok(events)
    }

    /// An aggregate's events, decoded and upcast.
    pub async fn events(&self, id: Uuid, query: EventQuery) -> Result<Vec<DomainEvent>> {
        if id.is_nil() {
            return Err(Error::invalid("the aggregate id must not be the nil UUID"));
        }
        self.recorder.select_events(id, query).await?.iter().map(|e| self.mapper().to_domain_event(e)).collect()
    }
}

/// The aggregates the requests name (new ones with random ids have no head).
fn known_ids(new: &[NewEvent], ids: &[Uuid]) -> Vec<Uuid> {
    let mut known: Vec<Uuid> = Vec::new();
    for (request, id) in new.iter().zip(ids) {
        if request.id.is_some() && !known.contains(id) {
            known.push(*id);
        }
    }
    known
}

/// Waits a random time below 2^attempt ms (at most 256 ms), so that two writers
/// appending to one aggregate stop colliding.
async fn back_off(attempt: u32) {
    let ceiling = 1u64 << attempt.min(8);
    let jitter = (new_id().as_u128() % u128::from(ceiling)) as u64;
    futures_timer::Delay::new(std::time::Duration::from_millis(jitter)).await;
}
