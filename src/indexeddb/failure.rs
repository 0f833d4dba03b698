//! IndexedDB failures as core errors, keeping the browser's own name and
//! message (rexie's `Display` says only "idb error").

use wasm_bindgen::{JsCast, JsValue};

use crate::error::Error;

/// The browser's `DOMException` name and message inside a rexie error, if any.
pub(crate) fn dom_error(error: &rexie::Error) -> Option<(String, String)> {
    let rexie::Error::IdbError(inner) = error else { return None };
    match inner {
        idb::Error::DomException(exception) => Some((exception.name(), exception.message())),
        other => exception_in(other),
    }
}

/// Errors that carry a thrown JS value (a synchronous `DOMException`).
fn exception_in(error: &idb::Error) -> Option<(String, String)> {
    let value: &JsValue = match error {
        idb::Error::AddFailed(v)
        | idb::Error::GetAllFailed(v)
        | idb::Error::GetFailed(v)
        | idb::Error::DeleteFailed(v)
        | idb::Error::OpenCursorFailed(v)
        | idb::Error::TransactionOpenFailed(v)
        | idb::Error::IndexedDbOpenFailed(v)
        | idb::Error::ObjectStoreNotFound(v)
        | idb::Error::IndexNotFound(v) => v,
        _ => return None,
    };
    let exception = value.dyn_ref::<web_sys::DomException>()?;
    Some((exception.name(), exception.message()))
}

/// Any other failure: a storage error that says what was being done and why.
pub(crate) fn storage(doing: &str, error: rexie::Error) -> Error {
    let why = match dom_error(&error) {
        Some((name, message)) => explained(&name, &message),
        None => match &error {
            rexie::Error::IdbError(inner) => inner.to_string(),
            other => other.to_string(),
        },
    };
    Error::Storage(format!("{doing}: {why}"))
}

/// A failure thrown by (or rejecting from) the adapter's own JavaScript.
pub(crate) fn thrown(doing: &str, error: JsValue) -> Error {
    let why = match error.dyn_ref::<web_sys::DomException>() {
        Some(exception) => explained(&exception.name(), &exception.message()),
        None => format!("{error:?}"),
    };
    Error::Storage(format!("{doing}: {why}"))
}

fn explained(name: &str, message: &str) -> String {
    match name {
        "QuotaExceededError" => format!("the browser's storage quota is exceeded; free space or ask for persistent storage ({name}: {message})"),
        "InvalidStateError" => format!(
            "the database connection is closed: closed here, or the database was deleted or upgraded by another tab; open it again ({name}: {message})"
        ),
        _ => format!("{name}: {message}"),
    }
}
