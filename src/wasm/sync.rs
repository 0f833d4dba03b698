//! `CoreSync`: this application syncing with a server, as the facade drives
//! it. Each call is one step of the core's sync client over `fetch`; the core
//! decides what live sync does next ([`Live`]); the facade performs it (a Web
//! Lock per round, the timers).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use serde_json::json;
use uuid::Uuid;
use wasm_bindgen::prelude::*;

use super::args::{name, text, whole, Options};
use super::convert::from_json;
use super::events::{Batch, EventJs};
use super::failure::{handler_threw, js_error};
use super::fetch::{abort_controller, unfetchable, Fetch};
use super::shared::{promise, Shared};
use crate::error::{Error, Result};
use crate::sync::limits::{BATCH, MAX_PAGE, MAX_WAIT_MS, WAIT_MS};
use crate::sync::live::{Happened, Live, Then};
use crate::sync::{Resolution, SyncClient, SyncOptions};

/// This application syncing with one server.
#[wasm_bindgen]
pub struct CoreSync {
    shared: Rc<Shared>,
    options: SyncOptions,
    /// The `AbortController`s of the waits for the server in flight.
    waiting: Rc<RefCell<Vec<JsValue>>>,
    /// Live sync's decisions.
    live: RefCell<Live>,
}

#[wasm_bindgen]
impl CoreSync {
    /// The base URL of the server's application.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.options.url.clone()
    }

    /// One round: pull, push (pulling again on conflicts), pull. Calls
    /// `progress({ pushed, pulled, conflicts, position })` after each step;
    /// resolves to the round's totals.
    pub fn round(&self, progress: JsValue) -> Promise {
        promise(self.client().and_then(|client| {
            let progress = match progress.is_undefined() {
                true => None,
                false => Some(progress.dyn_into::<Function>().map_err(|_| Error::invalid("round takes a progress function, or nothing"))?),
            };
            Ok(async move {
                let mut report = |step: crate::sync::Progress| {
                    if let (Some(progress), Ok(step)) = (&progress, progress_js(&step)) {
                        if let Err(error) = progress.call1(&JsValue::NULL, &step) {
                            web_sys::console::error_2(&"tributary: a sync progress listener threw".into(), &error);
                        }
                    }
                };
                progress_js(&client.round(&mut report).await?)
            })
        }))
    }

    /// How many local events wait to be pushed.
    pub fn pending(&self) -> Promise {
        promise(self.client().map(|client| async move { Ok(JsValue::from_f64(client.pending_count().await? as f64)) }))
    }

    /// The server position reached.
    pub fn position(&self) -> Promise {
        promise(self.client().map(|client| async move { Ok(JsValue::from_f64(client.position().await? as f64)) }))
    }

    /// Waits on the server (bounded; `timeoutMs` undefined: the usual wait) until its log has more than `after`; resolves to its newest id.
    /// [`stopWaiting`](Self::stop_waiting) ends it (a `SyncError`), request and all.
    #[wasm_bindgen(js_name = waitForServer)]
    pub fn wait_for_server(&self, after: JsValue, timeout_ms: JsValue) -> Promise {
        let waiting = || -> Result<_> {
            let after = whole(&after, "after", 0)?;
            let timeout = if timeout_ms.is_undefined() { WAIT_MS } else { whole(&timeout_ms, "timeoutMs", 0)?.min(MAX_WAIT_MS) };
            let controller = abort_controller().map_err(Error::Sync)?;
            let signal = js_sys::Reflect::get(&controller, &"signal".into()).map_err(|e| handler_threw("AbortController", &e))?;
            let client = self.client_over(Fetch { cancel: Some(signal) })?;
            self.waiting.borrow_mut().push(controller.clone());
            let waiting = self.waiting.clone();
            Ok(async move {
                let newest = client.wait_for_server(after, timeout).await;
                waiting.borrow_mut().retain(|other| *other != controller);
                Ok(JsValue::from_f64(newest? as f64))
            })
        };
        promise(waiting())
    }

    /// Ends the waits for the server in flight, if any: live sync stopped, or its application closed.
    #[wasm_bindgen(js_name = stopWaiting)]
    pub fn stop_waiting(&self) {
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for controller in waiting {
            if let Ok(abort) = js_sys::Reflect::get(&controller, &"abort".into()).and_then(|f| f.dyn_into::<Function>()) {
                let _ = abort.call0(&controller);
            }
        }
    }

    /// The conflicts held for the application: `[{ id, aggregateId, version, local, server }]`.
    pub fn conflicts(&self) -> Promise {
        promise(self.client().map(|client| async move {
            let conflicts = client.conflicts().await?;
            let out = js_sys::Array::new();
            for conflict in conflicts {
                let side = |events: &[crate::domain::DomainEvent]| -> Result<JsValue> {
                    let mut batch = Batch::default();
                    events.iter().try_for_each(|e| batch.push(&EventJs::of(e)))?;
                    Ok(batch.into_js()?.into())
                };
                let item = from_json(&json!({ "id": conflict.id.to_string(), "aggregateId": conflict.originator_id.to_string(), "version": conflict.version }))?;
                js_sys::Reflect::set(&item, &"local".into(), &side(&conflict.local)?).map_err(|e| handler_threw("building a conflict", &e))?;
                js_sys::Reflect::set(&item, &"server".into(), &side(&conflict.server)?).map_err(|e| handler_threw("building a conflict", &e))?;
                out.push(&item);
            }
            Ok(JsValue::from(out))
        }))
    }

    /// Resolves a conflict: `"rebase"` (its events again, after the server's newest) or `"discard"`.
    pub fn resolve(&self, id: JsValue, how: JsValue) -> Promise {
        promise(self.client().and_then(|client| {
            let id: Uuid = text(&id, "the conflict id")?.parse().map_err(|_| Error::invalid("the conflict id must be a UUID"))?;
            let resolution = match name(&how, "how to resolve")?.as_str() {
                "rebase" => Resolution::Rebase,
                "discard" => Resolution::Discard,
                other => return Err(Error::invalid(format!("a conflict is resolved by \"rebase\" or \"discard\", not {other:?}"))),
            };
            Ok(async move { client.resolve(id, resolution).await.map(|()| JsValue::UNDEFINED) })
        }))
    }

    /// What live sync does after `happened` (`"synced"`, at `position`;
    /// `"offline"`, `"failed"`, `"heard"`, `"unheard"`, `"slept"` or `"poked"`):
    /// `{ round: true }`, `{ wait: after }`, `{ sleep: ms }` or `{ stop: true }`.
    pub fn next(&self, happened: JsValue, position: JsValue) -> Result<JsValue, JsValue> {
        let happened = match name(&happened, "what happened").map_err(js_error)?.as_str() {
            "synced" => Happened::Synced { position: whole(&position, "position", 0).map_err(js_error)? },
            "offline" => Happened::Offline,
            "failed" => Happened::Failed,
            "heard" => Happened::Heard,
            "unheard" => Happened::Unheard,
            "slept" => Happened::Slept,
            "poked" => Happened::Poked,
            other => return Err(js_error(Error::invalid(format!("live sync cannot have {other:?} happen")))),
        };
        let jitter = (Uuid::new_v4().as_u128() % 1_000) as f64 / 1_000.0;
        from_json(&match self.live.borrow_mut().next(happened, jitter) {
            Then::Round => json!({ "round": true }),
            Then::Wait { after } => json!({ "wait": after }),
            Then::Sleep { ms } => json!({ "sleep": ms }),
            Then::Stop => json!({ "stop": true }),
        })
        .map_err(js_error)
    }
}

impl CoreSync {
    /// `app.sync({ url, token?, push?, batch?, onConflict? })`, checked.
    pub(crate) fn defined(shared: Rc<Shared>, options: &JsValue) -> Result<CoreSync> {
        let mut options = Options::new(options, "sync options")?;
        let url = name(&options.get("url")?.unwrap_or(JsValue::UNDEFINED), "sync options.url")?;
        let token = options.text("token")?;
        let push = options.boolean("push")?.unwrap_or(true);
        // A Python server serves at most its section size (10 by default) per request.
        let batch = options.whole("batch", 1)?.unwrap_or(if push { BATCH as u64 } else { 10 });
        let rebase = match options.text("onConflict")?.as_deref() {
            None | Some("keep") => false,
            Some("rebase") => true,
            Some(other) => return Err(Error::invalid(format!("sync options.onConflict is \"keep\" or \"rebase\", not {other:?}"))),
        };
        options.done()?;
        let options = SyncOptions { url, token, push, batch: batch.min(MAX_PAGE as u64 + 1) as usize, rebase_conflicts: rebase };
        let mut sync = CoreSync { shared, options, waiting: Rc::default(), live: RefCell::default() };
        // The URL as the client uses it (no trailing slash): one server, one name (and one Web Lock).
        sync.options.url = sync.client()?.options().url.clone();
        if let Some(why) = unfetchable(&sync.options.url) {
            return Err(Error::invalid(format!("sync options.url {:?}: {why}", sync.options.url)));
        }
        Ok(sync)
    }

    /// A client over the current application and the views defined now.
    fn client(&self) -> Result<SyncClient> {
        self.client_over(Fetch::default())
    }

    fn client_over(&self, fetch: Fetch) -> Result<SyncClient> {
        let app = self.shared.app()?;
        let mut client = SyncClient::new((*app).clone(), self.shared.sync.clone(), Rc::new(fetch), self.options.clone())?;
        client.set_views(self.shared.defined_views.borrow().values().cloned().collect());
        Ok(client)
    }
}

fn progress_js(step: &crate::sync::Progress) -> Result<JsValue> {
    from_json(&json!({ "pushed": step.pushed, "pulled": step.pulled, "conflicts": step.conflicts, "position": step.position }))
}
