//! The records storage keeps, in the shapes of the Python library's recorders.

use uuid::Uuid;

use crate::domain::validate_id;
use crate::error::{Error, Result};

/// The largest id or version a browser's log holds: JavaScript numbers, and so
/// IndexedDB keys, hold integers exactly up to 2^53 - 1.
pub const MAX_SAFE: u64 = (1 << 53) - 1;

/// An event as stored: its position, topic, and encoded state bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub originator_id: Uuid,
    pub originator_version: u64,
    pub topic: String,
    pub state: Vec<u8>,
}

impl StoredEvent {
    /// Checks what every recorder requires before it writes anything.
    pub fn validate(&self) -> Result<()> {
        validate_id(&self.originator_id)?;
        if self.topic.is_empty() {
            return Err(Error::invalid("a stored event's topic must not be empty"));
        }
        Ok(())
    }
}

/// Checks a batch before any write: every record valid, no position twice.
pub fn validate_batch<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Result<()> {
    let events = events.into_iter();
    let mut seen = std::collections::HashSet::with_capacity(events.size_hint().0);
    for event in events {
        event.validate()?;
        if !seen.insert((event.originator_id, event.originator_version)) {
            return Err(Error::Conflict {
                originator_id: event.originator_id,
                originator_version: event.originator_version,
                detail: "the batch holds this position twice".into(),
            });
        }
    }
    Ok(())
}

/// A stored event with its place in the application's log (1, 2, 3 ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: u64,
    pub originator_id: Uuid,
    pub originator_version: u64,
    pub topic: String,
    pub state: Vec<u8>,
}

impl Notification {
    pub fn new(id: u64, event: StoredEvent) -> Self {
        Notification {
            id,
            originator_id: event.originator_id,
            originator_version: event.originator_version,
            topic: event.topic,
            state: event.state,
        }
    }

    /// The stored event this notification announces.
    pub fn stored_event(&self) -> StoredEvent {
        StoredEvent {
            originator_id: self.originator_id,
            originator_version: self.originator_version,
            topic: self.topic.clone(),
            state: self.state.clone(),
        }
    }
}

/// The position in an upstream log that a downstream application has processed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tracking {
    pub application_name: String,
    pub notification_id: u64,
}

impl Tracking {
    /// A tracking record names an application and a notification id from 1.
    pub fn validate(&self) -> Result<()> {
        if self.application_name.is_empty() || self.notification_id == 0 {
            return Err(Error::invalid("a tracking record needs an application name and a notification id from 1"));
        }
        Ok(())
    }

    /// Checks a record that moves a position on from `from`: valid, and past it
    /// (else [`Error::DuplicateTracking`]: those notifications were processed).
    pub fn validate_after(&self, from: Option<u64>) -> Result<()> {
        self.validate()?;
        if from.is_some_and(|from| from >= self.notification_id) {
            return Err(Error::DuplicateTracking {
                application_name: self.application_name.clone(),
                notification_id: self.notification_id,
            });
        }
        Ok(())
    }
}

/// Which of an aggregate's events to select: versions in `(gt, lte]`, ascending
/// unless `desc`, at most `limit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub gt: Option<u64>,
    pub lte: Option<u64>,
    pub desc: bool,
    pub limit: Option<usize>,
}

impl EventQuery {
    /// Every event, oldest first.
    pub fn all() -> Self {
        Self::default()
    }

    /// The newest event at or below `lte` (or the newest of all).
    pub fn last(lte: Option<u64>) -> Self {
        EventQuery { lte, desc: true, limit: Some(1), ..Self::default() }
    }

    /// Whether a version falls in the query's range.
    pub fn contains(&self, version: u64) -> bool {
        self.gt.is_none_or(|gt| version > gt) && self.lte.is_none_or(|lte| version <= lte)
    }
}
