//! What a Rust aggregate type implements: its name, its events, and how each
//! event changes its state. The identity and version live in [`Root`](super::Root).

use serde::{de::DeserializeOwned, Serialize};
use uuid::Uuid;

use super::{event::DomainEvent, id::id_from_name};
use crate::error::Result;

/// An event type an aggregate records, with its payload's schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType {
    pub name: &'static str,
    /// Bumped when the payload's shape changes; older payloads are upcast on read.
    pub schema_version: u32,
}

impl EventType {
    /// An event type at schema version 1.
    pub const fn new(name: &'static str) -> Self {
        EventType { name, schema_version: 1 }
    }

    /// An event type at a later schema version.
    pub const fn at(name: &'static str, schema_version: u32) -> Self {
        EventType { name, schema_version }
    }
}

/// An aggregate's state: the fold of its events. `Default` is the state before
/// the first event; `Serialize` makes the snapshot.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tributary::{Aggregate, DomainEvent, EventType, Result};
///
/// #[derive(Clone, Default, Serialize, Deserialize)]
/// struct Dog { name: String, tricks: Vec<String> }
///
/// impl Aggregate for Dog {
///     const TYPE: &'static str = "Dog";
///     const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];
///     fn apply(&mut self, event: &DomainEvent) -> Result<()> {
///         match event.name() {
///             "Registered" => self.name = event.field("name")?,
///             _ => self.tricks.push(event.field("trick")?),
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Aggregate: Default + Serialize + DeserializeOwned + Clone {
    /// The aggregate type's name, the first part of its topics (`Dog`).
    const TYPE: &'static str;
    /// Every event type this aggregate records.
    const EVENTS: &'static [EventType];
    /// The schema version of the state written in snapshots.
    const SCHEMA_VERSION: u32 = 1;
    /// The version of the first event: 1, or 0 as the Python library's
    /// `INITIAL_VERSION = 0` (BIOMERO's aggregates).
    const INITIAL_VERSION: u64 = 1;

    /// Changes the state by one event. An error leaves the aggregate unchanged.
    fn apply(&mut self, event: &DomainEvent) -> Result<()>;

    /// Refuses an event this type could never apply, whatever its state (a
    /// field of the wrong type, say). Recording by name writes without a
    /// replay, so it asks this before writing: an event refused later, by
    /// every replay, would make the aggregate unreadable. Accepts any by default.
    fn check(_event: &DomainEvent) -> Result<()> {
        Ok(())
    }

    /// The id derived from a name; the same name always gives the same id.
    /// Python's tutorial writes `uuid5(NAMESPACE_URL, "/dogs/Fido")`: override to match.
    fn create_id(name: &str) -> Uuid {
        id_from_name(&Uuid::NAMESPACE_URL, &format!("/{}/{name}", Self::TYPE))
    }
}
