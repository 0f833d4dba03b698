//! What an application's handles share: the application (replaced, not
//! mutated, when a type is defined, so that calls in flight keep the one they
//! began with), its JS-defined aggregates, its storage, and whether it is closed.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;

use super::aggregate::JsAggregate;
use super::failure::js_error;
use crate::application::Application;
use crate::by_name::ByName;
use crate::error::{Error, Result};
use crate::indexeddb::IndexedDbRecorder;
use crate::persistence::{SyncRecorder, ViewDefinition, ViewRecorder};
use crate::sync::TRACKING_PREFIX;

pub(crate) struct Shared {
    app: RefCell<Rc<Application>>,
    pub(crate) aggregates: RefCell<Rc<ByName<Rc<JsAggregate>>>>,
    pub(crate) views: Rc<dyn ViewRecorder>,
    pub(crate) sync: Rc<dyn SyncRecorder>,
    /// The views defined in this session: sync clears those that saw removed events.
    pub(crate) defined_views: RefCell<ByName<ViewDefinition>>,
    /// The applications this one follows, by name. A view's position is kept
    /// under its name as a follower's under its leader's: the names must differ.
    pub(crate) followed: RefCell<Vec<String>>,
    indexeddb: Option<IndexedDbRecorder>,
    closed: Cell<bool>,
}

impl Shared {
    pub(crate) fn new(
        app: Application,
        views: Rc<dyn ViewRecorder>,
        sync: Rc<dyn SyncRecorder>,
        indexeddb: Option<IndexedDbRecorder>,
    ) -> Rc<Self> {
        Rc::new(Shared {
            app: RefCell::new(Rc::new(app)),
            aggregates: RefCell::default(),
            views,
            sync,
            defined_views: RefCell::default(),
            followed: RefCell::default(),
            indexeddb,
            closed: Cell::new(false),
        })
    }

    /// Takes `name` for a view or (`followed`) for the position of a leader,
    /// refusing it if taken by the other kind, or if a sync's position may be
    /// kept under it: one tracking record would keep both positions.
    pub(crate) fn claim_position(&self, name: &str, followed: bool) -> Result<()> {
        if name.starts_with(TRACKING_PREFIX) {
            return Err(Error::invalid(format!(
                "{name:?} starts with {TRACKING_PREFIX:?}, under which a sync keeps its server position: name {} otherwise",
                if followed { "the application" } else { "the view" }
            )));
        }
        let (taken, by) = match followed {
            true => (self.defined_views.borrow().get(name).is_some(), "a view"),
            false => (self.followed.borrow().iter().any(|leader| leader == name), "an application it follows"),
        };
        if taken {
            return Err(Error::invalid(format!(
                "{name:?} names {by} of this application already: a view's position is kept under its name, a follower's under its leader's, so they must differ"
            )));
        }
        if followed && !self.followed.borrow().iter().any(|leader| leader == name) {
            self.followed.borrow_mut().push(name.to_owned());
        }
        Ok(())
    }

    /// The application as it is now; a storage error once closed.
    pub(crate) fn app(&self) -> Result<Rc<Application>> {
        if self.closed.get() {
            return Err(Error::Storage(format!("application {:?} is closed; open it again", self.app.borrow().name())));
        }
        Ok(self.app.borrow().clone())
    }

    /// Changes a copy of the application and puts it in place.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut Application) -> Result<T>) -> Result<T> {
        let mut app = (*self.app()?).clone();
        let out = change(&mut app)?;
        *self.app.borrow_mut() = Rc::new(app);
        Ok(out)
    }

    /// Whether the storage is IndexedDB, which the origin's tabs share.
    pub(crate) fn persistent(&self) -> bool {
        self.indexeddb.is_some()
    }

    pub(crate) fn close(&self) {
        self.closed.set(true);
        if let Some(recorder) = &self.indexeddb {
            recorder.close();
        }
    }
}

/// Runs an operation as a promise; a setup error rejects it at once.
pub(crate) fn promise<Fut>(operation: Result<Fut>) -> Promise
where
    Fut: Future<Output = Result<JsValue>> + 'static,
{
    match operation {
        Ok(running) => settle(Box::pin(running)),
        Err(error) => Promise::reject(&js_error(error)),
    }
}

/// The one promise path: boxing each operation's future here keeps the error
/// mapping and `future_to_promise` from being copied for every future type.
fn settle(running: Pin<Box<dyn Future<Output = Result<JsValue>>>>) -> Promise {
    future_to_promise(async move { running.await.map_err(js_error) })
}
