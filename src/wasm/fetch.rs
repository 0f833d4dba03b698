//! The core's HTTP port over the browser's `fetch` (in a page or a worker).
//! A request that gets no response (offline, refused, CORS, timed out) is an
//! `Err` with the browser's words; any response is `Ok`, whatever its status.

use async_trait::async_trait;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::convert::thrown;
use crate::sync::{Http, Method, Request, Response, MORE};

/// Longer than any wait the client asks a server for.
const TIMEOUT_MS: f64 = 90_000.0;

/// `fetch`, each request given up after [`TIMEOUT_MS`] or when `cancel` (an
/// `AbortSignal`) aborts, if given.
#[derive(Default)]
pub(crate) struct Fetch {
    pub(crate) cancel: Option<JsValue>,
}

/// `new AbortController()`, to cancel requests of a [`Fetch`] with its `signal`.
pub(crate) fn abort_controller() -> Result<JsValue, String> {
    let class: Function = Reflect::get(&js_sys::global(), &"AbortController".into())
        .map_err(|e| thrown(&e))?
        .dyn_into()
        .map_err(|_| "this context has no AbortController".to_owned())?;
    Reflect::construct(&class, &js_sys::Array::new()).map_err(|e| thrown(&e))
}

/// Why `fetch` would refuse every request to `url` before sending it, if it
/// would: the browser's `URL` cannot parse it, or it holds credentials.
pub(crate) fn unfetchable(url: &str) -> Option<String> {
    let class: Function = Reflect::get(&js_sys::global(), &"URL".into()).ok()?.dyn_into().ok()?;
    let parsed = match Reflect::construct(&class, &js_sys::Array::of1(&url.into())) {
        Ok(parsed) => parsed,
        Err(error) => return Some(thrown(&error)),
    };
    let part = |key: &str| Reflect::get(&parsed, &key.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    let credentials = !part("username").is_empty() || !part("password").is_empty();
    credentials.then(|| "it holds credentials, which fetch refuses: give the token instead".to_owned())
}

#[async_trait(?Send)]
impl Http for Fetch {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let global = js_sys::global();
        let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).map_err(|e| thrown(&e));
        let fetch: Function = get(&global, "fetch")?.dyn_into().map_err(|_| "this context has no fetch".to_owned())?;
        let headers = Object::new();
        let set = |target: &Object, key: &str, value: &JsValue| {
            Reflect::set(target, &JsValue::from_str(key), value).map(drop).map_err(|e| thrown(&e))
        };
        set(&headers, "content-type", &"application/json".into())?;
        if let Some(token) = &request.token {
            set(&headers, "authorization", &format!("Bearer {token}").into())?;
        }
        let init = Object::new();
        set(&init, "method", &(if request.method == Method::Post { "POST" } else { "GET" }).into())?;
        set(&init, "headers", &headers)?;
        set(&init, "cache", &"no-store".into())?;
        if let Some(body) = &request.body {
            set(&init, "body", &Uint8Array::from(body.as_slice()))?;
        }
        let abort_signal = get(&global, "AbortSignal")?;
        let timeout: Function = get(&abort_signal, "timeout")?.dyn_into().map_err(|_| "no AbortSignal.timeout".to_owned())?;
        let mut signal = timeout.call1(&JsValue::NULL, &JsValue::from_f64(TIMEOUT_MS)).map_err(|e| thrown(&e))?;
        if let Some(cancel) = &self.cancel {
            let any: Function = get(&abort_signal, "any")?.dyn_into().map_err(|_| "no AbortSignal.any".to_owned())?;
            signal = any.call1(&JsValue::NULL, &js_sys::Array::of2(&signal, cancel)).map_err(|e| thrown(&e))?;
        }
        set(&init, "signal", &signal)?;
        let pending: Promise = fetch
            .call2(&global, &JsValue::from_str(&request.url), &init)
            .map_err(|e| thrown(&e))?
            .dyn_into()
            .map_err(|_| "fetch gave no promise".to_owned())?;
        let response = JsFuture::from(pending).await.map_err(|e| thrown(&e))?;
        let status = get(&response, "status")?.as_f64().unwrap_or(0.0) as u16;
        let more = header(&get(&response, "headers")?, MORE)?.as_deref() == Some("true");
        let read: Function = get(&response, "arrayBuffer")?.dyn_into().map_err(|_| "a response without a body".to_owned())?;
        let buffer = JsFuture::from(Promise::from(read.call0(&response).map_err(|e| thrown(&e))?)).await.map_err(|e| thrown(&e))?;
        Ok(Response { status, body: Uint8Array::new(&buffer).to_vec(), more })
    }
}

/// A response header's value (`Headers.get`), if it has one.
fn header(headers: &JsValue, name: &str) -> Result<Option<String>, String> {
    let get: Function =
        Reflect::get(headers, &"get".into()).map_err(|e| thrown(&e))?.dyn_into().map_err(|_| "a response without headers".to_owned())?;
    Ok(get.call1(headers, &JsValue::from_str(name)).map_err(|e| thrown(&e))?.as_string())
}
