//! The boundary to JavaScript, compiled only for wasm32 and kept thin: it
//! parses what JS sends, calls the core, and hands back JSON. Calls are coarse
//! (one per operation, one per replayed batch), and core errors cross as real JS
//! `Error` objects whose `name` is the error kind, never as panics.

mod core;
mod follow;
mod js_fold;
mod json;
mod views;

use wasm_bindgen::prelude::*;

/// A core error as a JS `Error` with a stable `name` (`ConflictError`, ...).
pub(crate) fn js_error(error: crate::Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    js.set_name(error.name());
    js.into()
}

/// The version of the tributary crate inside this package.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
