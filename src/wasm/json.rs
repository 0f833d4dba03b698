//! The JSON shapes exchanged with the TypeScript facade. Parsing failures are
//! validation errors that say which argument was wrong.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{to_iso, DomainEvent};
use crate::error::{Error, Result};

pub(crate) fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::invalid(format!("{what}: {e}")))
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::invalid(format!("not JSON: {e}")))
}

pub(crate) fn parse_id(text: &str) -> Result<Uuid> {
    let id: Uuid = text.parse().map_err(|_| Error::invalid(format!("{text:?} is not a UUID")))?;
    if id.is_nil() {
        return Err(Error::invalid("the aggregate id must not be the nil UUID"));
    }
    Ok(id)
}

/// `openApplication` options.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Options {
    #[serde(default)]
    pub snapshot_every: HashMap<String, u64>,
    pub keep_snapshots: Option<usize>,
    pub section_size: Option<usize>,
}

/// `defineAggregate`: event names with their schema versions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Definition {
    pub events: BTreeMap<String, u32>,
    pub schema_version: u32,
}

/// One event of `record` / `recordMany`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RecordRequest {
    pub aggregate: String,
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
    pub expected_version: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordedJs {
    pub id: String,
    pub version: u64,
    pub notification_id: u64,
}

/// `get` options: a version, a time, or neither (the latest).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AtJs {
    pub version: Option<u64>,
    pub at: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AggregateJs {
    pub id: String,
    pub aggregate: String,
    pub version: u64,
    pub created_on: String,
    pub modified_on: String,
    pub state: Value,
}

/// An event as `apply` functions and history views see it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventJs<'a> {
    pub originator_id: String,
    pub originator_version: u64,
    pub aggregate: &'a str,
    #[serde(rename = "type")]
    pub event: &'a str,
    pub timestamp: String,
    pub data: &'a serde_json::Map<String, Value>,
}

impl<'a> EventJs<'a> {
    pub fn new(event: &'a DomainEvent) -> Self {
        let aggregate = event.topic.rsplit_once('.').map_or("", |(aggregate, _)| aggregate);
        EventJs {
            originator_id: event.originator_id.to_string(),
            originator_version: event.originator_version,
            aggregate,
            event: event.name(),
            timestamp: to_iso(&event.timestamp),
            data: &event.payload,
        }
    }
}

/// `notifications` options.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NotificationsQuery {
    #[serde(default)]
    pub after: u64,
    pub limit: Option<usize>,
    #[serde(default)]
    pub topics: Vec<String>,
    pub up_to: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotificationJs<'a> {
    pub notification_id: u64,
    pub topic: &'a str,
    #[serde(flatten)]
    pub event: EventJs<'a>,
}
