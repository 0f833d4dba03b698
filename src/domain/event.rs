//! The domain event: one fact about one aggregate, at one version.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::timestamp::Timestamp;
use crate::error::{Error, Result};

/// An event's own fields: always a JSON object.
pub type Payload = Map<String, Value>;

/// Keys the stored state reserves for itself; a payload may not use them.
pub(crate) const RESERVED_KEYS: [&str; 5] = ["timestamp", "class_version", "originator_id", "originator_version", "originator_topic"];

/// One fact about one aggregate: what happened (`topic`), to which (`originator_id`),
/// in which order (`originator_version`, first is the type's initial version, 1 or 0), when, and with what data.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub originator_id: Uuid,
    pub originator_version: u64,
    /// `"{aggregate type}.{event name}"`, e.g. `Dog.TrickAdded`.
    pub topic: String,
    /// Truncated to microseconds by [`DomainEvent::new`].
    pub timestamp: Timestamp,
    pub payload: Payload,
}

impl DomainEvent {
    /// Checks every field, so that a bad event never reaches storage.
    pub fn new(
        originator_id: Uuid,
        originator_version: u64,
        topic: impl Into<String>,
        timestamp: Timestamp,
        payload: Value,
    ) -> Result<Self> {
        let topic = topic.into();
        validate_id(&originator_id)?;
        if topic.is_empty() {
            return Err(Error::invalid("an event topic must not be empty"));
        }
        let Value::Object(payload) = payload else {
            return Err(Error::invalid(format!("the payload of {topic} must be a JSON object, not {}", kind(&payload))));
        };
        if let Some(key) = RESERVED_KEYS.iter().find(|key| payload.contains_key(**key)) {
            return Err(Error::invalid(format!("the payload of {topic} uses the reserved key {key:?}")));
        }
        // Microseconds, as stored (and as Python's datetime): an event reads back as it was made.
        let timestamp = chrono::SubsecRound::trunc_subsecs(timestamp, 6);
        Ok(DomainEvent { originator_id, originator_version, topic, timestamp, payload })
    }

    /// The event's name, the part of the topic after its last dot: `TrickAdded`.
    pub fn name(&self) -> &str {
        self.topic.rsplit_once('.').map_or(&self.topic, |(_, name)| name)
    }

    /// Reads one payload field as `T`; a missing or mistyped field is a validation error.
    pub fn field<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let value = self.payload.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| Error::invalid(format!("{} field {key:?}: {e}", self.topic)))
    }
}

/// An aggregate is a real id. (Any version is a position: versions count
/// from the aggregate type's initial version, 1, or 0 as BIOMERO's types.)
pub(crate) fn validate_id(originator_id: &Uuid) -> Result<()> {
    if originator_id.is_nil() {
        return Err(Error::invalid("the originator id must not be the nil UUID"));
    }
    Ok(())
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
