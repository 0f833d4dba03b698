//! An aggregate root: the state of one aggregate with its identity, version and
//! the events it has triggered but not yet saved.

use serde_json::Value;
use uuid::Uuid;

use super::aggregate::Aggregate;
use super::event::DomainEvent;
use super::id::new_id;
use super::timestamp::{now, Timestamp};
use crate::error::{Error, Result};

/// Anything with events waiting to be saved; lets one save take many aggregate types.
pub trait Pending {
    fn pending_events(&self) -> &[DomainEvent];
    /// Called once the pending events are saved.
    fn clear_pending(&mut self);
}

/// One aggregate: its id, its version (that of its last event) and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Root<A> {
    id: Uuid,
    version: u64,
    created_on: Timestamp,
    modified_on: Timestamp,
    state: A,
    pending: Vec<DomainEvent>,
}

impl<A: Aggregate> Root<A> {
    /// A new aggregate with a random id, created by its first event.
    pub fn create(event_name: &str, payload: Value) -> Result<Self> {
        Self::create_with_id(new_id(), event_name, payload)
    }

    /// A new aggregate with the given id (say, from [`Aggregate::create_id`]).
    pub fn create_with_id(id: Uuid, event_name: &str, payload: Value) -> Result<Self> {
        let first = new_event::<A>(id, A::INITIAL_VERSION, event_name, now(), payload)?;
        let mut root =
            Root { id, version: 0, created_on: first.timestamp, modified_on: first.timestamp, state: A::default(), pending: vec![] };
        root.mutate(first)?;
        Ok(root)
    }

    /// Records a new event now: applies it and keeps it pending until saved.
    pub fn trigger(&mut self, event_name: &str, payload: Value) -> Result<()> {
        self.trigger_at(event_name, payload, now())
    }

    /// Records a new event at `timestamp` (never earlier than the last one, so
    /// that "as it was at a time" is well defined).
    pub fn trigger_at(&mut self, event_name: &str, payload: Value, timestamp: Timestamp) -> Result<()> {
        let event = new_event::<A>(self.id, self.version + 1, event_name, timestamp.max(self.modified_on), payload)?;
        self.mutate(event)
    }

    /// An aggregate as a replay left it: nothing pending.
    pub(crate) fn restored(id: Uuid, version: u64, created_on: Timestamp, modified_on: Timestamp, state: A) -> Self {
        Root { id, version, created_on, modified_on, state, pending: vec![] }
    }

    /// Applies to a copy, so that a failing `apply` leaves the aggregate as it was.
    fn mutate(&mut self, event: DomainEvent) -> Result<()> {
        let mut state = self.state.clone();
        state.apply(&event)?;
        self.state = state;
        self.version = event.originator_version;
        self.modified_on = event.timestamp;
        self.pending.push(event);
        Ok(())
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn state(&self) -> &A {
        &self.state
    }
    pub fn created_on(&self) -> Timestamp {
        self.created_on
    }
    pub fn modified_on(&self) -> Timestamp {
        self.modified_on
    }
}

impl<A> Pending for Root<A> {
    fn pending_events(&self) -> &[DomainEvent] {
        &self.pending
    }
    fn clear_pending(&mut self) {
        self.pending.clear();
    }
}

fn new_event<A: Aggregate>(id: Uuid, version: u64, event_name: &str, timestamp: Timestamp, payload: Value) -> Result<DomainEvent> {
    if !A::EVENTS.iter().any(|e| e.name == event_name) {
        return Err(Error::UnknownTopic(format!("{}.{event_name}", A::TYPE)));
    }
    DomainEvent::new(id, version, format!("{}.{event_name}", A::TYPE), timestamp, payload)
}
