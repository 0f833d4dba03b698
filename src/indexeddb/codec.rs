//! Records as JS objects and keys as JS arrays. Ids are hyphenated UUID strings
//! and numbers are JS numbers, so keys sort as IndexedDB sorts them.

use js_sys::{Array, Object, Reflect, Uint8Array};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use crate::error::{Error, Result};
pub(crate) use crate::persistence::MAX_SAFE;
use crate::persistence::{StoredEvent, Tracking};

pub(crate) fn number(value: u64) -> Result<JsValue> {
    if value > MAX_SAFE {
        return Err(Error::invalid(format!("{value} is too large for IndexedDB (above 2^53 - 1)")));
    }
    Ok(JsValue::from_f64(value as f64))
}

pub(crate) fn id(originator_id: &Uuid) -> JsValue {
    JsValue::from_str(&originator_id.hyphenated().to_string())
}

/// The key `[first, second]`.
pub(crate) fn pair(first: JsValue, second: JsValue) -> JsValue {
    Array::of2(&first, &second).into()
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        Reflect::set(&object, &JsValue::from_str(key), value).expect("setting a field of a fresh object");
    }
    object.into()
}

/// A row of the `events` store.
pub(crate) fn event_row(notification_id: u64, event: &StoredEvent) -> Result<JsValue> {
    Ok(object(&[
        ("id", number(notification_id)?),
        ("originator_id", id(&event.originator_id)),
        ("originator_version", number(event.originator_version)?),
        ("topic", JsValue::from_str(&event.topic)),
        ("state", Uint8Array::from(event.state.as_slice()).into()),
    ]))
}

/// A row of the `snapshots` store.
pub(crate) fn snapshot_row(snapshot: &StoredEvent) -> Result<JsValue> {
    Ok(object(&[
        ("originator_id", id(&snapshot.originator_id)),
        ("originator_version", number(snapshot.originator_version)?),
        ("topic", JsValue::from_str(&snapshot.topic)),
        ("state", Uint8Array::from(snapshot.state.as_slice()).into()),
    ]))
}

/// A row of the `tracking` store.
pub(crate) fn tracking_row(tracking: &Tracking) -> Result<JsValue> {
    tracked_row(JsValue::from_str(&tracking.application_name), tracking.notification_id)
}

/// A row of the `tracking` store under any key's first part (a name, or the
/// number that counts sync's removals).
pub(crate) fn tracked_row(name: JsValue, position: u64) -> Result<JsValue> {
    Ok(object(&[("application_name", name), ("notification_id", number(position)?)]))
}

/// The second part of a `tracking` key: a position, or a count of removals.
/// A position may be 0: a view that sync cleared, to be built again.
pub(crate) fn key_number(key: &JsValue) -> Result<u64> {
    let part = Array::from(key).get(1);
    part.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_SAFE as f64)
        .map(|n| n as u64)
        .ok_or_else(|| Error::corrupt(format!("key {key:?} does not end in a number")))
}
