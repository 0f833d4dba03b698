//! `CoreView`: one view as the facade drives it. Its JavaScript handler is
//! called once per event with a [`ViewWriter`] over the core's staging, so the
//! core alone stages, rolls back a failing event and commits; the facade only
//! decides when to step (locks, tabs, waits).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::args::{text, whole, Options};
use super::convert::{from_json, to_json_named};
use super::events::{to_js, EventJs};
use super::failure::{handler_threw, js_error, JsResult};
use super::shared::{promise, Shared};
use crate::error::{Error, Result};
use crate::persistence::{IndexKey, RowQuery, ViewDefinition};
use crate::projection::{check_public_key, Handler, Notified, ProjectionRunner, RowCache, Staged, Step};

/// A view of an application.
#[wasm_bindgen]
pub struct CoreView {
    shared: Rc<Shared>,
    definition: ViewDefinition,
    handler: RefCell<Rc<dyn Handler>>,
    cache: RowCache,
}

#[wasm_bindgen]
impl CoreView {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.definition.name.clone()
    }

    /// What a view built by this definition says of it, as JSON text: tabs tell
    /// each other's changes apart by it.
    #[wasm_bindgen(getter, js_name = builtBy)]
    pub fn built_by(&self) -> String {
        self.definition.built_by().to_string()
    }

    /// Replaces the handler (after a fix): `{ topics?, indexes?, handle }`, with
    /// the same topics and indexes as before.
    pub fn redefine(&self, definition: JsValue) -> JsResult<()> {
        self.shared.app().map_err(js_error)?;
        let (again, handler) = read_definition(&self.definition.name, &definition).map_err(js_error)?;
        if again != self.definition {
            return Err(js_error(Error::invalid(format!(
                "view {:?} is defined with topics {:?} and indexes {:?}; give a changed view a new name",
                self.definition.name, self.definition.topics, self.definition.indexes
            ))));
        }
        *self.handler.borrow_mut() = handler;
        self.cache.clear();
        Ok(())
    }

    /// Processes the next batch: `{ position, head, applied, changed, failed: { notificationId, error } | null }`.
    pub fn step(&self) -> Promise {
        promise(self.runner().map(|runner| async move { step_js(&runner.step().await?) }))
    }

    /// Forgets the rows kept from earlier batches (another tab may have run the view since).
    pub fn forget(&self) {
        self.cache.clear();
    }

    /// Drops the view's rows and position (the first half of a rebuild).
    pub fn clear(&self) -> Promise {
        promise(self.runner().map(|runner| async move { runner.clear().await.map(|()| JsValue::UNDEFINED) }))
    }

    /// One row, or `undefined`.
    pub fn get(&self, key: JsValue) -> Promise {
        let views = self.shared.views.clone();
        let name = self.definition.name.clone();
        promise(self.shared.app().and_then(|_| {
            let key = text(&key, "a row key")?;
            Ok(async move {
                match views.get_row(&name, &key).await? {
                    Some(row) => from_json(&row),
                    None => Ok(JsValue::UNDEFINED),
                }
            })
        }))
    }

    /// Rows `[{ key, value }]` in key order, or in an index's order within bounds:
    /// `{ index?, gt?, gte?, lt?, lte?, limit? }`.
    pub fn query(&self, options: JsValue) -> Promise {
        let views = self.shared.views.clone();
        let name = self.definition.name.clone();
        promise(self.shared.app().and_then(|_| {
            let query = row_query(&options, &self.definition)?;
            Ok(async move {
                let rows = views.query_rows(&name, &query).await?;
                from_json(&rows.into_iter().map(|r| serde_json::json!({ "key": r.key, "value": r.value })).collect::<Vec<_>>())
            })
        }))
    }

    /// The id of the last notification the view has processed.
    pub fn position(&self) -> Promise {
        promise(self.runner().map(|runner| async move { Ok(JsValue::from_f64(runner.position().await? as f64)) }))
    }

    /// Resolves once the view has processed `id`; a `TimeoutError` after `{ timeoutMs }` (default 5,000);
    /// at once when `wanted()` (if given) says nobody waits any more. Wrong arguments
    /// throw at once, so the facade hears of them before anything else.
    pub fn wait(&self, id: JsValue, options: JsValue, wanted: Option<Function>) -> JsResult<Promise> {
        let runner = self.runner().map_err(js_error)?;
        let (id, timeout) = wait_args(&id, &options).map_err(js_error)?;
        Ok(promise(Ok(async move { runner.wait_while(id, timeout, || still_wanted(&wanted)).await.map(|()| JsValue::UNDEFINED) })))
    }
}

impl CoreView {
    /// A view defined from JavaScript.
    pub(crate) fn defined(shared: Rc<Shared>, name: String, definition: &JsValue) -> Result<CoreView> {
        let (definition, handler) = read_definition(&name, definition)?;
        Ok(Self::of(shared, definition, handler))
    }

    /// A view defined by the core (the workflow views).
    pub(crate) fn of(shared: Rc<Shared>, definition: ViewDefinition, handler: Rc<dyn Handler>) -> CoreView {
        shared.defined_views.borrow_mut().insert(definition.name.clone(), definition.clone());
        CoreView { shared, definition, handler: RefCell::new(handler), cache: RowCache::default() }
    }

    /// A runner over the current application (and its current types).
    fn runner(&self) -> Result<ProjectionRunner> {
        let app = self.shared.app()?;
        let runner =
            ProjectionRunner::new((*app).clone(), self.shared.views.clone(), self.definition.clone(), self.handler.borrow().clone());
        Ok(runner.with_cache(self.cache.clone()))
    }
}

/// `{ topics?, indexes?, handle }`, checked.
fn read_definition(name: &str, definition: &JsValue) -> Result<(ViewDefinition, Rc<dyn Handler>)> {
    let mut options = Options::new(definition, &format!("the definition of view {name}"))?;
    let topics = options.names("topics")?.unwrap_or_default();
    let indexes = options.names("indexes")?.unwrap_or_default();
    let handle = options.function("handle", &format!("view {name}'s handle(event, view)"))?;
    options.done()?;
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let indexes: Vec<&str> = indexes.iter().map(String::as_str).collect();
    let definition = ViewDefinition::new(name, &topics, &indexes)?;
    Ok((definition, Rc::new(JsHandler { view: name.to_owned(), handle })))
}

/// `query` options, checked against the view's indexes.
fn row_query(options: &JsValue, definition: &ViewDefinition) -> Result<RowQuery> {
    let mut options = Options::new(options, "query options")?;
    let mut bound = |key: &str| -> Result<Option<IndexKey>> {
        let path = options.path(key);
        options.get(key)?.map(|value| index_key(&value, &path)).transpose()
    };
    let (gt, gte, lt, lte) = (bound("gt")?, bound("gte")?, bound("lt")?, bound("lte")?);
    let index = options.text("index")?;
    let limit = options.whole("limit", 0)?.map(|l| l as usize);
    options.done()?;
    let query = RowQuery { index, gt, gte, lt, lte, limit };
    query.validate(definition)?;
    Ok(query)
}

fn index_key(value: &JsValue, path: &str) -> Result<IndexKey> {
    match (value.as_f64(), value.as_string()) {
        (Some(n), _) if n.is_finite() => Ok(IndexKey::Number(n)),
        (_, Some(_)) => Ok(IndexKey::Text(text(value, path)?)),
        _ => Err(Error::invalid(format!("{path} must be a finite number or a string, not {}", super::convert::describe(value)))),
    }
}

/// Whether a wait's `wanted()` says it is still waited for (no function: always;
/// one that throws or answers anything but `true`: no more).
pub(crate) fn still_wanted(wanted: &Option<Function>) -> bool {
    wanted.as_ref().is_none_or(|wanted| wanted.call0(&JsValue::NULL).ok().and_then(|answer| answer.as_bool()).unwrap_or(false))
}

/// `wait(notificationId, { timeoutMs })`, checked.
pub(crate) fn wait_args(id: &JsValue, options: &JsValue) -> Result<(u64, u64)> {
    let id = whole(id, "notificationId", 0)?;
    let mut options = Options::new(options, "wait options")?;
    let timeout = options.whole("timeoutMs", 0)?.unwrap_or(5_000);
    options.done()?;
    Ok((id, timeout))
}

/// A step as JavaScript sees it.
pub(crate) fn step_js(step: &Step) -> Result<JsValue> {
    let out = Object::new();
    let failed = match &step.failed {
        Some(failure) => {
            let failed = Object::new();
            set(&failed, "notificationId", JsValue::from_f64(failure.notification_id as f64))?;
            set(&failed, "error", js_error(failure.error.clone()))?;
            failed.into()
        }
        None => JsValue::NULL,
    };
    let changed: Array = step.changed.iter().map(|k| JsValue::from_str(k)).collect();
    set(&out, "position", JsValue::from_f64(step.position as f64))?;
    set(&out, "head", JsValue::from_f64(step.head as f64))?;
    set(&out, "applied", JsValue::from_f64(step.applied as f64))?;
    set(&out, "changed", changed.into())?;
    set(&out, "failed", failed)?;
    Ok(out.into())
}

fn set(object: &Object, key: &str, value: JsValue) -> Result<()> {
    Reflect::set(object, &key.into(), &value).map(drop).map_err(|_| Error::invalid("could not build a step object"))
}

/// A handler written in JavaScript: `handle(event, writer)`, sync or async.
struct JsHandler {
    view: String,
    handle: Function,
}

#[wasm_bindgen(module = "/src/wasm/glue.js")]
extern "C" {
    /// The batch loop, in JavaScript so that a batch crosses once. Its writer
    /// keeps the rows the batch knows, and crosses into the core's staging to
    /// read others and for each change (the first change of an event begins
    /// it there, so that `rollBack` takes back only that event's changes).
    #[wasm_bindgen(js_name = handleAll)]
    fn handle_all_js(events: &Array, handle: &Function, core: &JsValue, roll_back: &Function) -> Promise;
}

impl JsHandler {
    fn threw(&self, error: &JsValue) -> Error {
        handler_threw(&format!("the handler of view {:?}", self.view), error)
    }
}

#[async_trait(?Send)]
impl Handler for JsHandler {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()> {
        self.handle_all(std::slice::from_ref(event), view).await.map_or(Ok(()), |(_, error)| Err(error))
    }

    async fn handle_all(&self, events: &[Notified], view: &Staged) -> Option<(usize, Error)> {
        let events_js = match to_js(&events.iter().map(EventJs::notified).collect::<Vec<_>>()) {
            Ok(events) => events,
            Err(error) => return Some((0, error)),
        };
        let open = Rc::new(Cell::new(true));
        let writer = JsValue::from(ViewWriter { staged: view.clone(), open: open.clone() });
        let rolled = view.clone();
        let roll_back = Closure::<dyn Fn()>::new(move || rolled.roll_back_event());
        let done = handle_all_js(&events_js, &self.handle, &writer, roll_back.as_ref().unchecked_ref());
        let done = JsFuture::from(done).await;
        open.set(false);
        match done {
            Ok(stopped) if stopped.is_null() => None,
            Ok(stopped) => {
                let stopped: Array = stopped.unchecked_into();
                let index = stopped.get(0).as_f64().map_or(0, |i| i as usize);
                Some((index, self.threw(&stopped.get(1))))
            }
            Err(error) => Some((0, self.threw(&error))),
        }
    }
}

/// The core's side of a view handler's writer (the batch loop wraps it): the
/// view as the batch has left it. Only while the batch's handle calls run: a
/// call after (from a promise the handler did not await) would change nothing,
/// so it throws instead.
#[wasm_bindgen]
pub struct ViewWriter {
    staged: Staged,
    open: Rc<Cell<bool>>,
}

#[wasm_bindgen]
impl ViewWriter {
    /// The row as the batch has left it so far, as JSON text, or `null`.
    pub fn get(&self, key: JsValue) -> Promise {
        let key = match self.staged().and_then(|_| text(&key, "a row key")) {
            Ok(key) => key,
            Err(error) => return Promise::reject(&js_error(error)),
        };
        let row_js = |row: Option<serde_json::Value>| row.map_or(JsValue::NULL, |row| JsValue::from_str(&row.to_string()));
        if let Some(row) = self.staged.known(&key) {
            return Promise::resolve(&row_js(row));
        }
        let staged = self.staged.clone();
        promise(Ok(async move { Ok(row_js(staged.get(&key).await?)) }))
    }

    /// Puts a row (plain JSON), beginning the event first if `fresh`; returns the row's JSON text.
    pub fn put(&self, key: JsValue, row: JsValue, fresh: bool) -> JsResult<String> {
        let staged = self.staged().map_err(js_error)?;
        if fresh {
            staged.begin_event();
        }
        let key = public_key(&key).map_err(js_error)?;
        let value = to_json_named(&row, || format!("the row {key:?} of view {}", staged.view())).map_err(js_error)?;
        let text = value.to_string();
        staged.put(key, value);
        Ok(text)
    }

    /// Deletes a row, beginning the event first if `fresh`.
    pub fn delete(&self, key: JsValue, fresh: bool) -> JsResult<()> {
        let staged = self.staged().map_err(js_error)?;
        if fresh {
            staged.begin_event();
        }
        let key = public_key(&key).map_err(js_error)?;
        staged.delete(key);
        Ok(())
    }
}

impl ViewWriter {
    fn staged(&self) -> Result<&Staged> {
        match self.open.get() {
            true => Ok(&self.staged),
            false => Err(Error::invalid(format!(
                "the writer of view {:?} was used after its handle call ended: await what handle starts",
                self.staged.view()
            ))),
        }
    }
}

fn public_key(key: &JsValue) -> Result<String> {
    let key = text(key, "a row key")?;
    check_public_key(&key)?;
    Ok(key)
}
