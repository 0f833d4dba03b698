//! `CoreApplication`: one application as the TypeScript facade drives it. It
//! owns the registry (the facade asks it for names), records, replays, reads the
//! log, and makes the handles of its views and followers.

use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::aggregate::{define, JsFolding};
use super::args::{each, id, name, text, Options};
use super::convert::{from_json, to_json_within, Budget};
use super::events::{to_js, Batch, EventJs};
use super::failure::{js_error, JsResult};
use super::follower::CoreFollower;
use super::shared::{promise, Shared};
use super::sync::CoreSync;
use super::view::CoreView;
use crate::application::{Application, At, NewEvent};
use crate::domain::{id_from_name, parse_iso, to_iso};
use crate::error::{Error, Result};
use crate::indexeddb::IndexedDbRecorder;
use crate::persistence::{Codec, EventQuery, MemoryApplicationRecorder, NotificationQuery, SyncRecorder, ViewRecorder};

/// At most this many notifications or events per read.
const MAX_PAGE: u64 = 10_000;
/// A history page stops once its events hold about this much data...
const HISTORY_BYTES: usize = 8 << 20;
/// ...read this many events at a time.
const HISTORY_READ: usize = 50;

/// An open application.
#[wasm_bindgen]
pub struct CoreApplication {
    pub(crate) shared: Rc<Shared>,
}

#[wasm_bindgen]
impl CoreApplication {
    /// Opens the application `name`; options `{ storage, snapshotEvery, keepSnapshots, sectionSize, topics, compress, cipherKey }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<CoreApplication>")]
    pub fn open(name_value: JsValue, options: JsValue) -> Promise {
        promise(Ok(async move { Self::opened(&name_value, &options).await.map(JsValue::from) }))
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.shared.app().map(|app| app.name().to_owned()).unwrap_or_default()
    }

    /// Registers an aggregate type `{ initial, apply, schemaVersion?, eventVersions?, upcasters? }`.
    #[wasm_bindgen(js_name = defineAggregate)]
    pub fn define_aggregate(&self, name_value: JsValue, definition: JsValue) -> JsResult<()> {
        let name = name(&name_value, "an aggregate name").map_err(js_error)?;
        let aggregate = self.shared.update(|app| define(app.registry_mut(), name.clone(), &definition)).map_err(js_error)?;
        let mut aggregates = (**self.shared.aggregates.borrow()).clone();
        aggregates.insert(name, aggregate);
        *self.shared.aggregates.borrow_mut() = Rc::new(aggregates);
        Ok(())
    }

    /// The aggregate types this application knows, each with its event names.
    pub fn aggregates(&self) -> JsResult<JsValue> {
        let app = self.shared.app().map_err(js_error)?;
        // By name, as a JSON map keeps insertion order.
        let mut types: Vec<_> = app.registry().aggregates().collect();
        types.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let types: serde_json::Map<String, serde_json::Value> =
            types.into_iter().map(|t| (t.name.clone(), t.events.keys().map(String::as_str).collect())).collect();
        from_json(&types).map_err(js_error)
    }

    /// Creates an aggregate with its first event (`{ id? }` for a chosen id);
    /// resolves to `{ id, version, notificationId }`.
    pub fn create(&self, aggregate: JsValue, event: JsValue, data: JsValue, options: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let mut options = Options::new(&options, "create options")?;
            let id = options.get("id")?.map(|v| id(&v, "create options.id")).transpose()?;
            options.done()?;
            let new = new_event(&aggregate, id, &event, &data, Some(-1), "the event", &mut Budget::default())?;
            Ok(async move { recorded_js(&app.record(&[new]).await?[0], true) })
        }))
    }

    /// Records one event of an aggregate, after `{ expectedVersion }` if given (else after its newest);
    /// resolves to `{ version, notificationId }`.
    pub fn append(&self, aggregate: JsValue, id_value: JsValue, event: JsValue, data: JsValue, options: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let id = id(&id_value, "the aggregate id")?;
            let mut options = Options::new(&options, "record options")?;
            let expected = options.version_before("expectedVersion")?;
            options.done()?;
            let new = new_event(&aggregate, Some(id), &event, &data, expected, "the event", &mut Budget::default())?;
            Ok(async move { recorded_js(&app.record(&[new]).await?[0], false) })
        }))
    }

    /// Records events atomically: `[{ aggregate, id?, event, data, expectedVersion? }]`;
    /// resolves to `[{ id, version, notificationId }]`.
    pub fn record(&self, requests: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let new = new_events(&requests, "record")?;
            Ok(async move {
                let recorded = app.record(&new).await?;
                Ok(JsValue::from(recorded.iter().map(|r| recorded_js(r, true)).collect::<Result<Array>>()?))
            })
        }))
    }

    /// An aggregate of type `aggregate`, latest or as of `{ version }` or `{ at: Date }`:
    /// `{ id, aggregate, version, state, createdOn, modifiedOn }`.
    pub fn get(&self, aggregate: JsValue, id_value: JsValue, options: JsValue) -> Promise {
        let shared = self.shared.clone();
        promise((|| {
            let app = shared.app()?;
            let aggregate = name(&aggregate, "the aggregate type")?;
            let id = id(&id_value, "the aggregate id")?;
            let at = at(&options)?;
            let aggregates = shared.aggregates.borrow().clone();
            Ok(async move {
                let mut folding = JsFolding::new(aggregates);
                let head = app.replay_with(id, at, Some(&aggregate), &mut folding).await?;
                let out = Object::new();
                let set = |key: &str, value: JsValue| Reflect::set(&out, &key.into(), &value).map(drop);
                let date = |time| js_sys::Date::new(&JsValue::from_str(&to_iso(&time))).into();
                let fields = [
                    ("id", JsValue::from_str(&id.to_string())),
                    ("aggregate", JsValue::from_str(&head.aggregate_type)),
                    ("version", JsValue::from_f64(head.version as f64)),
                    ("state", folding.state()?),
                    ("createdOn", date(head.created_on)),
                    ("modifiedOn", date(head.modified_on)),
                ];
                for (key, value) in fields {
                    set(key, value).map_err(|_| Error::invalid("could not build the aggregate object"))?;
                }
                Ok(JsValue::from(out))
            })
        })())
    }

    /// An aggregate's events, oldest first: those after version `after`, at most
    /// `limit` (default 1,000) and about [`HISTORY_BYTES`] of data: page on from the last.
    pub fn history(&self, id_value: JsValue, options: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let id = id(&id_value, "the aggregate id")?;
            let mut options = Options::new(&options, "history options")?;
            let mut after = options.whole("after", 0)?;
            let limit = options.whole("limit", 1)?.unwrap_or(1_000).min(MAX_PAGE) as usize;
            options.done()?;
            Ok(async move {
                let (mut batch, mut count) = (Batch::default(), 0);
                while count < limit && batch.bytes() < HISTORY_BYTES {
                    let read = HISTORY_READ.min(limit - count);
                    let page = app.events(id, EventQuery { gt: after, limit: Some(read), ..EventQuery::all() }).await?;
                    page.iter().try_for_each(|event| batch.push(&EventJs::of(event)))?;
                    after = page.last().map(|e| e.originator_version).or(after);
                    count += page.len();
                    if page.len() < read {
                        break;
                    }
                }
                Ok(JsValue::from(batch.into_js()?))
            })
        }))
    }

    /// Decoded notifications: `{ after?, limit?, topics?, upTo? }`.
    pub fn notifications(&self, options: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let mut options = Options::new(&options, "notifications options")?;
            let after = options.whole("after", 0)?.unwrap_or(0);
            let limit = options.whole("limit", 0)?.unwrap_or(100);
            if limit > MAX_PAGE {
                return Err(Error::invalid(format!("limit {limit} is above {MAX_PAGE}; read in pages")));
            }
            let topics = options.names("topics")?.unwrap_or_default();
            let up_to = options.whole("upTo", 0)?;
            options.done()?;
            let query = NotificationQuery { start: after + 1, limit: limit as usize, stop: up_to, topics };
            Ok(async move {
                let notifications = app.notifications(&query).await?;
                let events = notifications
                    .iter()
                    .map(|n| {
                        Ok(crate::projection::Notified { notification_id: n.id, event: app.mapper().to_domain_event(&n.stored_event())? })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(JsValue::from(to_js(&events.iter().map(EventJs::notified).collect::<Vec<_>>())?))
            })
        }))
    }

    /// A section of the log ("1,10"), exactly as the Python library serves it.
    pub fn section(&self, id_value: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let id = text(&id_value, "the section id")?;
            Ok(async move { Ok(JsValue::from(app.notification_log().section(&id).await?.to_json())) })
        }))
    }

    /// Snapshots an aggregate of type `aggregate` at its latest version; resolves to its version.
    #[wasm_bindgen(js_name = takeSnapshot)]
    pub fn take_snapshot(&self, aggregate: JsValue, id_value: JsValue) -> Promise {
        promise(self.shared.app().and_then(|app| {
            let aggregate = name(&aggregate, "the aggregate type")?;
            let id = id(&id_value, "the aggregate id")?;
            Ok(async move { Ok(JsValue::from_f64(app.take_snapshot_of(&aggregate, id, None).await?.originator_version as f64)) })
        }))
    }

    /// The id of the newest notification (0 while the log is empty).
    #[wasm_bindgen(js_name = maxNotificationId)]
    pub fn max_notification_id(&self) -> Promise {
        promise(self.shared.app().map(|app| async move { Ok(JsValue::from_f64(app.max_notification_id().await? as f64)) }))
    }

    /// The id derived from a name, as Python's `create_id`: `uuid5(NAMESPACE_URL, "/{aggregate}/{name}")`.
    #[wasm_bindgen(js_name = idFor)]
    pub fn id_for(&self, aggregate: JsValue, name_value: JsValue) -> JsResult<String> {
        let aggregate = name(&aggregate, "the aggregate type").map_err(js_error)?;
        let name = text(&name_value, "the name").map_err(js_error)?;
        Ok(id_from_name(&uuid::Uuid::NAMESPACE_URL, &format!("/{aggregate}/{name}")).to_string())
    }

    /// Defines a view `{ topics?, indexes?, handle }` and returns its handle.
    #[wasm_bindgen(js_name = defineView)]
    pub fn define_view(&self, name_value: JsValue, definition: JsValue) -> JsResult<CoreView> {
        self.shared.app().map_err(js_error)?;
        let name = name(&name_value, "a view name").map_err(js_error)?;
        if crate::persistence::is_private(&name) {
            return Err(js_error(Error::invalid("view names starting with \\u0000 are the core's own")));
        }
        self.shared.claim_position(&name, false).map_err(js_error)?;
        CoreView::defined(self.shared.clone(), name, &definition).map_err(js_error)
    }

    /// Follows `leader`'s log with `{ topics?, policy }` and returns the follower's handle;
    /// the policy gets `app` as its second argument.
    pub fn follow(&self, leader: &CoreApplication, definition: JsValue, app: JsValue) -> JsResult<CoreFollower> {
        self.shared.app().map_err(js_error)?;
        leader.shared.app().map_err(js_error)?;
        CoreFollower::defined(self.shared.clone(), leader.shared.clone(), &definition, app).map_err(js_error)
    }

    /// Whether the application's storage is shared with the origin's other tabs (IndexedDB).
    #[wasm_bindgen(getter)]
    pub fn shared(&self) -> bool {
        self.shared.persistent()
    }

    /// Syncs with a server: `{ url, token?, push?, batch?, onConflict? }`.
    pub fn sync(&self, options: JsValue) -> JsResult<CoreSync> {
        CoreSync::defined(self.shared.clone(), &options).map_err(js_error)
    }

    /// Closes the application; later calls fail with a `StorageError`.
    pub fn close(&self) {
        self.shared.close();
    }
}

impl CoreApplication {
    async fn opened(name_value: &JsValue, options: &JsValue) -> Result<CoreApplication> {
        let name = name(name_value, "an application name")?;
        let mut options = Options::new(options, "the options")?;
        let storage = options.text("storage")?.unwrap_or_else(|| "indexeddb".into());
        let mut snapshot_every = options.options("snapshotEvery")?;
        let every: Vec<(String, u64)> = snapshot_every
            .keys()?
            .into_iter()
            .map(|t| Ok((t.clone(), snapshot_every.whole(&t, 1)?.unwrap_or(1))))
            .collect::<Result<_>>()?;
        let keep = options.whole("keepSnapshots", 1)?;
        let section_size = options.whole("sectionSize", 1)?;
        let mut topics = options.options("topics")?;
        let stored_as: Vec<(String, String)> =
            topics.keys()?.into_iter().map(|name| Ok((name.clone(), topics.text(&name)?.unwrap_or_default()))).collect::<Result<_>>()?;
        let mut codec = Codec::plain().compressed(options.boolean("compress")?.unwrap_or(false));
        if let Some(key) = options.text("cipherKey")? {
            codec = codec.encrypted(&key)?;
        }
        options.done()?;
        type Stores =
            (Rc<dyn crate::persistence::ApplicationRecorder>, Rc<dyn ViewRecorder>, Rc<dyn SyncRecorder>, Option<IndexedDbRecorder>);
        let (recorder, views, sync, indexeddb): Stores = match storage.as_str() {
            "memory" => {
                let recorder = Rc::new(MemoryApplicationRecorder::new());
                (recorder.clone(), recorder.clone(), recorder, None)
            }
            "indexeddb" => {
                let recorder = IndexedDbRecorder::open(&format!("tributary:{name}")).await?;
                (Rc::new(recorder.clone()), Rc::new(recorder.clone()), Rc::new(recorder.clone()), Some(recorder))
            }
            other => return Err(Error::invalid(format!("storage must be \"memory\" or \"indexeddb\", not {other:?}"))),
        };
        let mut app = Application::new(name, recorder);
        for (aggregate, every) in every {
            app.snapshot_every(aggregate, every)?;
        }
        if let Some(keep) = keep {
            app.keep_snapshots(keep as usize)?;
        }
        if let Some(size) = section_size {
            app.section_size(size.min(MAX_PAGE) as usize)?;
        }
        for (name, stored) in stored_as {
            app.registry_mut().store_as(name, stored)?;
        }
        app.set_codec(codec);
        app.check_codec().await?;
        Ok(CoreApplication { shared: Shared::new(app, views, sync, indexeddb) })
    }
}

#[wasm_bindgen]
extern "C" {
    /// `Date.prototype.getTime.call(date)`, caught: an object that only inherits from `Date` throws.
    #[wasm_bindgen(catch, js_namespace = ["Date", "prototype", "getTime"], js_name = call)]
    fn time_of(date: &JsValue) -> std::result::Result<f64, JsValue>;
}

/// `get` options: `{ version }`, `{ at: Date }` or neither (the latest).
fn at(options: &JsValue) -> Result<At> {
    let mut options = Options::new(options, "get options")?;
    let version = options.whole("version", 0)?;
    let time = options.get("at")?;
    options.done()?;
    match (version, time) {
        (Some(_), Some(_)) => Err(Error::invalid("ask for a version or a time, not both")),
        (Some(version), None) => Ok(At::Version(version)),
        (None, Some(time)) => {
            let date = time.dyn_ref::<js_sys::Date>().filter(|d| time_of(d).is_ok_and(|t| !t.is_nan()));
            let date = date.ok_or_else(|| Error::invalid("get options.at must be a valid Date"))?;
            // A Date names a millisecond; events are stamped to the microsecond (Python's
            // are): the state at a Date takes in every event of its millisecond, so that an
            // aggregate got at its own `modifiedOn` (or an event's `timestamp`) includes it.
            let millisecond = parse_iso(&String::from(date.to_iso_string()))?;
            Ok(At::Time(millisecond + chrono::Duration::microseconds(999)))
        }
        (None, None) => Ok(At::Latest),
    }
}

/// Record requests `[{ aggregate, id?, event, data, expectedVersion? }]` as new events.
pub(crate) fn new_events(requests: &JsValue, what: &str) -> Result<Vec<NewEvent>> {
    // One budget for the whole call: each event within bounds is not enough when there are millions.
    let mut budget = Budget::default();
    each(requests, what, &format!("{what} takes an array of events"), |i, count, request| {
        let label = if count == 1 { "the event".to_owned() } else { format!("event {i}") };
        if request.is_undefined() {
            return Err(Error::invalid(format!("{label} must be an object, not undefined")));
        }
        let mut fields = Options::new(&request, &label)?;
        let id = fields.get("id")?.map(|v| id(&v, &format!("{label}.id"))).transpose()?;
        let expected = fields.version_before("expectedVersion")?;
        let (aggregate, event, data) = (fields.get("aggregate")?, fields.get("event")?, fields.get("data")?);
        fields.done()?;
        let undefined = JsValue::UNDEFINED;
        new_event(
            aggregate.as_ref().unwrap_or(&undefined),
            id,
            event.as_ref().unwrap_or(&undefined),
            data.as_ref().unwrap_or(&undefined),
            expected,
            &label,
            &mut budget,
        )
    })
}

/// One new event, checked: a defined aggregate type and event, plain JSON data.
fn new_event(
    aggregate: &JsValue,
    id: Option<uuid::Uuid>,
    event: &JsValue,
    data: &JsValue,
    expected: Option<i64>,
    label: &str,
    budget: &mut Budget,
) -> Result<NewEvent> {
    let aggregate = name(aggregate, &format!("{label}: the aggregate type"))?;
    let event = name(event, &format!("{label}: the event name"))?;
    let payload = to_json_within(data, budget, || format!("{label}: the data of {aggregate}.{event}"))?;
    if !payload.is_object() {
        return Err(Error::invalid(format!("{label}: the data of {aggregate}.{event} must be a plain object")));
    }
    Ok(NewEvent { aggregate_type: aggregate, id, event, payload, expected_version: expected })
}

/// Where a recorded event went: `{ id?, version, notificationId }`.
fn recorded_js(recorded: &crate::application::Recorded, with_id: bool) -> Result<JsValue> {
    let out = if with_id {
        serde_json::json!({ "id": recorded.id.to_string(), "version": recorded.version, "notificationId": recorded.notification_id })
    } else {
        serde_json::json!({ "version": recorded.version, "notificationId": recorded.notification_id })
    };
    from_json(&out)
}
