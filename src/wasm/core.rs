//! `Core`: one application as the TypeScript facade drives it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::js_error;
use super::js_fold::{js_upcaster, JsFold};
use super::json::{
    parse, parse_id, to_json, AggregateJs, AtJs, Definition, EventJs, NotificationJs, NotificationsQuery, Options, RecordRequest,
    RecordedJs,
};
use crate::application::{Application, At, NewEvent};
use crate::domain::{parse_iso, to_iso, AggregateType};
use crate::error::{Error, Result};
use crate::indexeddb::IndexedDbRecorder;
use crate::persistence::{EventQuery, MemoryApplicationRecorder, NotificationQuery, ViewDefinition, ViewRecorder};
use crate::projection::Projection;
use crate::system::Policy;

/// A view's definition and the projection that fills it.
pub(super) type DefinedView = (ViewDefinition, Rc<dyn Projection>);

/// The topics and policy an application follows a leader with.
pub(super) type Following = (Vec<String>, Rc<dyn Policy>);

/// How many notifications one `notifications` call returns at most.
const MAX_NOTIFICATIONS: usize = 10_000;

/// An open application. Every async method returns a promise of JSON (or
/// rejects with a typed `Error`).
#[wasm_bindgen]
pub struct Core {
    /// Replaced, not mutated, when a type is defined, so that calls in flight
    /// keep the application they started with.
    app: RefCell<Rc<Application>>,
    indexeddb: Option<IndexedDbRecorder>,
    pub(super) views: Rc<dyn ViewRecorder>,
    /// View name -> its definition and projection.
    pub(super) projections: RefCell<HashMap<String, DefinedView>>,
    /// Leader name -> the topics and policy this application follows it with.
    pub(super) followed: RefCell<HashMap<String, Following>>,
    closed: Cell<bool>,
}

#[wasm_bindgen]
impl Core {
    /// Opens the application `name` in `"memory"` or `"indexeddb"` storage.
    pub async fn open(name: String, storage: String, options: String) -> std::result::Result<Core, JsValue> {
        Self::opened(name, storage, options).await.map_err(js_error)
    }

    /// Registers an aggregate type: its events' schema versions and its fold.
    #[wasm_bindgen(js_name = defineAggregate)]
    pub fn define_aggregate(
        &self,
        name: String,
        definition: String,
        initial: Function,
        fold: Function,
    ) -> std::result::Result<(), JsValue> {
        let definition: Definition = parse("aggregate definition", &definition).map_err(js_error)?;
        let fold = Rc::new(JsFold { aggregate: name.clone(), initial, fold });
        let aggregate = AggregateType { name, schema_version: definition.schema_version, events: definition.events, fold };
        self.update(|app| app.registry_mut().register(aggregate))
    }

    /// Registers an upcaster of an event topic's (or an aggregate's snapshot) payload from schema `from`.
    #[wasm_bindgen(js_name = defineUpcaster)]
    pub fn define_upcaster(&self, key: String, from: u32, upcast: Function) -> std::result::Result<(), JsValue> {
        self.update(|app| {
            app.registry_mut().upcaster(key.clone(), from, js_upcaster(format!("upcaster of {key} from {from}"), upcast));
            Ok(())
        })
    }

    /// Records events (JSON array of requests) atomically; resolves to where they went.
    pub fn record(&self, requests: String) -> Promise {
        self.run(|app| async move {
            let requests: Vec<RecordRequest> = parse("record requests", &requests)?;
            let new = requests
                .into_iter()
                .map(|r| {
                    Ok(NewEvent {
                        aggregate_type: r.aggregate,
                        id: r.id.as_deref().map(parse_id).transpose()?,
                        event: r.event,
                        payload: r.data,
                        expected_version: r.expected_version,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let recorded = app.record(&new).await?;
            to_json(
                &recorded
                    .iter()
                    .map(|r| RecordedJs { id: r.id.to_string(), version: r.version, notification_id: r.notification_id })
                    .collect::<Vec<_>>(),
            )
        })
    }

    /// An aggregate, latest or as of `{version}` or `{at}` (ISO time).
    pub fn get(&self, aggregate: String, id: String, at: String) -> Promise {
        self.run(|app| async move {
            let id = parse_id(&id)?;
            let at = match parse::<AtJs>("get options", &at)? {
                AtJs { version: Some(_), at: Some(_) } => return Err(Error::invalid("ask for a version or a time, not both")),
                AtJs { version: Some(version), .. } => At::Version(version),
                AtJs { at: Some(time), .. } => At::Time(parse_iso(&time)?),
                _ => At::Latest,
            };
            app.registry().aggregate(&aggregate)?;
            let replayed = app.replay(id, at).await?;
            if replayed.aggregate_type != aggregate {
                return Err(Error::invalid(format!("aggregate {id} is a {}, not a {aggregate}", replayed.aggregate_type)));
            }
            to_json(&AggregateJs {
                id: id.to_string(),
                aggregate,
                version: replayed.version,
                created_on: to_iso(&replayed.created_on),
                modified_on: to_iso(&replayed.modified_on),
                state: replayed.state,
            })
        })
    }

    /// An aggregate's events, oldest first.
    pub fn history(&self, id: String) -> Promise {
        self.run(|app| async move {
            let events = app.events(parse_id(&id)?, EventQuery::all()).await?;
            to_json(&events.iter().map(EventJs::new).collect::<Vec<_>>())
        })
    }

    /// Decoded notifications after a position, optionally of some topics only.
    pub fn notifications(&self, query: String) -> Promise {
        self.run(|app| async move {
            let query: NotificationsQuery = parse("notifications options", &query)?;
            let limit = query.limit.unwrap_or(100);
            if limit > MAX_NOTIFICATIONS {
                return Err(Error::invalid(format!("limit {limit} is above {MAX_NOTIFICATIONS}; read in pages")));
            }
            let select = NotificationQuery { start: query.after + 1, limit, stop: query.up_to, topics: query.topics };
            let notifications = app.notifications(&select).await?;
            let events = notifications.iter().map(|n| app.mapper().to_domain_event(&n.stored_event())).collect::<Result<Vec<_>>>()?;
            let out: Vec<_> = notifications
                .iter()
                .zip(&events)
                .map(|(n, e)| NotificationJs { notification_id: n.id, topic: &e.topic, event: EventJs::new(e) })
                .collect();
            to_json(&out)
        })
    }

    /// A section of the log, exactly as the Python library serves it.
    pub fn section(&self, id: String) -> Promise {
        self.run(|app| async move { Ok(app.notification_log().section(&id).await?.to_json()) })
    }

    /// Snapshots an aggregate at its latest version; resolves to `{version}`.
    #[wasm_bindgen(js_name = takeSnapshot)]
    pub fn take_snapshot(&self, aggregate: String, id: String) -> Promise {
        self.run(|app| async move {
            let id = parse_id(&id)?;
            let snapshot = app.take_snapshot(id, None).await?;
            if snapshot.aggregate_type != aggregate {
                return Err(Error::invalid(format!("aggregate {id} is a {}, not a {aggregate}", snapshot.aggregate_type)));
            }
            Ok(format!("{{\"version\":{}}}", snapshot.originator_version))
        })
    }

    /// Closes the application; later calls fail with a `StorageError`.
    pub fn close(&self) {
        self.closed.set(true);
        if let Some(recorder) = &self.indexeddb {
            recorder.close();
        }
    }
}

impl Core {
    async fn opened(name: String, storage: String, options: String) -> Result<Core> {
        let options: Options = if options.is_empty() { Options::default() } else { parse("options", &options)? };
        let (recorder, views, indexeddb): (Rc<dyn crate::persistence::ApplicationRecorder>, Rc<dyn ViewRecorder>, _) =
            match storage.as_str() {
                "memory" => {
                    let recorder = Rc::new(MemoryApplicationRecorder::new());
                    (recorder.clone(), recorder, None)
                }
                "indexeddb" => {
                    let recorder = IndexedDbRecorder::open(&format!("tributary:{name}")).await?;
                    (Rc::new(recorder.clone()), Rc::new(recorder.clone()), Some(recorder))
                }
                other => return Err(Error::invalid(format!("storage must be \"memory\" or \"indexeddb\", not {other:?}"))),
            };
        let mut app = Application::new(name, recorder);
        for (aggregate, every) in options.snapshot_every {
            app.snapshot_every(aggregate, every)?;
        }
        if let Some(keep) = options.keep_snapshots {
            app.keep_snapshots(keep)?;
        }
        if let Some(size) = options.section_size {
            app.section_size(size)?;
        }
        Ok(Core {
            app: RefCell::new(Rc::new(app)),
            indexeddb,
            views,
            projections: RefCell::new(HashMap::new()),
            followed: RefCell::new(HashMap::new()),
            closed: Cell::new(false),
        })
    }

    pub(super) fn current(&self) -> Result<Rc<Application>> {
        if self.closed.get() {
            return Err(Error::Storage(format!("application {:?} is closed; open it again", self.app.borrow().name())));
        }
        Ok(self.app.borrow().clone())
    }

    /// Changes a copy of the application and puts it in place.
    pub(super) fn update(&self, change: impl FnOnce(&mut Application) -> Result<()>) -> std::result::Result<(), JsValue> {
        let mut app = (*self.current().map_err(js_error)?).clone();
        change(&mut app).map_err(js_error)?;
        *self.app.borrow_mut() = Rc::new(app);
        Ok(())
    }

    /// Runs an operation on the current application as a promise of a string.
    pub(super) fn run<F, Fut>(&self, operation: F) -> Promise
    where
        F: FnOnce(Rc<Application>) -> Fut,
        Fut: Future<Output = Result<String>> + 'static,
    {
        match self.current() {
            Ok(app) => {
                let running = operation(app);
                future_to_promise(async move { running.await.map(JsValue::from).map_err(js_error) })
            }
            Err(error) => Promise::reject(&js_error(error)),
        }
    }
}
