//! Arguments and options as JavaScript passes them, checked: every exported
//! method takes `JsValue`s and reads them here, so a wrong type is a
//! `ValidationError` naming the argument, never a trap or a coerced value.

use js_sys::{Function, JsString, Object, Reflect};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::convert::{self, describe, string};
use crate::error::{Error, Result};
pub(crate) use crate::persistence::MAX_SAFE;

/// A string argument.
pub(crate) fn text(value: &JsValue, what: &str) -> Result<String> {
    match value.dyn_ref::<JsString>() {
        Some(text) => string(text, what),
        None => Err(Error::invalid(format!("{what} must be a string, not {}", describe(value)))),
    }
}

/// A non-empty string argument.
pub(crate) fn name(value: &JsValue, what: &str) -> Result<String> {
    let name = text(value, what)?;
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    Ok(name)
}

/// A whole number from `min` up to 2^53 - 1.
pub(crate) fn whole(value: &JsValue, what: &str, min: u64) -> Result<u64> {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= MAX_SAFE as f64 => Ok(n as u64),
        Some(n) => Err(Error::invalid(format!("{what} must be a whole number from {min} to 2^53 - 1, not {n}"))),
        None => Err(Error::invalid(format!("{what} must be a whole number, not {}", describe(value)))),
    }
}

/// An aggregate id: a UUID string, not the nil UUID.
pub(crate) fn id(value: &JsValue, what: &str) -> Result<Uuid> {
    let text = text(value, what)?;
    let id: Uuid = text.parse().map_err(|_| Error::invalid(format!("{what} must be a UUID, not {text:?}")))?;
    if id.is_nil() {
        return Err(Error::invalid(format!("{what} must not be the nil UUID")));
    }
    Ok(id)
}

/// A function argument.
pub(crate) fn function(value: &JsValue, what: &str) -> Result<Function> {
    value.dyn_ref::<Function>().cloned().ok_or_else(|| Error::invalid(format!("{what} must be a function, not {}", describe(value))))
}

/// An array of non-empty strings.
pub(crate) fn names(value: &JsValue, what: &str) -> Result<Vec<String>> {
    each(value, what, &format!("{what} must be an array of strings"), |i, _, item| name(&item, &format!("{what}[{i}]")))
}

/// Each item of an array argument read by `read(index, length, item)` (a hole
/// reads as `undefined`), stopping at the first refused: a length is only a
/// claim (a sparse array's). `wanted` says what the argument must be, if it is no array.
pub(crate) fn each<T>(
    value: &JsValue,
    what: &str,
    wanted: &str,
    mut read: impl FnMut(usize, usize, JsValue) -> Result<T>,
) -> Result<Vec<T>> {
    let invalid = |why: String| Error::invalid(format!("{what} {why}"));
    if !convert::is_array(value).map_err(invalid)? {
        return Err(Error::invalid(format!("{wanted}, not {}", describe(value))));
    }
    let length = convert::length(value).map_err(invalid)?;
    if length > convert::MAX_ITEMS {
        return Err(invalid(format!("holds {length} items; one call takes at most {}", convert::MAX_ITEMS)));
    }
    let mut items = Vec::new();
    for i in 0..length {
        let item = convert::item(value, i).map_err(|why| Error::invalid(format!("{what}[{i}] {why}")))?;
        items.push(read(i as usize, length as usize, item.unwrap_or_default())?);
    }
    Ok(items)
}

/// An options object: `undefined` is no options; anything but a plain object
/// is refused; unknown keys are refused when read with [`Options::done`].
pub(crate) struct Options {
    object: Option<Object>,
    what: String,
    known: Vec<String>,
}

impl Options {
    pub(crate) fn new(value: &JsValue, what: &str) -> Result<Self> {
        let object = match value {
            v if v.is_undefined() => None,
            v if convert::is_plain(v).map_err(|why| Error::invalid(format!("{what} {why}")))? => Some(v.clone().unchecked_into()),
            v => return Err(Error::invalid(format!("{what} must be a plain object, not {}", describe(v)))),
        };
        Ok(Options { object, what: what.to_owned(), known: Vec::new() })
    }

    /// An option's value, `None` when absent or `undefined`.
    pub(crate) fn get(&mut self, key: &str) -> Result<Option<JsValue>> {
        self.known.push(key.to_owned());
        let Some(object) = &self.object else { return Ok(None) };
        let value = convert::property(object, key).map_err(|why| Error::invalid(format!("{} {why}", self.path(key))))?;
        Ok((!value.is_undefined()).then_some(value))
    }

    /// The name of an option, for messages.
    pub(crate) fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.what)
    }

    pub(crate) fn whole(&mut self, key: &str, min: u64) -> Result<Option<u64>> {
        let path = self.path(key);
        self.get(key)?.map(|v| whole(&v, &path, min)).transpose()
    }

    /// An `expectedVersion`: a whole number, or -1 ("must not exist yet" for a
    /// type whose first version is 0).
    pub(crate) fn version_before(&mut self, key: &str) -> Result<Option<i64>> {
        let path = self.path(key);
        let read = |v: JsValue| match v.as_f64() {
            Some(-1.0) => Ok(-1),
            Some(n) if n < 0.0 => {
                Err(Error::invalid(format!("{path} must be -1 (none yet) or a whole number from 0 to 2^53 - 1, not {n}")))
            }
            _ => whole(&v, &path, 0).map(|n| n as i64),
        };
        self.get(key)?.map(read).transpose()
    }

    pub(crate) fn text(&mut self, key: &str) -> Result<Option<String>> {
        let path = self.path(key);
        self.get(key)?.map(|v| text(&v, &path)).transpose()
    }

    pub(crate) fn boolean(&mut self, key: &str) -> Result<Option<bool>> {
        let path = self.path(key);
        match self.get(key)? {
            None => Ok(None),
            Some(value) => {
                value.as_bool().map(Some).ok_or_else(|| Error::invalid(format!("{path} must be true or false, not {}", describe(&value))))
            }
        }
    }

    pub(crate) fn names(&mut self, key: &str) -> Result<Option<Vec<String>>> {
        let path = self.path(key);
        self.get(key)?.map(|v| names(&v, &path)).transpose()
    }

    /// A function the options must hold, called `what` in messages.
    pub(crate) fn function(&mut self, key: &str, what: &str) -> Result<Function> {
        function(&self.get(key)?.unwrap_or(JsValue::UNDEFINED), what)
    }

    /// A nested options object.
    pub(crate) fn options(&mut self, key: &str) -> Result<Options> {
        let path = self.path(key);
        Options::new(&self.get(key)?.unwrap_or(JsValue::UNDEFINED), &path)
    }

    /// The keys present in the object.
    pub(crate) fn keys(&self) -> Result<Vec<String>> {
        let Some(object) = &self.object else { return Ok(Vec::new()) };
        let keys = convert::keys(object).map_err(|why| Error::invalid(format!("{} {why}", self.what)))?;
        keys.iter().map(|key| text(&key, &format!("a key of {}", self.what))).collect()
    }

    /// Refuses keys nobody read: a misspelt option is an error, not ignored.
    pub(crate) fn done(self) -> Result<()> {
        match self.keys()?.into_iter().find(|key| !self.known.contains(key)) {
            Some(key) => Err(Error::invalid(format!("{} has no option {key:?}; it takes {}", self.what, self.known.join(", ")))),
            None => Ok(()),
        }
    }
}

/// Options the facade reads itself (`subscribe`, `rebuild`), checked as the
/// core checks its own: `texts` and `functions` name the options of each kind.
/// Returns the values as read (once: a getter may answer differently twice).
#[wasm_bindgen(js_name = checkOptions)]
pub fn check_options(value: JsValue, what: &str, texts: Vec<String>, functions: Vec<String>) -> Result<Object, JsValue> {
    let read = || -> Result<Object> {
        let mut options = Options::new(&value, what)?;
        let out = Object::new();
        let set = |key: &str, value: &JsValue| {
            Reflect::set(&out, &JsValue::from_str(key), value).map(drop).map_err(|_| Error::invalid("could not build the options"))
        };
        for key in &texts {
            if let Some(text) = options.text(key)? {
                set(key, &JsValue::from_str(&text))?;
            }
        }
        for key in &functions {
            let path = options.path(key);
            if let Some(value) = options.get(key)? {
                set(key, &function(&value, &path)?.into())?;
            }
        }
        options.done()?;
        Ok(out)
    };
    read().map_err(super::failure::js_error)
}
