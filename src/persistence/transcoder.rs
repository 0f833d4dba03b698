//! The JSON transcoder: event and snapshot state as the Python library's
//! `JSONTranscoder` writes it (compact, UTF-8, `timestamp` first, `class_version`
//! last and only above 1, datetimes as `{"_type_": "datetime_iso", ...}`).
//! Created events carry `originator_topic` after the timestamp, as Python's do.
//! Floats are written as Python's `repr` writes them (`1e-05`, not `0.00001`).

use serde_json::{Map, Value};

use crate::domain::{parse_iso, to_iso, Payload, Timestamp};
use crate::error::{Error, Result};

/// A state object as decoded: its timestamp, its other fields, its schema version.
pub(crate) struct Decoded {
    pub timestamp: Timestamp,
    pub fields: Payload,
    pub schema_version: u32,
}

/// Encodes `timestamp`, then `originator_topic` if given, then `fields` in
/// their order, then `class_version`.
pub(crate) fn encode(timestamp: &Timestamp, originator_topic: Option<&str>, fields: &Payload, schema_version: u32) -> Vec<u8> {
    let mut object = Map::with_capacity(fields.len() + 3);
    object.insert("timestamp".into(), datetime(timestamp));
    if let Some(topic) = originator_topic {
        object.insert("originator_topic".into(), Value::from(topic));
    }
    object.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    with_class_version(&mut object, schema_version);
    let mut bytes = Vec::with_capacity(128);
    serde::Serialize::serialize(&Value::Object(object), &mut serde_json::Serializer::with_formatter(&mut bytes, PythonFloats))
        .expect("a JSON map always serialises");
    bytes
}

/// serde_json's compact output, with floats as Python writes them.
struct PythonFloats;

impl serde_json::ser::Formatter for PythonFloats {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(python_float(value).as_bytes())
    }
}

/// A float as Python's `repr` writes it (`67.2`, `50.0`, `1e+16`, `1e-05`): Rust's
/// shortest form, switching to an exponent at the same points, with Python's
/// signed, two-digit exponent.
pub(crate) fn python_float(value: f64) -> String {
    let text = format!("{value:?}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent.strip_prefix('-').map_or(("+", exponent), |digits| ("-", digits));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text,
    }
}

/// Decodes bytes written by [`encode`] (or by the Python library).
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded> {
    let mut fields: Payload = serde_json::from_slice(bytes).map_err(|e| Error::corrupt(format!("state is not a JSON object: {e}")))?;
    let timestamp = fields.shift_remove("timestamp").ok_or_else(|| Error::corrupt("state has no timestamp"))?;
    let timestamp = read_datetime(&timestamp)?;
    let schema_version = take_class_version(&mut fields)?;
    Ok(Decoded { timestamp, fields, schema_version })
}

/// How deep a payload or snapshot state may nest, counting itself: as deep as
/// a page may give (and read back within `serde_json`'s limit of 128).
const MAX_DEPTH: usize = 100;

/// Refuses what would not read back as written: nesting past [`MAX_DEPTH`], and
/// an object of just the keys `_type_` and `_data_` anywhere in `fields`, which
/// Python's transcoder reads as a custom type (or raises for a name it does
/// not know), and so do we.
pub(crate) fn check_storable(fields: &Payload, what: &str) -> Result<()> {
    /// Where the first unstorable value is, and why, below a value at `level`.
    fn find(value: &Value, level: usize, path: &mut String) -> Option<&'static str> {
        let start = path.len();
        // The path is only written out as it is walked: no allocation per item.
        let at = |path: &mut String, step: std::fmt::Arguments, item: &Value| {
            path.truncate(start);
            let _ = std::fmt::Write::write_fmt(path, step);
            find(item, level + 1, path)
        };
        let found = match value {
            Value::Array(_) | Value::Object(_) if level > MAX_DEPTH => return Some("nests deeper than 100 levels"),
            Value::Object(object) if object.len() == 2 && object.contains_key("_type_") && object.contains_key("_data_") => {
                return Some("is an object of just the keys \"_type_\" and \"_data_\", which Python's transcoder reads as a custom type")
            }
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| at(path, format_args!("[{i}]"), item)),
            Value::Object(object) => object.iter().find_map(|(key, item)| at(path, format_args!(".{key}"), item)),
            _ => None,
        };
        if found.is_none() {
            path.truncate(start);
        }
        found
    }
    let mut path = String::new();
    for (key, value) in fields {
        path.clear();
        path.push_str(key);
        if let Some(why) = find(value, 2, &mut path) {
            return Err(Error::invalid(format!("{what}: {path} {why}")));
        }
    }
    Ok(())
}

/// `fields` (UUID strings, or lists of them: a `list[UUID]` attribute) as
/// Python's `uuid_hex` custom type; the rest as they are.
pub(crate) fn with_uuids<'a>(payload: &'a Payload, fields: &[String]) -> std::borrow::Cow<'a, Payload> {
    let declared = || fields.iter().filter_map(|key| payload.get(key).map(|value| (key, value)));
    if !declared().any(|(_, value)| holds_uuid(value)) {
        return std::borrow::Cow::Borrowed(payload);
    }
    let mut typed = payload.clone();
    for (key, value) in declared() {
        let value = match value {
            Value::Array(items) => Value::Array(items.iter().map(uuid_hex).collect()),
            one => uuid_hex(one),
        };
        typed.insert(key.clone(), value);
    }
    std::borrow::Cow::Owned(typed)
}

fn holds_uuid(value: &Value) -> bool {
    let is_uuid = |value: &Value| value.as_str().is_some_and(|text| uuid::Uuid::try_parse(text).is_ok());
    is_uuid(value) || value.as_array().is_some_and(|items| items.iter().any(is_uuid))
}

/// A UUID string as `uuid_hex`; anything else as it is.
fn uuid_hex(value: &Value) -> Value {
    match value.as_str().and_then(|text| uuid::Uuid::try_parse(text).ok()) {
        Some(id) => {
            let mut object = Map::with_capacity(2);
            object.insert("_type_".into(), Value::from("uuid_hex"));
            object.insert("_data_".into(), Value::from(id.simple().to_string()));
            Value::Object(object)
        }
        None => value.clone(),
    }
}

/// The custom types of Python's transcoder as plain JSON: `uuid_hex` as a
/// hyphenated UUID, `datetime_iso` and `decimal_str` as their strings. Only
/// state that names `_type_` at all is walked.
pub(crate) fn plain_values(bytes: &[u8], fields: &mut Payload) {
    if bytes.windows(8).any(|w| w == b"\"_type_\"") {
        fields.values_mut().for_each(plain_value);
    }
}

fn plain_value(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(plain_value),
        Value::Object(object) if object.len() == 2 => {
            let custom = match (object.get("_type_").and_then(Value::as_str), object.get("_data_").and_then(Value::as_str)) {
                (Some("uuid_hex"), Some(hex)) => uuid::Uuid::try_parse(hex).ok().map(|id| Value::from(id.to_string())),
                (Some("datetime_iso" | "decimal_str"), Some(text)) => Some(Value::from(text)),
                _ => None,
            };
            match custom {
                Some(plain) => *value = plain,
                None => object.values_mut().for_each(plain_value),
            }
        }
        Value::Object(object) => object.values_mut().for_each(plain_value),
        _ => {}
    }
}

/// `{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:05.678901+00:00"}`.
pub(crate) fn datetime(timestamp: &Timestamp) -> Value {
    let mut object = Map::with_capacity(2);
    object.insert("_type_".into(), Value::from("datetime_iso"));
    object.insert("_data_".into(), Value::from(to_iso(timestamp)));
    Value::Object(object)
}

/// Reads a `datetime_iso` custom-type object (or its string, as [`plain_values`] leaves it).
pub(crate) fn read_datetime(value: &Value) -> Result<Timestamp> {
    let text = match value {
        Value::String(text) => Some(text.as_str()),
        _ => match (value.get("_type_").and_then(Value::as_str), value.get("_data_").and_then(Value::as_str)) {
            (Some("datetime_iso"), Some(text)) => Some(text),
            _ => None,
        },
    };
    let text = text.ok_or_else(|| Error::corrupt(format!("{value} is not a datetime_iso value")))?;
    parse_iso(text).map_err(|e| Error::corrupt(e.to_string()))
}

/// Appends `class_version` when above 1, as Python does.
pub(crate) fn with_class_version(object: &mut Payload, schema_version: u32) {
    if schema_version > 1 {
        object.insert("class_version".into(), Value::from(schema_version));
    }
}

/// Removes and returns `class_version`, 1 when absent.
pub(crate) fn take_class_version(object: &mut Payload) -> Result<u32> {
    match object.shift_remove("class_version") {
        None => Ok(1),
        Some(value) => value
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| Error::corrupt(format!("class_version {value} is not a positive integer"))),
    }
}
