//! Getting an aggregate back: the newest usable snapshot, then the events after
//! it, up to a version or a time; and folding them by the registry's types.

use serde_json::Value;
use uuid::Uuid;

use super::Application;
use crate::domain::{DomainEvent, Registry, Snapshot, Timestamp};
use crate::error::{Error, Result};
use crate::persistence::{EventQuery, StoredEvent};

/// Which state of an aggregate to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// After its newest event.
    Latest,
    /// After the event at this version.
    Version(u64),
    /// After its newest event at or before this time.
    Time(Timestamp),
}

/// An aggregate replayed as JSON, for types known only by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub id: Uuid,
    pub aggregate_type: String,
    pub version: u64,
    pub created_on: Timestamp,
    pub modified_on: Timestamp,
    pub state: Value,
}

/// What a replay starts from and goes through.
pub(crate) struct Source {
    pub snapshot: Option<Snapshot>,
    pub events: Vec<DomainEvent>,
}

impl Source {
    /// The aggregate type these records belong to.
    pub fn aggregate_type<'r>(&'r self, registry: &'r Registry) -> Result<&'r str> {
        match (&self.snapshot, self.events.first()) {
            (Some(snapshot), _) => Ok(&snapshot.aggregate_type),
            (None, Some(event)) => Ok(registry.resolve(&event.topic)?.aggregate_type),
            (None, None) => Err(Error::NotFound("aggregate with no events".into())),
        }
    }

    /// Fails unless the records are of `expected` type.
    pub fn expect_type(&self, registry: &Registry, expected: &str) -> Result<()> {
        let found = self.aggregate_type(registry)?;
        if found != expected {
            return Err(Error::invalid(format!("the aggregate is a {found}, not a {expected}")));
        }
        Ok(())
    }
}

impl Application {
    /// Any aggregate, folded as JSON by its registered type.
    pub async fn replay(&self, id: Uuid, at: At) -> Result<Replayed> {
        let source = self.load(id, at).await?;
        let aggregate_type = self.registry().aggregate(source.aggregate_type(self.registry())?)?;
        let (version, created_on, modified_on, state) = match &source.snapshot {
            Some(s) => (s.originator_version, s.created_on, s.modified_on, s.state.clone()),
            None => (0, source.events[0].timestamp, source.events[0].timestamp, aggregate_type.fold.initial()?),
        };
        let state = if source.events.is_empty() { state } else { aggregate_type.fold.apply(state, &source.events)? };
        let last = source.events.last();
        Ok(Replayed {
            id,
            aggregate_type: aggregate_type.name.clone(),
            version: last.map_or(version, |e| e.originator_version),
            created_on,
            modified_on: last.map_or(modified_on, |e| e.timestamp),
            state,
        })
    }

    /// The newest snapshot usable for `at`, and the events after it up to `at`.
    pub(crate) async fn load(&self, id: Uuid, at: At) -> Result<Source> {
        if id.is_nil() {
            return Err(Error::invalid("the aggregate id must not be the nil UUID"));
        }
        let lte = match at {
            At::Version(0) => return Err(Error::invalid("versions start at 1")),
            At::Version(version) => Some(version),
            _ => None,
        };
        let snapshot = self.usable_snapshot(id, at, lte).await?;
        let gt = snapshot.as_ref().map(|s| s.originator_version);
        let stored = self.recorder.select_events(id, EventQuery { gt, lte, ..EventQuery::all() }).await?;
        let events = self.decode(&stored, at)?;
        if snapshot.is_none() && events.is_empty() {
            return Err(Error::NotFound(match at {
                At::Time(time) => format!("aggregate {id} at {time} (none, or not yet created)"),
                _ => format!("aggregate {id}"),
            }));
        }
        let reached = events.last().map(|e| e.originator_version).or(gt).unwrap_or(0);
        match lte {
            Some(version) if reached < version => {
                Err(Error::NotFound(format!("aggregate {id} at version {version}: its latest is {reached}")))
            }
            _ => Ok(Source { snapshot, events }),
        }
    }

    /// Decodes events, stopping at the first one after `at`'s time.
    fn decode(&self, stored: &[StoredEvent], at: At) -> Result<Vec<DomainEvent>> {
        let mut events = Vec::with_capacity(stored.len());
        for record in stored {
            let event = self.mapper().to_domain_event(record)?;
            if matches!(at, At::Time(time) if event.timestamp > time) {
                break;
            }
            events.push(event);
        }
        Ok(events)
    }

    async fn usable_snapshot(&self, id: Uuid, at: At, lte: Option<u64>) -> Result<Option<Snapshot>> {
        match at {
            At::Time(time) => {
                for record in self.snapshots.select_events(id, EventQuery { desc: true, ..EventQuery::all() }).await? {
                    let snapshot = self.mapper().to_snapshot(&record)?;
                    if snapshot.modified_on <= time {
                        return Ok(Some(snapshot));
                    }
                }
                Ok(None)
            }
            _ => match self.snapshots.select_events(id, EventQuery::last(lte)).await?.first() {
                Some(record) => self.mapper().to_snapshot(record).map(Some),
                None => Ok(None),
            },
        }
    }
}
