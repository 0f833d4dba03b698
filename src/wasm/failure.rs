//! Failures as JavaScript sees them: every core error is a JS `Error` whose
//! `name` is its kind (`ConflictError`, ...), made by the facade's class of that
//! name once the facade has given its classes (so errors thrown where the facade
//! does not stand between, as to a view's handler by its writer, are typed too).
//! A panic is a bug and should
//! never happen; if one does, the hook keeps its message for the facade (which
//! reports an `InternalError`) and schedules a fresh instance, so the page can
//! open its applications again instead of facing a dead module.

use wasm_bindgen::prelude::*;

use super::convert::thrown;
use crate::error::Error;

/// Results of exported functions.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// A core error as a JS `Error` with a stable `name`.
pub(crate) fn js_error(error: Error) -> JsValue {
    make_error(error.name(), &error.to_string())
}

/// Makes the core's errors with these classes, by name (`{ ValidationError, ... }`).
#[wasm_bindgen(js_name = useErrorClasses)]
pub fn use_error_classes(classes: JsValue) {
    set_error_classes(classes);
}

/// What a function supplied from JavaScript threw, as a handler error naming it.
pub(crate) fn handler_threw(function: &str, error: &JsValue) -> Error {
    Error::Handler(format!("{function} threw {}", thrown(error)))
}

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// Keeps a panic's message outside the instance, which the panic ends.
    fn keep(message: &str);
    fn take() -> Option<String>;
    /// Kept outside the instance too: a fresh one after a panic makes the same errors.
    #[wasm_bindgen(js_name = setClasses)]
    fn set_error_classes(classes: JsValue);
    #[wasm_bindgen(js_name = make)]
    fn make_error(name: &str, message: &str) -> JsValue;
}

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("tributary hit a bug and was reset: {info}");
        web_sys::console::error_1(&JsValue::from_str(&message));
        keep(&message);
        wasm_bindgen::handler::schedule_reinit();
    }));
}

/// The message of the panic that ended the last instance, if one did (once).
#[wasm_bindgen(js_name = takePanic)]
pub fn take_panic() -> Option<String> {
    take()
}

/// Panics on purpose: lets the page tests prove that a panic reaches the page
/// as an error and that the package works again afterwards. Not part of the API.
#[wasm_bindgen(js_name = __panicForTests)]
pub fn panic_for_tests() {
    panic!("a panic the page tests asked for");
}
