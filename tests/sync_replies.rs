//! The core's sync client against a hostile server: replies generated from a
//! seed that no honest server sends fail the round with a `SyncError` (so live
//! sync backs off and retries), and leave the local log and the sync state as
//! they were.

#![cfg(not(target_arch = "wasm32"))]

#[path = "contract/dog.rs"]
mod dog;

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use futures::executor::block_on;
use serde_json::{json, Value};
use tributary::application::notifications_to_json;
use tributary::persistence::{MemoryApplicationRecorder, NotificationQuery};
use tributary::sync::{Http, Request, Response, SyncClient, SyncOptions};
use tributary::{Application, Error, NewEvent};

use dog::Dog;

/// A server that answers each route with what the test set.
#[derive(Default)]
struct Scripted {
    notifications: RefCell<String>,
    /// What pulls from past the first notification get (none when `None`).
    later: RefCell<Option<String>>,
    push: RefCell<(u16, String)>,
}

#[async_trait(?Send)]
impl Http for Scripted {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let (status, body) = if request.url.contains("/notifications?") {
            let first = request.url.contains("start=1&");
            let later = self.later.borrow().clone().unwrap_or_else(|| "[]".into());
            (200, if first { self.notifications.borrow().clone() } else { later })
        } else if request.url.ends_with("/push") {
            self.push.borrow().clone()
        } else {
            (200, r#"{"max_notification_id": 0}"#.into())
        };
        Ok(Response { status, body: body.into_bytes(), more: false })
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize % n
    }
}

fn dog_school() -> (Application, Rc<MemoryApplicationRecorder>) {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    (app, recorder)
}

fn device(server: &Rc<Scripted>) -> (Application, SyncClient) {
    let (app, recorder) = dog_school();
    let sync = SyncClient::new(app.clone(), recorder, server.clone(), SyncOptions::new("http://server.test/acme/dogs")).unwrap();
    (app, sync)
}

fn tricks(count: usize, dogs: usize) -> Vec<NewEvent> {
    (0..count)
        .map(|i| NewEvent {
            aggregate_type: "Dog".into(),
            id: Some(uuid::Uuid::from_u128(1 + (i % dogs) as u128)),
            event: if i < dogs { "Registered" } else { "TrickAdded" }.into(),
            payload: if i < dogs { json!({ "name": "Rex" }) } else { json!({ "trick": format!("t{i}") }) },
            expected_version: None,
        })
        .collect()
}

/// What a round must leave as it was: the log, the position reached, what is pending.
async fn written(app: &Application, sync: &SyncClient) -> (u64, u64, u64) {
    (app.max_notification_id().await.unwrap(), sync.position().await.unwrap(), sync.pending_count().await.unwrap())
}

async fn refused(sync: &SyncClient, what: &str) {
    match sync.round(&mut |_| {}).await {
        Err(Error::Sync(message)) => assert!(message.contains("malformed"), "{what}: {message}"),
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn a_pulled_page_holding_an_aggregate_version_twice_is_a_malformed_reply_and_writes_nothing() {
    block_on(async {
        // a server's honest page of notifications
        let (origin, _) = dog_school();
        origin.record(&tricks(40, 4)).await.unwrap();
        let honest: Vec<Value> =
            serde_json::from_str(&notifications_to_json(&origin.notifications(&NotificationQuery::new(1, 100)).await.unwrap())).unwrap();
        let mut rng = Rng(0x5eed_0f5e_ed01);
        for round in 0..100 {
            // when one item is repeated later in the page, under a later id
            let mut page: Vec<Value> = honest[..2 + rng.below(honest.len() - 2)].to_vec();
            let from = rng.below(page.len());
            let to = from + 1 + rng.below(page.len() - from);
            page.insert(to, page[from].clone());
            for (i, item) in page.iter_mut().enumerate() {
                item["id"] = json!(i + 1);
            }
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = serde_json::to_string(&page).unwrap();
            let (app, sync) = device(&server);
            let before = written(&app, &sync).await;
            // then the round fails as for any malformed reply, and nothing is pulled
            refused(&sync, &format!("round {round}")).await;
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}

#[test]
fn a_push_reply_giving_notification_id_0_is_a_malformed_reply_and_the_events_stay_pending() {
    block_on(async {
        let mut rng = Rng(0x0ddb_a11d_5eed_0002);
        for round in 0..50 {
            // given a device with local events to push
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = "[]".into();
            let (app, sync) = device(&server);
            let count = 1 + rng.below(20);
            app.record(&tricks(count, 1 + rng.below(count))).await.unwrap();
            let before = written(&app, &sync).await;
            // when the server's reply gives the first of them id 0, the rest increasing after it
            let mut ids = vec![0];
            for _ in 1..count {
                ids.push(ids.last().unwrap() + 1 + rng.below(3) as u64);
            }
            *server.push.borrow_mut() = (200, json!({ "notification_ids": ids, "position": count }).to_string());
            // then the round fails as for any malformed reply, and every event is still to be pushed
            refused(&sync, &format!("round {round}: {ids:?}")).await;
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}

#[test]
fn a_conflict_reply_naming_an_event_the_push_did_not_hold_is_a_malformed_reply() {
    block_on(async {
        let mut rng = Rng(0x0c0f_11c7_5eed_0003);
        for round in 0..50 {
            // given a device with local events to push
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = "[]".into();
            let (app, sync) = device(&server);
            let count = 1 + rng.below(10);
            let dogs = 1 + rng.below(count);
            app.record(&tricks(count, dogs)).await.unwrap();
            let before = written(&app, &sync).await;
            // when the server refuses the push for a version of an aggregate it did not hold
            let (id, version) = match rng.below(3) {
                0 => (uuid::Uuid::from_u128(1 + dogs as u128), 1),
                1 => (uuid::Uuid::from_u128(1), count as u64 + 1 + rng.below(5) as u64),
                _ => (uuid::Uuid::nil(), 1),
            };
            let conflict = json!({ "position": 1, "originator_id": id.simple().to_string(), "originator_version": version });
            let reply = json!({ "error": "ConflictError", "message": "taken", "conflicts": [conflict] });
            *server.push.borrow_mut() = (409, reply.to_string());
            // then the round fails as for any malformed reply, and nothing changes
            refused(&sync, &format!("round {round}: {id} v{version}")).await;
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}

#[test]
fn a_pulled_page_repeating_an_aggregate_version_pulled_before_is_a_sync_error_and_writes_nothing() {
    block_on(async {
        let (origin, _) = dog_school();
        origin.record(&tricks(40, 4)).await.unwrap();
        let honest: Vec<Value> =
            serde_json::from_str(&notifications_to_json(&origin.notifications(&NotificationQuery::new(1, 100)).await.unwrap())).unwrap();
        let mut rng = Rng(0x5eed_0f5e_ed04);
        for round in 0..30 {
            // given a device that pulled the server's first notifications
            let pulled = 1 + rng.below(honest.len() - 1);
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = serde_json::to_string(&honest[..pulled]).unwrap();
            let (app, sync) = device(&server);
            sync.round(&mut |_| {}).await.unwrap();
            let before = written(&app, &sync).await;
            // when the next page serves new ones, then one of those again under a later id
            let mut page: Vec<Value> = honest[pulled..].iter().take(rng.below(5)).cloned().collect();
            page.push(honest[rng.below(pulled)].clone());
            for (i, item) in page.iter_mut().enumerate() {
                item["id"] = json!(pulled + 1 + i);
            }
            *server.later.borrow_mut() = Some(serde_json::to_string(&page).unwrap());
            // then the round fails as when the network does, and nothing of the page is written
            match sync.round(&mut |_| {}).await {
                Err(Error::Sync(message)) => assert!(message.contains("in the local log already"), "round {round}: {message}"),
                other => panic!("round {round}: {other:?}"),
            }
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}

#[test]
fn a_pulled_id_or_version_above_2_pow_53_is_a_malformed_reply_and_writes_nothing() {
    block_on(async {
        let (origin, _) = dog_school();
        origin.record(&tricks(6, 2)).await.unwrap();
        let honest: Vec<Value> =
            serde_json::from_str(&notifications_to_json(&origin.notifications(&NotificationQuery::new(1, 100)).await.unwrap())).unwrap();
        let mut rng = Rng(0x5eed_0f5e_ed05);
        for round in 0..40 {
            // given a page whose last item has an id or a version no JS number holds exactly (nor IndexedDB)
            let mut page = honest.clone();
            let big = (1u64 << 53) + rng.below(1_000) as u64 * if round % 4 == 0 { 1 << 10 } else { 1 };
            let field = if round % 2 == 0 { "id" } else { "originator_version" };
            page.last_mut().unwrap()[field] = json!(big);
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = serde_json::to_string(&page).unwrap();
            let (app, sync) = device(&server);
            let before = written(&app, &sync).await;
            // then the round fails as for any malformed reply, and nothing is pulled
            refused(&sync, &format!("round {round}: {field} {big}")).await;
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}

#[test]
fn a_push_reply_giving_an_id_above_2_pow_53_is_a_malformed_reply_and_the_events_stay_pending() {
    block_on(async {
        let mut rng = Rng(0x0ddb_a11d_5eed_0006);
        for round in 0..20 {
            // given a device with local events to push
            let server = Rc::new(Scripted::default());
            *server.notifications.borrow_mut() = "[]".into();
            let (app, sync) = device(&server);
            let count = 1 + rng.below(10);
            app.record(&tricks(count, 1 + rng.below(count))).await.unwrap();
            let before = written(&app, &sync).await;
            // when the server gives the last of them an id past 2^53 - 1
            let mut ids: Vec<u64> = (1..count as u64).collect();
            ids.push((1 << 53) + rng.below(100) as u64);
            *server.push.borrow_mut() = (200, json!({ "notification_ids": ids, "position": count }).to_string());
            // then the round fails as for any malformed reply, and every event is still to be pushed
            refused(&sync, &format!("round {round}: {ids:?}")).await;
            assert_eq!(written(&app, &sync).await, before, "round {round}");
        }
    });
}
