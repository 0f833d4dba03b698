//! Devices of the sync tests: each its own log in memory and the core's sync
//! client, over real HTTP, to one tenant's application on a server.

#![allow(dead_code)]

use std::rc::Rc;

use serde_json::json;
use tributary::persistence::{MemoryApplicationRecorder, NotificationQuery};
use tributary::sync::{SyncClient, SyncOptions};
use tributary::{Aggregate, Application, NewEvent, Root};
use uuid::Uuid;

use crate::dog::Dog;
use crate::support::{Ureq, TOKEN};

/// A device: its own log (in memory) and a sync client to one application.
pub struct Device {
    pub app: Application,
    pub sync: SyncClient,
}

/// A device of the tenant `acme` syncing with the application at `url`.
pub fn device(url: &str) -> Device {
    device_with(url, TOKEN)
}

/// A device syncing with the application at `url`, with a tenant's token.
pub fn device_with(url: &str, token: &str) -> Device {
    device_of(SyncOptions { token: Some(token.into()), batch: 7, ..SyncOptions::new(url) })
}

/// A device of the tenant `acme` asking for `batch` events per request.
pub fn device_with_batch(url: &str, batch: usize) -> Device {
    device_of(SyncOptions { token: Some(TOKEN.into()), batch, ..SyncOptions::new(url) })
}

fn device_of(options: SyncOptions) -> Device {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    let sync = SyncClient::new(app.clone(), recorder, Rc::new(Ureq), options).unwrap();
    Device { app, sync }
}

pub fn trick(id: Uuid, trick: &str) -> NewEvent {
    NewEvent {
        aggregate_type: "Dog".into(),
        id: Some(id),
        event: "TrickAdded".into(),
        payload: json!({ "trick": trick }),
        expected_version: None,
    }
}

pub async fn register(device: &Device, name: &str) -> Uuid {
    let mut dog = Root::<Dog>::create_with_id(Dog::create_id(name), "Registered", json!({ "name": name })).unwrap();
    device.app.save(&mut [&mut dog]).await.unwrap();
    dog.id()
}

/// Every event of the device's log, as (aggregate, version, topic, state).
pub async fn events(app: &Application) -> Vec<(Uuid, u64, String, Vec<u8>)> {
    let mut all: Vec<_> = app
        .notifications(&NotificationQuery::new(1, 100_000))
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.originator_id, n.originator_version, n.topic, n.state))
        .collect();
    all.sort();
    all
}
