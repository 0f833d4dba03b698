//! Values between JavaScript and the core. What JavaScript gives is checked on
//! the way in (plain JSON only: no `undefined`, holes, functions, `BigInt`,
//! `NaN`, cycles, class instances or ill-formed strings, at most
//! [`MAX_DEPTH`] levels deep, [`MAX_ITEMS`] items and [`MAX_TEXT`] bytes of
//! text), so nothing is silently changed or dropped.
//! Numbers keep every bit: integers within 2^64 as integers, others as doubles.
//! Every read of a JavaScript value goes through the catching readers below: a
//! getter or a proxy's trap may throw, and a throw must become an error here,
//! not unwind through the core mid-call.

use js_sys::{Array, JsString, Object, Reflect};
use serde_json::{Map, Number, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{Error, Result};

/// How deep a value may nest (objects and arrays).
pub(crate) const MAX_DEPTH: usize = 100;
/// How many items (array items and object entries, at every level) a value
/// may hold: a length is only a claim, and a proxy claiming billions of items
/// would otherwise have the core allocate until the page's memory runs out.
pub(crate) const MAX_ITEMS: u32 = 1 << 22;
/// How many bytes of text (strings and keys, as UTF-8) a value may hold: a
/// proxy may give the same long string for every item.
pub(crate) const MAX_TEXT: usize = 256 << 20;

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// What a value is, in one crossing (see [`Kind`]); an object's kind is
    /// not asked for when `deep` (too deep to read). A revoked proxy throws.
    #[wasm_bindgen(catch, js_name = kind)]
    fn kind_js(value: &JsValue, deep: bool) -> std::result::Result<u8, JsValue>;
    /// The string, if it is one that UTF-8 can hold unchanged.
    #[wasm_bindgen(js_name = wellFormed)]
    fn well_formed_js(value: &JsValue) -> Option<String>;
}

/// [`kind_js`]'s answers.
mod kind {
    pub const OTHER: u8 = 0;
    pub const TEXT: u8 = 1;
    pub const ILL_FORMED_TEXT: u8 = 2;
    pub const NUMBER: u8 = 3;
    pub const BOOLEAN: u8 = 4;
    pub const NULL: u8 = 5;
    pub const TOO_DEEP: u8 = 6;
    pub const ARRAY: u8 = 7;
    pub const PLAIN: u8 = 8;
}

#[wasm_bindgen]
extern "C" {
    /// A JavaScript string, for the methods `js_sys` does not bind.
    #[wasm_bindgen(extends = JsString)]
    type Text;
    /// `String.prototype.isWellFormed`: no lone surrogates, so UTF-8 can hold it.
    #[wasm_bindgen(method, js_name = isWellFormed)]
    fn is_well_formed(this: &Text) -> bool;
    /// `Array.isArray`, which throws for a revoked proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array_js(value: &JsValue) -> std::result::Result<bool, JsValue>;
    /// `Object.keys`, which runs a proxy's traps.
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn keys_js(value: &JsValue) -> std::result::Result<Array, JsValue>;
}

/// A JavaScript value as JSON, or a validation error naming where it went wrong.
pub(crate) fn to_json(value: &JsValue, what: &str) -> Result<Value> {
    to_json_named(value, || what.to_owned())
}

/// [`to_json`], naming the value only if it is refused (on hot paths).
pub(crate) fn to_json_named(value: &JsValue, what: impl FnOnce() -> String) -> Result<Value> {
    to_json_within(value, &mut Budget::default(), what)
}

/// [`to_json_named`], drawing on a budget that several values of one call share.
pub(crate) fn to_json_within(value: &JsValue, budget: &mut Budget, what: impl FnOnce() -> String) -> Result<Value> {
    from_js(value, 0, budget).map_err(|invalid| invalid.named(&what()))
}

/// A plain JavaScript object as a JSON object.
pub(crate) fn to_object(value: &JsValue, what: &str) -> Result<Map<String, Value>> {
    match to_json(value, what)? {
        Value::Object(object) => Ok(object),
        _ => Err(Error::invalid(format!("{what} must be a plain object, not {}", describe(value)))),
    }
}

/// Why a value is refused, and where: the path is built only when something
/// is wrong (innermost segment first), so good values pay nothing for it.
struct Invalid {
    path: Vec<String>,
    why: String,
}

impl Invalid {
    fn new(why: impl Into<String>) -> Self {
        Invalid { path: Vec::new(), why: why.into() }
    }

    fn at(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    fn named(self, what: &str) -> Error {
        let path: String = self.path.iter().rev().map(String::as_str).collect();
        Error::invalid(format!("{}{} {}", what, elided(&path), self.why))
    }
}

/// What is left of a value's (or a call's) [`MAX_ITEMS`] and [`MAX_TEXT`] as it is read.
pub(crate) struct Budget {
    items: u32,
    text: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { items: MAX_ITEMS, text: MAX_TEXT }
    }
}

impl Budget {
    /// Takes `count` items (as claimed, before any is read).
    fn items(&mut self, count: u32) -> std::result::Result<(), Invalid> {
        self.items = self.items.checked_sub(count).ok_or_else(|| {
            Invalid::new(format!(
                "holds more than {MAX_ITEMS} items (arrays' items and objects' entries together), more than the core takes at once"
            ))
        })?;
        Ok(())
    }

    /// Takes a string's bytes.
    fn text(&mut self, text: String) -> std::result::Result<String, Invalid> {
        self.text = self
            .text
            .checked_sub(text.len())
            .ok_or_else(|| Invalid::new(format!("holds more than {} MiB of text, more than the core takes at once", MAX_TEXT >> 20)))?;
        Ok(text)
    }
}

fn from_js(value: &JsValue, depth: usize, budget: &mut Budget) -> std::result::Result<Value, Invalid> {
    match kind_js(value, depth >= MAX_DEPTH).map_err(|e| Invalid::new(threw(&e)))? {
        kind::TEXT => value.as_string().ok_or_else(|| Invalid::new(LONE_SURROGATE)).and_then(|text| budget.text(text)).map(Value::String),
        kind::ILL_FORMED_TEXT => Err(Invalid::new(LONE_SURROGATE)),
        kind::NUMBER => {
            let n = value.as_f64().unwrap_or(f64::NAN);
            number(n).map(Value::Number).ok_or_else(|| Invalid::new(format!("is {n}, which JSON cannot hold")))
        }
        kind::BOOLEAN => Ok(Value::Bool(value.as_bool().unwrap_or_default())),
        kind::NULL => Ok(Value::Null),
        kind::OTHER => Err(Invalid::new(format!("is {}, which JSON cannot hold", describe(value)))),
        kind::TOO_DEEP => Err(Invalid::new(format!("nests deeper than {MAX_DEPTH} levels, or holds a cycle"))),
        kind::ARRAY => {
            let length = length(value).map_err(Invalid::new)?;
            budget.items(length)?;
            let mut items = Vec::with_capacity(length.min(LIKELY_ITEMS) as usize);
            for i in 0..length {
                let item = item(value, i).map_err(|why| Invalid::new(why).at(format!("[{i}]")))?;
                let item = item.ok_or_else(|| Invalid::new("is a hole in the array, which JSON cannot hold").at(format!("[{i}]")))?;
                items.push(from_js(&item, depth + 1, budget).map_err(|e| e.at(format!("[{i}]")))?);
            }
            Ok(Value::Array(items))
        }
        kind::PLAIN => {
            let mut map = Map::new();
            let keys = keys(value).map_err(Invalid::new)?;
            budget.items(keys.length())?;
            for key in keys.iter() {
                let Some(text) = well_formed_js(&key) else {
                    let why =
                        if key.is_string() { format!("has a key that {LONE_SURROGATE}") } else { "has a key that is not a string".into() };
                    return Err(Invalid::new(why));
                };
                let text = budget.text(text)?;
                let item = Reflect::get(value, &key).map_err(|e| Invalid::new(threw(&e)).at(format!(".{text}")))?;
                let item = from_js(&item, depth + 1, budget).map_err(|e| e.at(format!(".{text}")))?;
                map.insert(text, item);
            }
            Ok(Value::Object(map))
        }
        _ => Err(Invalid::new(format!("is {}; convert it to plain JSON first", describe(value)))),
    }
}

/// Items reserved ahead for an array: its length is only a claim (a sparse
/// array's, a proxy's), so room for more is made as they are read.
const LIKELY_ITEMS: u32 = 1 << 12;

/// What a read threw, for messages.
fn threw(error: &JsValue) -> String {
    format!("threw {} when read", thrown(error))
}

/// Whether a value is an array (`Array.isArray`); a revoked proxy throws.
pub(crate) fn is_array(value: &JsValue) -> std::result::Result<bool, String> {
    is_array_js(value).map_err(|e| threw(&e))
}

/// An array's length, as JavaScript reports it (a proxy may say anything).
pub(crate) fn length(array: &JsValue) -> std::result::Result<u32, String> {
    let length = Reflect::get(array, &"length".into()).map_err(|e| threw(&e))?;
    match length.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        _ => Err(format!("has a length of {}, which no array has", describe(&length))),
    }
}

/// Item `i` of an array, `None` for a hole.
pub(crate) fn item(array: &JsValue, i: u32) -> std::result::Result<Option<JsValue>, String> {
    let index = JsValue::from(i);
    if !Reflect::has(array, &index).map_err(|e| threw(&e))? {
        return Ok(None);
    }
    Reflect::get(array, &index).map(Some).map_err(|e| threw(&e))
}

/// An object's own enumerable string keys (`Object.keys`).
pub(crate) fn keys(object: &JsValue) -> std::result::Result<Array, String> {
    keys_js(object).map_err(|e| threw(&e))
}

/// One property of an object (`Reflect.get`: a getter may throw).
pub(crate) fn property(object: &JsValue, key: &str) -> std::result::Result<JsValue, String> {
    Reflect::get(object, &JsValue::from_str(key)).map_err(|e| threw(&e))
}

/// A plain object: not an array, and made by `{}` or `Object.create(null)`.
pub(crate) fn is_plain(value: &JsValue) -> std::result::Result<bool, String> {
    Ok(value.is_object() && !is_array(value)? && plain_prototype(value)?)
}

/// Whether an object's prototype is `Object.prototype` or none.
fn plain_prototype(object: &JsValue) -> std::result::Result<bool, String> {
    let prototype = Reflect::get_prototype_of(object).map_err(|e| threw(&e))?;
    Ok(prototype.is_null() || prototype == Object::get_prototype_of(&Object::new()))
}

const LONE_SURROGATE: &str = "holds a lone surrogate, which UTF-8 (and so storage) cannot hold";

/// A string that UTF-8 can hold unchanged, if it is one.
fn well_formed(text: &JsString) -> Option<String> {
    text.unchecked_ref::<Text>().is_well_formed().then(|| String::from(text))
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

/// A JSON number holding exactly this double, if JSON can hold it.
fn number(n: f64) -> Option<Number> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if !n.is_finite() {
        return None;
    }
    let integral = n.fract() == 0.0 && !(n == 0.0 && n.is_sign_negative());
    if integral && n.abs() < TWO_63 {
        Some(Number::from(n as i64))
    } else if integral && n > 0.0 && n < TWO_64 {
        Some(Number::from(n as u64))
    } else {
        Number::from_f64(n)
    }
}

/// A string that UTF-8 can hold unchanged.
pub(crate) fn string(text: &JsString, path: &str) -> Result<String> {
    well_formed(text).ok_or_else(|| Error::invalid(format!("{path} {LONE_SURROGATE}")))
}

/// What a value is, for messages (never its contents: those may not print).
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_null() {
        return "null".into();
    }
    if is_array(value).unwrap_or(false) {
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
        Some(name) if name.starts_with(['A', 'E', 'I', 'O', 'U']) => format!("an {name}"),
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
