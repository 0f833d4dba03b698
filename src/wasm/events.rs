//! Events as JavaScript sees them: `{ originatorId, originatorVersion,
//! aggregate, type, timestamp: Date, data }`, plus `notificationId` and
//! `topic` for notifications. A batch crosses in one `JSON.parse`.

use js_sys::Array;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::projection::Notified;

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = events)]
    fn parse_events(json: &[u8]) -> Result<Array, JsValue>;
    /// Folds events into a state with an aggregate's `apply` functions (one crossing a batch).
    #[wasm_bindgen(catch)]
    pub(crate) fn fold(apply: &JsValue, state: JsValue, events: &Array) -> Result<JsValue, JsValue>;
}

/// An event as `apply` functions, histories and handlers see it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventJs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    notification_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<&'a str>,
    /// Serialised hyphenated, without a string of its own.
    originator_id: &'a uuid::Uuid,
    originator_version: u64,
    aggregate: &'a str,
    #[serde(rename = "type")]
    event: &'a str,
    /// In epoch milliseconds (what `new Date(text)` keeps of the ISO text),
    /// as a `Date` is made faster from a number than from text.
    #[serde(serialize_with = "millis")]
    timestamp: &'a crate::domain::Timestamp,
    data: &'a serde_json::Map<String, Value>,
}

impl<'a> EventJs<'a> {
    pub(crate) fn of(event: &'a DomainEvent) -> Self {
        let aggregate = event.topic.rsplit_once('.').map_or("", |(aggregate, _)| aggregate);
        EventJs {
            notification_id: None,
            topic: None,
            originator_id: &event.originator_id,
            originator_version: event.originator_version,
            aggregate,
            event: event.name(),
            timestamp: &event.timestamp,
            data: &event.payload,
        }
    }

    pub(crate) fn notified(notified: &'a Notified) -> Self {
        EventJs { notification_id: Some(notified.notification_id), topic: Some(&notified.event.topic), ..Self::of(&notified.event) }
    }
}

fn millis<S: serde::Serializer>(timestamp: &&crate::domain::Timestamp, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_i64(timestamp.timestamp_millis())
}

/// Events as a JavaScript array, in one crossing.
pub(crate) fn to_js(events: &[EventJs<'_>]) -> Result<Array> {
    let mut batch = Batch::default();
    events.iter().try_for_each(|event| batch.push(event))?;
    batch.into_js()
}

/// Events gathered as JSON text, measured as they come, crossing in one `JSON.parse`.
#[derive(Default)]
pub(crate) struct Batch {
    text: Vec<u8>,
}

impl Batch {
    pub(crate) fn push(&mut self, event: &EventJs<'_>) -> Result<()> {
        self.text.push(if self.text.is_empty() { b'[' } else { b',' });
        serde_json::to_writer(&mut self.text, event).map_err(|e| Error::invalid(format!("an event is not JSON: {e}")))
    }

    /// The text's length so far, in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.text.len()
    }

    pub(crate) fn into_js(mut self) -> Result<Array> {
        self.text.extend_from_slice(if self.text.is_empty() { b"[]" } else { b"]" });
        // serde_json writes UTF-8 only: decoded in JavaScript, unchecked here.
        parse_events(&self.text).map_err(|e| Error::invalid(format!("events did not parse: {}", super::convert::thrown(&e))))
    }
}

/// Domain events as a JavaScript array.
pub(crate) fn domain_to_js(events: &[DomainEvent]) -> Result<Array> {
    to_js(&events.iter().map(EventJs::of).collect::<Vec<_>>())
}

/// Whether a value is a promise (or any thenable) to await.
pub(crate) fn thenable(value: &JsValue) -> Option<js_sys::Promise> {
    if value.is_instance_of::<js_sys::Promise>() {
        return Some(value.clone().unchecked_into());
    }
    let then = js_sys::Reflect::get(value, &"then".into()).ok()?;
    then.is_function().then(|| js_sys::Promise::resolve(value))
}
