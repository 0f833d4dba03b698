//! Aggregates and upcasters defined in JavaScript. A replay crosses into JS once
//! per batch of events (JSON in, JSON out), not once per event.

use js_sys::Function;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::json::EventJs;
use crate::domain::{DomainEvent, Fold, Payload};
use crate::error::{Error, Result};

/// `initial()` and `fold(stateJson, eventsJson) -> stateJson` from the facade.
pub(crate) struct JsFold {
    pub aggregate: String,
    pub initial: Function,
    pub fold: Function,
}

impl Fold for JsFold {
    fn initial(&self) -> Result<Value> {
        let state = self.initial.call0(&JsValue::NULL).map_err(|e| thrown(&format!("{}.initial", self.aggregate), &e))?;
        parse_state(&self.aggregate, &state)
    }

    fn apply(&self, state: Value, events: &[DomainEvent]) -> Result<Value> {
        let events: Vec<EventJs> = events.iter().map(EventJs::new).collect();
        let events = serde_json::to_string(&events).map_err(|e| Error::invalid(e.to_string()))?;
        let state = JsValue::from_str(&state.to_string());
        let folded = self
            .fold
            .call2(&JsValue::NULL, &state, &JsValue::from_str(&events))
            .map_err(|e| thrown(&format!("{}.apply", self.aggregate), &e))?;
        parse_state(&self.aggregate, &folded)
    }
}

/// An upcaster from JS: `(payloadJson) -> payloadJson`.
pub(crate) fn js_upcaster(name: String, upcast: Function) -> impl Fn(Payload) -> Result<Payload> {
    move |payload| {
        let json = JsValue::from_str(&Value::Object(payload).to_string());
        let out = upcast.call1(&JsValue::NULL, &json).map_err(|e| thrown(&name, &e))?;
        match serde_json::from_str(&out.as_string().unwrap_or_default()) {
            Ok(Value::Object(payload)) => Ok(payload),
            _ => Err(Error::Handler(format!("{name} must return a JSON object"))),
        }
    }
}

fn parse_state(aggregate: &str, state: &JsValue) -> Result<Value> {
    let text = state.as_string().ok_or_else(|| Error::Handler(format!("{aggregate}: the state must be JSON")))?;
    serde_json::from_str(&text).map_err(|e| Error::Handler(format!("{aggregate}: the state is not JSON: {e}")))
}

/// What a JS function threw, as a handler error naming the function.
pub(crate) fn thrown(function: &str, error: &JsValue) -> Error {
    let message = match error.dyn_ref::<js_sys::Error>() {
        Some(error) => format!("{}: {}", String::from(error.name()), String::from(error.message())),
        None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
    };
    Error::Handler(format!("{function} threw {message}"))
}
