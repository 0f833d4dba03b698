//! The registry of what an application knows: aggregate types, their event types
//! with schema versions, renamed topics, upcasters for old payloads, and the
//! topics other systems (Python's `module:Class`) store them under.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::rc::Rc;

use serde_json::Value;

use super::aggregate::Aggregate;
use super::event::{DomainEvent, Payload};
use crate::by_name::ByName;
use crate::error::{Error, Result};

/// Brings a payload (or snapshot state) from one schema version to the next.
pub type Upcaster = Rc<dyn Fn(Payload) -> Result<Payload>>;

/// Folds events into an aggregate's state as JSON: how the application replays
/// aggregates whose types it knows only by name (defined from JavaScript, say).
pub trait Fold {
    /// The state before the first event.
    fn initial(&self) -> Result<Value>;
    /// The state after `events`, in one call so that a foreign fold crosses once.
    fn apply(&self, state: Value, events: &[DomainEvent]) -> Result<Value>;
    /// Refuses a new event no state could take in (see [`Aggregate::check`]).
    fn check(&self, _event: &DomainEvent) -> Result<()> {
        Ok(())
    }
    /// A snapshot's state as this type keeps it, or a [`Error::Corrupt`] for
    /// one it cannot take (written by another program, as BIOMERO's
    /// `WorkflowRun` without a status), which a replay then passes over.
    fn read_snapshot(&self, state: Value) -> Result<Value> {
        Ok(state)
    }
}

/// One aggregate type, described as data.
#[derive(Clone)]
pub struct AggregateType {
    pub name: String,
    /// Schema version of the snapshot state.
    pub schema_version: u32,
    /// Event name -> schema version.
    pub events: BTreeMap<String, u32>,
    /// The version of the first event: 1, or 0 (Python's `INITIAL_VERSION = 0`).
    pub initial_version: u64,
    pub fold: Rc<dyn Fold>,
}

impl AggregateType {
    /// The description of a Rust [`Aggregate`].
    pub fn of<A: Aggregate + 'static>() -> Self {
        AggregateType {
            name: A::TYPE.to_owned(),
            schema_version: A::SCHEMA_VERSION,
            events: A::EVENTS.iter().map(|e| (e.name.to_owned(), e.schema_version)).collect(),
            initial_version: A::INITIAL_VERSION,
            fold: Rc::new(TypedFold::<A>(PhantomData)),
        }
    }

    /// The topic of one of its events: `Dog.TrickAdded`.
    pub fn topic(&self, event_name: &str) -> String {
        format!("{}.{event_name}", self.name)
    }
}

/// Folds a Rust aggregate through JSON.
struct TypedFold<A>(PhantomData<A>);

impl<A: Aggregate> Fold for TypedFold<A> {
    fn initial(&self) -> Result<Value> {
        to_json(&A::default())
    }

    fn apply(&self, state: Value, events: &[DomainEvent]) -> Result<Value> {
        let mut aggregate: A = serde_json::from_value(state).map_err(|e| Error::corrupt(format!("{} state: {e}", A::TYPE)))?;
        for event in events {
            aggregate.apply(event)?;
        }
        to_json(&aggregate)
    }

    fn check(&self, event: &DomainEvent) -> Result<()> {
        A::check(event)
    }

    fn read_snapshot(&self, state: Value) -> Result<Value> {
        let aggregate: A = serde_json::from_value(state).map_err(|e| Error::corrupt(format!("{} snapshot: {e}", A::TYPE)))?;
        to_json(&aggregate)
    }
}

fn to_json<A: Aggregate>(aggregate: &A) -> Result<Value> {
    serde_json::to_value(aggregate).map_err(|e| Error::invalid(format!("{} state is not JSON: {e}", A::TYPE)))
}

/// Where a topic leads: its aggregate type and the event's current schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    pub topic: &'a str,
    pub aggregate_type: &'a str,
    pub schema_version: u32,
}

/// All that an application knows about its types.
#[derive(Clone, Default)]
pub struct Registry {
    aggregates: ByName<AggregateType>,
    /// Topic -> (aggregate type, event schema version).
    topics: ByName<(String, u32)>,
    renames: ByName<String>,
    upcasters: HashMap<(String, u32), Upcaster>,
    /// Aggregate type -> the topic it is stored under (`Dog` -> `dogschool:Dog`).
    stored_as: ByName<String>,
    /// The reverse: stored aggregate topic -> aggregate type.
    stored_from: ByName<String>,
    /// Event topic -> the fields Python keeps as `UUID`s (written as `uuid_hex`).
    uuid_fields: ByName<Vec<String>>,
    /// Aggregate type -> the fields of its state its snapshots leave out.
    not_snapshotted: ByName<Vec<String>>,
}

impl Registry {
    /// Registers (or redefines) an aggregate type and all its event topics.
    pub fn register(&mut self, aggregate_type: AggregateType) -> Result<()> {
        let name = &aggregate_type.name;
        if name.is_empty() || aggregate_type.events.keys().any(|e| e.is_empty() || e.contains('.')) {
            return Err(Error::invalid(format!("aggregate type {name:?}: names must be non-empty and event names may not contain '.'")));
        }
        if aggregate_type.schema_version == 0 || aggregate_type.events.values().any(|v| *v == 0) {
            return Err(Error::invalid(format!("aggregate type {name:?}: schema versions start at 1")));
        }
        if aggregate_type.initial_version > 1 {
            return Err(Error::invalid(format!("aggregate type {name:?}: the initial version is 0 or 1")));
        }
        self.topics.retain(|(owner, _)| owner != name);
        for (event, version) in &aggregate_type.events {
            self.topics.insert(aggregate_type.topic(event), (name.clone(), *version));
        }
        self.aggregates.insert(name.clone(), aggregate_type);
        Ok(())
    }

    /// Registers a Rust aggregate type.
    pub fn register_aggregate<A: Aggregate + 'static>(&mut self) {
        self.register(AggregateType::of::<A>()).expect("a Rust aggregate's description is valid");
    }

    /// Stores the aggregate type `name` under the topic `stored` (Python's
    /// `module:Class`, say `dogschool:Dog`): its events under `stored.Event`,
    /// its snapshots and Created events naming `stored`. Events stored under
    /// either topic read as `name`'s.
    pub fn store_as(&mut self, name: impl Into<String>, stored: impl Into<String>) -> Result<()> {
        let (name, stored) = (name.into(), stored.into());
        if stored.is_empty() || stored.ends_with('.') || stored.chars().any(char::is_whitespace) {
            return Err(Error::invalid(format!("{stored:?} cannot be the stored topic of {name:?}: give a topic like \"module:Class\"")));
        }
        if let Some(other) = self.stored_from.get(&stored).filter(|other| **other != name) {
            return Err(Error::invalid(format!("{stored:?} is already the stored topic of {other:?}")));
        }
        if let Some(old) = self.stored_as.insert(name.clone(), stored.clone()) {
            self.stored_from.remove(&old);
        }
        self.stored_from.insert(stored, name);
        Ok(())
    }

    /// The topic an aggregate type is stored under: its mapped one, or its name.
    pub fn stored_type<'a>(&'a self, name: &'a str) -> &'a str {
        self.stored_as.get(name).map_or(name, String::as_str)
    }

    /// The topic an event (`Dog.Registered`) is stored under (`dogschool:Dog.Registered`).
    pub fn stored_topic<'a>(&self, topic: &'a str) -> std::borrow::Cow<'a, str> {
        match topic.split_once('.').and_then(|(name, event)| Some((self.stored_as.get(name)?, event))) {
            Some((stored, event)) => format!("{stored}.{event}").into(),
            None => topic.into(),
        }
    }

    /// Every topic `topics` may be stored under: each as it is, and as mapped,
    /// and so every old topic renamed to one of them (events [`resolve`](Self::resolve)
    /// reads as theirs), so that a filter by topic misses none of them.
    pub fn stored_topics(&self, topics: &[String]) -> Vec<String> {
        let mut named = topics.to_vec();
        let mut at = 0;
        while at < named.len() {
            for (old, new) in self.renames.iter() {
                if *new == named[at] && !named.contains(old) {
                    named.push(old.clone());
                }
            }
            at += 1;
        }
        // and the events of the types renamed to theirs
        let mut at = 0;
        while at < named.len() {
            if let Some((name, event)) = named[at].rsplit_once('.') {
                let old_types =
                    self.renames.iter().map(|(old, _)| old).filter(|old| *old != name && self.aggregate(old).is_ok_and(|t| t.name == name));
                let old_topics: Vec<String> = old_types.map(|old| format!("{old}.{event}")).filter(|old| !named.contains(old)).collect();
                named.extend(old_topics);
            }
            at += 1;
        }
        let mut all = named.clone();
        for topic in &named {
            let stored = self.stored_topic(topic);
            if stored != topic.as_str() && !all.iter().any(|t| *t == stored) {
                all.push(stored.into_owned());
            }
        }
        all
    }

    /// Writes these fields of the event `topic` (`WorkflowRun.TaskAdded`), or of
    /// the snapshot state of an aggregate type (keyed by the type's name), as
    /// the Python transcoder's `uuid_hex` (a list's UUID strings each), so that
    /// Python reads them as `UUID`s. (On the way in every `uuid_hex` reads as a
    /// hyphenated UUID string.)
    pub fn uuid_fields(&mut self, topic: impl Into<String>, fields: &[&str]) {
        self.uuid_fields.insert(topic.into(), fields.iter().map(|f| (*f).to_owned()).collect());
    }

    /// The fields of the event `topic` (or a type's snapshot state) written as `uuid_hex`.
    pub fn uuid_fields_of(&self, topic: &str) -> &[String] {
        self.uuid_fields.get(topic).map_or(&[], Vec::as_slice)
    }

    /// Leaves these fields of a type's state out of its snapshots: state the
    /// Python class does not keep, which Python would carry on unchanged (stale)
    /// from our snapshot into its own. The type cannot read such a snapshot
    /// back, so replays pass over it: it is for Python.
    pub fn not_snapshotted(&mut self, aggregate_type: impl Into<String>, fields: &[&str]) {
        self.not_snapshotted.insert(aggregate_type.into(), fields.iter().map(|f| (*f).to_owned()).collect());
    }

    /// The fields of a type's state its snapshots leave out.
    pub fn not_snapshotted_of(&self, aggregate_type: &str) -> &[String] {
        self.not_snapshotted.get(aggregate_type).map_or(&[], Vec::as_slice)
    }

    /// Reads events stored under `old` as events of `new` (a renamed event or type).
    pub fn rename(&mut self, old: impl Into<String>, new: impl Into<String>) {
        self.renames.insert(old.into(), new.into());
    }

    /// Registers the upcaster from `from` to `from + 1` for an event topic, or for
    /// the snapshot state of an aggregate type (keyed by the type's name).
    pub fn upcaster(&mut self, topic: impl Into<String>, from: u32, upcaster: impl Fn(Payload) -> Result<Payload> + 'static) {
        self.upcasters.insert((topic.into(), from), Rc::new(upcaster));
    }

    /// Drops the upcasters of an aggregate type: of its snapshots and of its events.
    pub fn remove_upcasters(&mut self, aggregate_type: &str) {
        let events = format!("{aggregate_type}.");
        self.upcasters.retain(|(key, _), _| key != aggregate_type && !key.starts_with(&events));
    }

    /// Every registered aggregate type.
    pub fn aggregates(&self) -> impl Iterator<Item = &AggregateType> {
        self.aggregates.values()
    }

    /// The aggregate type of this name, following renames.
    pub fn aggregate(&self, name: &str) -> Result<&AggregateType> {
        let mut current = self.stored_from.get(name).map_or(name, String::as_str);
        for _ in 0..=self.renames.len() {
            if let Some(found) = self.aggregates.get(current) {
                return Ok(found);
            }
            match self.renames.get(current) {
                Some(next) => current = next,
                None => break,
            }
        }
        Err(Error::UnknownTopic(name.to_owned()))
    }

    /// Follows renames to a registered topic.
    pub fn resolve<'a>(&'a self, topic: &'a str) -> Result<Resolved<'a>> {
        let mut current = topic;
        // An event of a mapped or renamed type is its type's event of that name
        // (as Python resolves `module:OldDog.Event` once `OldDog` is registered).
        if let Some((stored, event)) = topic.rsplit_once('.') {
            if let Some(name) = self.aggregate(stored).ok().map(|found| &found.name).filter(|name| *name != stored) {
                let domain = format!("{name}.{event}");
                if let Some(key) =
                    self.topics.get_key_value(&domain).map(|(key, _)| key).or(self.renames.get_key_value(&domain).map(|(key, _)| key))
                {
                    current = key;
                }
            }
        }
        for _ in 0..=self.renames.len() {
            if let Some((aggregate_type, schema_version)) = self.topics.get(current) {
                return Ok(Resolved { topic: current, aggregate_type, schema_version: *schema_version });
            }
            match self.renames.get(current) {
                Some(next) => current = next,
                None => break,
            }
        }
        Err(Error::UnknownTopic(topic.to_owned()))
    }

    /// Brings `payload` from schema version `from` up to `to`, one upcaster at a time.
    pub fn upcast(&self, key: &str, from: u32, to: u32, mut payload: Payload) -> Result<Payload> {
        if from > to {
            return Err(Error::corrupt(format!("{key:?} was stored at schema version {from}, newer than {to} known here")));
        }
        for version in from..to {
            let upcaster = self
                .upcasters
                .get(&(key.to_owned(), version))
                .ok_or_else(|| Error::MissingUpcaster { topic: key.to_owned(), from: version })?;
            payload = upcaster(payload)?;
        }
        Ok(payload)
    }
}
