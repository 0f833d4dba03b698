//! Recording events of aggregates known by name (defined from JavaScript, say):
//! each new event goes at an expected version, or after the aggregate's newest.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::Application;
use crate::domain::{new_id, now, DomainEvent, Timestamp};
use crate::error::{Error, Result};
use crate::persistence::EventQuery;

/// One event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub aggregate_type: String,
    /// `None` creates a new aggregate with a random id.
    pub id: Option<Uuid>,
    pub event: String,
    pub payload: Value,
    /// The aggregate's version before this event (0: it must not exist yet).
    /// `None` appends after whatever is newest.
    pub expected_version: Option<u64>,
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
        let events = self.prepare_with(new, ids).await?;
        let notification_ids = self.save_events(&events).await?;
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

    async fn prepare_with(&self, new: &[NewEvent], ids: &[Uuid]) -> Result<Vec<DomainEvent>> {
        let mut heads: HashMap<Uuid, (u64, Option<Timestamp>)> = HashMap::new();
        let mut events = Vec::with_capacity(new.len());
        for (request, id) in new.iter().zip(ids) {
            let aggregate_type = self.registry().aggregate(&request.aggregate_type)?;
            if !aggregate_type.events.contains_key(&request.event) {
                return Err(Error::UnknownTopic(aggregate_type.topic(&request.event)));
            }
            let head = match heads.get(id) {
                Some(head) => *head,
                None if request.id.is_none() => (0, None),
                None => self.head(*id, &aggregate_type.name).await?,
            };
            let version = match request.expected_version {
                Some(expected) if expected != head.0 => {
                    return Err(Error::Conflict {
                        originator_id: *id,
                        originator_version: expected + 1,
                        detail: format!("expected version {expected}, but it is at {}", head.0),
                    })
                }
                _ => head.0 + 1,
            };
            let timestamp = head.1.map_or_else(now, |last| now().max(last));
            events.push(DomainEvent::new(*id, version, aggregate_type.topic(&request.event), timestamp, request.payload.clone())?);
            heads.insert(*id, (version, Some(timestamp)));
        }
        Ok(events)
    }

    /// An aggregate's newest version and time (0 and none before it exists),
    /// checking that it is of the named type.
    async fn head(&self, id: Uuid, aggregate_type: &str) -> Result<(u64, Option<Timestamp>)> {
        let Some(last) = self.events(id, EventQuery::last(None)).await?.pop() else { return Ok((0, None)) };
        let found = self.registry().resolve(&last.topic)?.aggregate_type;
        if found != aggregate_type {
            return Err(Error::invalid(format!("aggregate {id} is a {found}, not a {aggregate_type}")));
        }
        Ok((last.originator_version, Some(last.timestamp)))
    }

    /// An aggregate's events, decoded and upcast.
    pub async fn events(&self, id: Uuid, query: EventQuery) -> Result<Vec<DomainEvent>> {
        if id.is_nil() {
            return Err(Error::invalid("the aggregate id must not be the nil UUID"));
        }
        self.recorder.select_events(id, query).await?.iter().map(|e| self.mapper().to_domain_event(e)).collect()
    }
}

/// Waits a random time below 2^attempt ms (at most 256 ms), so that two writers
/// appending to one aggregate stop colliding.
async fn back_off(attempt: u32) {
    let ceiling = 1u64 << attempt.min(8);
    let jitter = (new_id().as_u128() % u128::from(ceiling)) as u64;
    futures_timer::Delay::new(std::time::Duration::from_millis(jitter)).await;
}
