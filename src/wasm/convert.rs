//! Values between JavaScript and the core. What JavaScript gives is checked on
//! the way in (plain JSON only: no `undefined`, holes, functions, `BigInt`,
//! `NaN`, cycles, class instances or ill-formed strings, and at most
//! [`MAX_DEPTH`] levels deep), so nothing is silently changed or dropped.
//! Numbers keep every bit: integers within 2^64 as integers, others as doubles.

use js_sys::{Array, JsString, Object, Reflect};
use serde_json::{Map, Number, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Result};

/// How deep a value may nest (objects and arrays).
pub(crate) const MAX_DEPTH: usize = 100;

#[wasm_bindgen]
extern "C" {
    /// A JavaScript string, for the methods `js_sys` does not bind.
    #[wasm_bindgen(extends = JsString)]
    type Text;
    /// `String.prototype.isWellFormed`: no lone surrogates, so UTF-8 can hold it.
    #[wasm_bindgen(method, js_name = isWellFormed)]
    fn is_well_formed(this: &Text) -> bool;
}

/// A JavaScript value as JSON, or a validation error naming where it went wrong.
pub(crate) fn to_json(value: &JsValue, what: &str) -> Result<Value> {
    from_js(value, what, 0)
}

/// A plain JavaScript object as a JSON object.
pub(crate) fn to_object(value: &JsValue, what: &str) -> Result<Map<String, Value>> {
    match to_json(value, what)? {
        Value::Object(object) => Ok(object),
        _ => Err(Error::invalid(format!("{what} must be a plain object, not {}", describe(value)))),
    }
}

fn from_js(value: &JsValue, path: &str, depth: usize) -> Result<Value> {
    if let Some(text) = value.dyn_ref::<JsString>() {
        return string(text, path).map(Value::String);
    }
    if let Some(n) = value.as_f64() {
        return number(n, path).map(Value::Number);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if value.is_null() {
        return Ok(Value::Null);
    }
    if !value.is_object() {
        return Err(Error::invalid(format!("{path} is {}, which JSON cannot hold", describe(value))));
    }
    if depth >= MAX_DEPTH {
        return Err(Error::invalid(format!("{} nests deeper than {MAX_DEPTH} levels, or holds a cycle", elided(path))));
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for i in 0..array.length() {
            let item_path = format!("{path}[{i}]");
            if !Reflect::has(array, &JsValue::from(i)).unwrap_or(false) {
                return Err(Error::invalid(format!("{item_path} is a hole in the array, which JSON cannot hold")));
            }
            items.push(from_js(&array.get(i), &item_path, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    if !is_plain(value) {
        return Err(Error::invalid(format!("{path} is {}; convert it to plain JSON first", describe(value))));
    }
    let object: &Object = value.unchecked_ref();
    let keys = Object::keys(object);
    let mut map = Map::new();
    for key in keys.iter() {
        let key_text = key.dyn_ref::<JsString>().ok_or_else(|| Error::invalid(format!("{path} has a key that is not a string")))?;
        let key = string(key_text, path)?;
        let item_path = format!("{path}.{key}");
        let item = Reflect::get(object, key_text).map_err(|e| Error::invalid(format!("reading {item_path} threw {}", thrown(&e))))?;
        map.insert(key, from_js(&item, &item_path, depth + 1)?);
    }
    Ok(Value::Object(map))
}

/// A path short enough for a message: its start and its end.
fn elided(path: &str) -> String {
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= 120 {
        return path.to_owned();
    }
    let (start, end): (String, String) = (chars[..60].iter().collect(), chars[chars.len() - 40..].iter().collect());
    format!("{start}...{end}")
}

/// A JSON number holding exactly this double.
fn number(n: f64, path: &str) -> Result<Number> {
    if !n.is_finite() {
        return Err(Error::invalid(format!("{path} is {n}, which JSON cannot hold")));
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    let integral = n.fract() == 0.0 && !(n == 0.0 && n.is_sign_negative());
    Ok(if integral && n.abs() < TWO_63 {
        Number::from(n as i64)
    } else if integral && n > 0.0 && n < TWO_64 {
        Number::from(n as u64)
    } else {
        Number::from_f64(n).expect("finite")
    })
}

/// A string that UTF-8 can hold unchanged.
pub(crate) fn string(text: &JsString, path: &str) -> Result<String> {
    if !text.unchecked_ref::<Text>().is_well_formed() {
        return Err(Error::invalid(format!("{path} holds a lone surrogate, which UTF-8 (and so storage) cannot hold")));
    }
    Ok(String::from(text))
}

fn is_plain(value: &JsValue) -> bool {
    let prototype = Object::get_prototype_of(value);
    prototype.is_null() || prototype == Object::get_prototype_of(&Object::new())
}

/// What a value is, for messages (never its contents: those may not print).
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_null() {
        return "null".into();
    }
    if Array::is_array(value) {
        return "an array".into();
    }
    let kind = value.js_typeof().as_string().unwrap_or_default();
    if kind != "object" {
        return format!("a {kind}");
    }
    let name = Reflect::get(value, &"constructor".into())
        .ok()
        .and_then(|c| Reflect::get(&c, &"name".into()).ok())
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty());
    match name {
        Some(name) => format!("a {name}"),
        None => "a non-plain object".into(),
    }
}

/// What a JavaScript function threw, as text that never throws itself.
pub(crate) fn thrown(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        let name = Reflect::get(error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_else(|| "Error".into());
        let message = Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        return format!("{name}: {message}");
    }
    match error.as_string() {
        Some(text) => text,
        None => describe(error),
    }
}

/// JSON as a JavaScript value, by `JSON.parse` of its text: one crossing for any size.
pub(crate) fn from_json(value: &impl serde::Serialize) -> Result<JsValue> {
    let text = serde_json::to_string(value).map_err(|e| Error::invalid(format!("not JSON: {e}")))?;
    js_sys::JSON::parse(&text).map_err(|e| Error::invalid(format!("JSON.parse failed: {}", thrown(&e))))
}
