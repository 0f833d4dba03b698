//! The mapper: domain events and snapshots to stored records and back, upcasting
//! old schema versions on the way in. Compression and encryption (the [`Codec`])
//! apply here, to the state bytes, without the recorders knowing.

use serde_json::{Map, Value};

use super::codec::Codec;
use super::record::StoredEvent;
use super::transcoder::{self, datetime, read_datetime, take_class_version, with_class_version};
use crate::domain::{DomainEvent, Registry, Snapshot};
use crate::error::{Error, Result};

/// The topic of every stored snapshot, as in the Python library.
pub const SNAPSHOT_TOPIC: &str = "eventsourcing.domain:Snapshot";

/// Turns domain objects into stored records and back, by the registry's types.
#[derive(Clone, Default)]
pub struct Mapper {
    registry: Registry,
    codec: Codec,
}

impl Mapper {
    pub fn new(registry: Registry) -> Self {
        Mapper { registry, codec: Codec::plain() }
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Compresses and encrypts state from now on (and expects it so when reading).
    pub fn set_codec(&mut self, codec: Codec) {
        self.codec = codec;
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Encodes an event of a registered type at its current schema version.
    pub fn to_stored_event(&self, event: &DomainEvent) -> Result<StoredEvent> {
        let resolved = self.registry.resolve(&event.topic)?;
        if resolved.topic != event.topic {
            return Err(Error::invalid(format!("{} was renamed {}: record the new topic", event.topic, resolved.topic)));
        }
        let aggregate_type = self.registry.aggregate(resolved.aggregate_type)?;
        // A Created event names its aggregate's topic, as Python's do.
        let created = (event.originator_version == aggregate_type.initial_version).then(|| self.registry.stored_type(&aggregate_type.name));
        transcoder::check_storable(&event.payload, &format!("the payload of {}", event.topic))?;
        let payload = transcoder::with_uuids(&event.payload, self.registry.uuid_fields_of(resolved.topic));
        let state = self.codec.encode(transcoder::encode(&event.timestamp, created, &payload, resolved.schema_version))?;
        let stored = StoredEvent {
            originator_id: event.originator_id,
            originator_version: event.originator_version,
            topic: self.registry.stored_topic(&event.topic).into_owned(),
            state,
        };
        stored.validate()?;
        Ok(stored)
    }

    /// Decodes a stored event, following renames and upcasting old payloads.
    pub fn to_domain_event(&self, stored: &StoredEvent) -> Result<DomainEvent> {
        let resolved = self.registry.resolve(&stored.topic)?;
        let mut decoded = self.decode(stored)?;
        decoded.fields.shift_remove("originator_topic");
        let from = decoded.schema_version;
        let payload = self.registry.upcast(resolved.topic, from, resolved.schema_version, decoded.fields)?;
        // A payload refused here (a reserved key) was made so by an upcaster, or
        // stored so by no writer of this format: not a wrong call of the reader.
        DomainEvent::new(stored.originator_id, stored.originator_version, resolved.topic, decoded.timestamp, Value::Object(payload))
            .map_err(|e| match e {
                Error::Validation(why) if from < resolved.schema_version => {
                    Error::Handler(format!("the upcasters of {} from version {from}: {why}", resolved.topic))
                }
                Error::Validation(why) => at(stored, Error::corrupt(why)),
                other => at(stored, other),
            })
    }

    /// Encodes a snapshot as the Python library's `Snapshot` event.
    pub fn to_stored_snapshot(&self, snapshot: &Snapshot) -> Result<StoredEvent> {
        let aggregate_type = self.registry.aggregate(&snapshot.aggregate_type)?;
        Snapshot::validate_state(&snapshot.aggregate_type, &snapshot.state)?;
        let mut state = Map::new();
        state.insert("_created_on".into(), datetime(&snapshot.created_on));
        state.insert("_modified_on".into(), datetime(&snapshot.modified_on));
        if let Value::Object(fields) = &snapshot.state {
            transcoder::check_storable(fields, &format!("the state of {}", snapshot.aggregate_type))?;
            let fields = transcoder::with_uuids(fields, self.registry.uuid_fields_of(&aggregate_type.name));
            let left_out = self.registry.not_snapshotted_of(&aggregate_type.name);
            state.extend(fields.iter().filter(|(k, _)| !left_out.contains(k)).map(|(k, v)| (k.clone(), v.clone())));
        }
        with_class_version(&mut state, aggregate_type.schema_version);
        let mut fields = Map::new();
        fields.insert("topic".into(), Value::from(self.registry.stored_type(&aggregate_type.name)));
        fields.insert("state".into(), Value::Object(state));
        let stored = StoredEvent {
            originator_id: snapshot.originator_id,
            originator_version: snapshot.originator_version,
            topic: SNAPSHOT_TOPIC.into(),
            state: self.codec.encode(transcoder::encode(&snapshot.timestamp, None, &fields, 1))?,
        };
        stored.validate()?;
        Ok(stored)
    }

    /// Decodes a stored snapshot, upcasting an old aggregate state.
    pub fn to_snapshot(&self, stored: &StoredEvent) -> Result<Snapshot> {
        self.to_usable_snapshot(stored)?
            .ok_or_else(|| at(stored, Error::corrupt("the snapshot's state is at a schema version newer than this release knows")))
    }

    /// [`Self::to_snapshot`], or `None` for a snapshot a newer release took (its
    /// state at a schema version past this one's, which no upcaster brings
    /// down): the events still rebuild the aggregate as this release knows it.
    pub fn to_usable_snapshot(&self, stored: &StoredEvent) -> Result<Option<Snapshot>> {
        if stored.topic != SNAPSHOT_TOPIC {
            return Err(at(stored, Error::corrupt(format!("topic {:?} is not a snapshot", stored.topic))));
        }
        let mut decoded = self.decode(stored)?;
        let name = match decoded.fields.shift_remove("topic") {
            Some(Value::String(name)) => name,
            _ => return Err(at(stored, Error::corrupt("snapshot has no aggregate topic"))),
        };
        let Some(Value::Object(mut state)) = decoded.fields.shift_remove("state") else {
            return Err(at(stored, Error::corrupt("snapshot has no state object")));
        };
        let created_on = state.shift_remove("_created_on").ok_or_else(|| at(stored, Error::corrupt("snapshot has no _created_on")))?;
        let modified_on = state.shift_remove("_modified_on").ok_or_else(|| at(stored, Error::corrupt("snapshot has no _modified_on")))?;
        let schema_version = take_class_version(&mut state).map_err(|e| at(stored, e))?;
        let aggregate_type = self.registry.aggregate(&name)?;
        if schema_version > aggregate_type.schema_version {
            return Ok(None);
        }
        let state = self.registry.upcast(&aggregate_type.name, schema_version, aggregate_type.schema_version, state)?;
        Ok(Some(Snapshot {
            originator_id: stored.originator_id,
            originator_version: stored.originator_version,
            aggregate_type: aggregate_type.name.clone(),
            timestamp: decoded.timestamp,
            created_on: read_datetime(&created_on).map_err(|e| at(stored, e))?,
            modified_on: read_datetime(&modified_on).map_err(|e| at(stored, e))?,
            state: Value::Object(state),
        }))
    }

    /// Whether this mapper's codec reads a record's state, whatever its topic.
    pub fn readable(&self, stored: &StoredEvent) -> Result<()> {
        self.decode(stored).map(drop)
    }

    /// Decrypts, inflates and transcodes a record's state, saying which record failed.
    fn decode(&self, stored: &StoredEvent) -> Result<transcoder::Decoded> {
        let bytes = self.codec.decode(&stored.state).map_err(|e| at(stored, e))?;
        let decoded = transcoder::decode(&bytes).map(|mut decoded| {
            transcoder::plain_values(&bytes, &mut decoded.fields);
            decoded
        });
        // Bytes that are not even text, read without a cipher: most likely a missing key.
        decoded.map_err(|e| match std::str::from_utf8(&bytes) {
            Err(_) if !self.codec.encrypts() => at(
                stored,
                Error::Cipher(
                    "the state is not JSON: it looks compressed or encrypted; open with the compress and cipher key it was stored with"
                        .into(),
                ),
            ),
            _ => at(stored, e),
        })
    }
}

/// Says which record an error is about.
fn at(stored: &StoredEvent, error: Error) -> Error {
    match error {
        Error::Corrupt(message) => Error::Corrupt(format!("{}: {message}", about(stored))),
        Error::Cipher(message) => Error::Cipher(format!("{}: {message}", about(stored))),
        other => other,
    }
}

fn about(stored: &StoredEvent) -> String {
    format!("{} v{} ({})", stored.originator_id, stored.originator_version, stored.topic)
}
