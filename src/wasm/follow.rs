//! Process applications from JavaScript: this application follows a leader's
//! log with a JS policy that returns record requests for its own aggregates;
//! the core saves them with the leader's notification as tracking record.

use std::rc::Rc;

use async_trait::async_trait;
use js_sys::{Function, Promise};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::core::Core;
use super::js_error;
use super::js_fold::thrown;
use super::json::{parse, parse_id, to_json, EventJs, NotificationJs, RecordRequest};
use crate::application::{Application, NewEvent};
use crate::domain::{id_from_name, DomainEvent};
use crate::error::{Error, Result};
use crate::projection::Notified;
use crate::system::{Policy, ProcessApplication};

/// A policy written in JavaScript: `policy(notificationJson) -> Promise<requestsJson>`.
pub(super) struct JsPolicy {
    leader: String,
    policy: Function,
}

#[async_trait(?Send)]
impl Policy for JsPolicy {
    async fn process(&self, event: &Notified, follower: &Application) -> Result<Vec<DomainEvent>> {
        let notification =
            NotificationJs { notification_id: event.notification_id, topic: &event.event.topic, event: EventJs::new(&event.event) };
        let function = format!("the policy following {:?}", self.leader);
        let promise = self.policy.call1(&JsValue::NULL, &JsValue::from_str(&to_json(&notification)?)).map_err(|e| thrown(&function, &e))?;
        let resolved = JsFuture::from(Promise::from(promise)).await.map_err(|e| thrown(&function, &e))?;
        let requests: Vec<RecordRequest> = parse("policy requests", &resolved.as_string().unwrap_or_default())?;
        let new = requests
            .into_iter()
            .map(|r| {
                let id = r.id.as_deref().map(parse_id).transpose()?;
                Ok(NewEvent { aggregate_type: r.aggregate, id, event: r.event, payload: r.data, expected_version: r.expected_version })
            })
            .collect::<Result<Vec<_>>>()?;
        follower.prepare(&new).await
    }
}

#[wasm_bindgen]
impl Core {
    /// Follows the application `leader` with a JS policy (`topics`: JSON array).
    pub fn follow(&self, leader: String, topics: String, policy: Function) -> std::result::Result<(), JsValue> {
        let topics: Vec<String> = parse("topics", &topics).map_err(js_error)?;
        self.followed.borrow_mut().insert(leader.clone(), (topics, Rc::new(JsPolicy { leader, policy })));
        Ok(())
    }

    /// Processes up to `limit` of `leader`'s new notifications, each saved with
    /// its tracking record; resolves to how many it processed.
    pub fn pull(&self, leader: &Core, limit: f64) -> Promise {
        let setup = (|| {
            let leader = leader.current()?;
            let followed = self.followed.borrow();
            let (topics, policy) =
                followed.get(leader.name()).ok_or_else(|| Error::invalid(format!("not following {:?}", leader.name())))?;
            Ok((leader, topics.clone(), policy.clone()))
        })();
        self.run(|me| async move {
            let (leader, topics, policy) = setup?;
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            let process = ProcessApplication::new((*me).clone(), policy, &topics);
            Ok(process.pull(&leader, limit.clamp(1.0, 10_000.0) as usize).await?.to_string())
        })
    }

    /// Resolves once `leader`'s notification `id` is processed here; a `TimeoutError` otherwise.
    #[wasm_bindgen(js_name = followWait)]
    pub fn follow_wait(&self, leader: String, id: f64, timeout_ms: f64) -> Promise {
        self.run(|me| async move {
            me.recorder().wait(&leader, id.max(0.0) as u64, timeout_ms.max(0.0) as u64).await?;
            Ok("null".to_owned())
        })
    }

    /// The id of the last of `leader`'s notifications processed here.
    #[wasm_bindgen(js_name = followPosition)]
    pub fn follow_position(&self, leader: String) -> Promise {
        self.run(|me| async move { Ok(me.recorder().max_tracking_id(&leader).await?.unwrap_or(0).to_string()) })
    }
}

/// The id derived from a name, as `Aggregate::create_id` derives it:
/// `uuid5(NAMESPACE_URL, "/{aggregate}/{name}")`.
#[wasm_bindgen(js_name = nameId)]
pub fn name_id(aggregate: &str, name: &str) -> String {
    id_from_name(&Uuid::NAMESPACE_URL, &format!("/{aggregate}/{name}")).to_string()
}
