//! `CoreFollower`: this application following a leader's log with a
//! JavaScript policy (a process application). The core saves each upstream
//! event's new events with its tracking record; the facade decides when to step.

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::application::new_events;
use super::args::{whole, Options};
use super::events::{thenable, to_js, EventJs};
use super::failure::{handler_threw, js_error, JsResult};
use super::shared::{promise, Shared};
use super::view::step_js;
use crate::application::Application;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::projection::Notified;
use crate::system::{Policy, ProcessApplication};

/// This application following one leader.
#[wasm_bindgen]
pub struct CoreFollower {
    me: Rc<Shared>,
    leader: Rc<Shared>,
    /// The leader's name, kept: a closed leader cannot say it, and its tracking keeps it.
    leader_name: String,
    topics: Vec<String>,
    policy: RefCell<Rc<dyn Policy>>,
    /// What the policy gets as its second argument (the facade's application).
    app: JsValue,
}

#[wasm_bindgen]
impl CoreFollower {
    /// The leader's name.
    #[wasm_bindgen(getter)]
    pub fn leader(&self) -> String {
        self.leader_name.clone()
    }

    /// Replaces the policy (after a fix): `{ topics?, policy }`, with the same topics as before.
    pub fn redefine(&self, definition: JsValue) -> JsResult<()> {
        self.me.app().map_err(js_error)?;
        let (topics, policy) = read_definition(&self.leader(), &definition, &self.app).map_err(js_error)?;
        if topics != self.topics {
            return Err(js_error(Error::invalid(format!(
                "following {:?} uses topics {:?}; they cannot change",
                self.leader(),
                self.topics
            ))));
        }
        *self.policy.borrow_mut() = policy;
        Ok(())
    }

    /// Processes up to `limit` of the leader's new notifications.
    pub fn step(&self, limit: JsValue) -> Promise {
        promise((|| {
            let limit = whole(&limit, "limit", 1)?.min(10_000) as usize;
            let (me, leader) = (self.me.app()?, self.leader.app()?);
            let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
            let process = ProcessApplication::new((*me).clone(), self.policy.borrow().clone(), &topics);
            Ok(async move { step_js(&process.step(&leader, limit).await?) })
        })())
    }

    /// The id of the last of the leader's notifications processed here.
    pub fn position(&self) -> Promise {
        let leader = self.leader();
        promise(
            self.me.app().map(|me| async move { Ok(JsValue::from_f64(me.recorder().max_tracking_id(&leader).await?.unwrap_or(0) as f64)) }),
        )
    }

    /// Resolves once the leader's notification `id` is processed here; a `TimeoutError` after `{ timeoutMs }`;
    /// at once when `wanted()` (if given) says nobody waits any more. Wrong arguments
    /// throw at once, so the facade hears of them before anything else.
    pub fn wait(&self, id: JsValue, options: JsValue, wanted: Option<Function>) -> JsResult<Promise> {
        let me = self.me.app().map_err(js_error)?;
        let (id, timeout) = super::view::wait_args(&id, &options).map_err(js_error)?;
        let leader = self.leader();
        let wanted = move || super::view::still_wanted(&wanted);
        Ok(promise(Ok(async move { me.recorder().wait_while(&leader, id, timeout, &wanted).await.map(|()| JsValue::UNDEFINED) })))
    }
}

impl CoreFollower {
    pub(crate) fn defined(me: Rc<Shared>, leader: Rc<Shared>, definition: &JsValue, app: JsValue) -> Result<CoreFollower> {
        let name = leader.app()?.name().to_owned();
        // The position is kept with the follower: it must not outlive the log it counts.
        if me.persistent() && !leader.persistent() {
            return Err(Error::invalid(format!(
                "{name:?} is kept in memory and this application in IndexedDB: its position there would outlive {name:?}'s log \
                 (after a reload, the new events up to it would be skipped); open both in IndexedDB, or this one in memory too"
            )));
        }
        // Followed before, a leader in memory opened again holds a new log, behind the position kept.
        if !leader.persistent() && me.followed.borrow().contains(&name) {
            return Err(Error::invalid(format!(
                "{name:?} is kept in memory and was opened again: its log started again, behind the position this application \
                 reached in the one before, so its new events would be skipped; open this application again too"
            )));
        }
        let (topics, policy) = read_definition(&name, definition, &app)?;
        me.claim_position(&name, true)?;
        Ok(CoreFollower { me, leader, leader_name: name, topics, policy: RefCell::new(policy), app })
    }
}

/// `{ topics?, policy }`, checked.
fn read_definition(leader: &str, definition: &JsValue, app: &JsValue) -> Result<(Vec<String>, Rc<dyn Policy>)> {
    let mut options = Options::new(definition, &format!("following {leader}"))?;
    let topics = options.names("topics")?.unwrap_or_default();
    let policy = options.function("policy", "the policy(event, app)")?;
    options.done()?;
    Ok((topics, Rc::new(JsPolicy { leader: leader.to_owned(), policy, app: app.clone() })))
}

/// A policy written in JavaScript: `policy(event, app) -> requests` (or a promise of them).
struct JsPolicy {
    leader: String,
    policy: Function,
    app: JsValue,
}

#[async_trait(?Send)]
impl Policy for JsPolicy {
    async fn process(&self, event: &Notified, follower: &Application) -> Result<Vec<DomainEvent>> {
        let function_name = format!("the policy following {:?}", self.leader);
        let event_js = to_js(&[EventJs::notified(event)])?.get(0);
        let mut out = self.policy.call2(&JsValue::NULL, &event_js, &self.app).map_err(|e| handler_threw(&function_name, &e))?;
        if let Some(pending) = thenable(&out) {
            out = JsFuture::from(pending).await.map_err(|e| handler_threw(&function_name, &e))?;
        }
        let new = new_events(&out, &format!("what {function_name} returned")).map_err(|e| Error::Handler(e.to_string()))?;
        follower.prepare(&new).await
    }
}
