//! Every contract suite on the IndexedDB adapter in headless Chromium, each
//! test on a fresh database that is deleted afterwards; then what only
//! IndexedDB can do wrong.

#![cfg(target_arch = "wasm32")]

use futures::future::join;
use tributary::indexeddb::{delete_database, IndexedDbRecorder};
use tributary::persistence::{AggregateRecorder, ApplicationRecorder, EventQuery, NotificationQuery};
use tributary::Error;
use uuid::Uuid;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[macro_use]
mod contract;

use contract::stored;

async fn fresh(test: &str) -> IndexedDbRecorder {
    IndexedDbRecorder::open(&format!("tributary-test-{test}-{}", Uuid::new_v4())).await.unwrap()
}

/// An `events` row as another connection would write it: notification 1, version 1.
fn raw_event_row(id: Uuid, state: JsValue) -> js_sys::Object {
    let row = js_sys::Object::new();
    for (key, value) in [
        ("id", JsValue::from(1)),
        ("originator_id", JsValue::from(id.to_string())),
        ("originator_version", JsValue::from(1)),
        ("topic", JsValue::from("Dog.Registered")),
        ("state", state),
    ] {
        js_sys::Reflect::set(&row, &key.into(), &value).unwrap();
    }
    row
}

async fn destroy(recorder: IndexedDbRecorder) {
    recorder.close();
    delete_database(recorder.name()).await.unwrap();
}

macro_rules! indexeddb {
    ($alias:ident, $suite:ident, $factory:expr, $($test:ident),* $(,)?) => {
        mod $alias {
            use wasm_bindgen_test::wasm_bindgen_test;
            $( #[wasm_bindgen_test] async fn $test() {
                let recorder = crate::fresh(stringify!($test)).await;
                crate::contract::$suite::$test(($factory)(&recorder)).await;
                crate::destroy(recorder).await;
            } )*
        }
    };
}

contract_suite!(indexeddb,
    events: |r: &tributary::indexeddb::IndexedDbRecorder| std::rc::Rc::new(r.clone()),
    snapshots: |r: &tributary::indexeddb::IndexedDbRecorder| tributary::persistence::ApplicationRecorder::snapshots(r),
    tracking: |r: &tributary::indexeddb::IndexedDbRecorder| std::rc::Rc::new(r.clone()),
    app: |r: &tributary::indexeddb::IndexedDbRecorder| crate::contract::application::Stores::new(std::rc::Rc::new(r.clone())),
    views: |r: &tributary::indexeddb::IndexedDbRecorder| std::rc::Rc::new(r.clone()),
    projection: |r: &tributary::indexeddb::IndexedDbRecorder| crate::contract::projection::ProjectionStores::of(std::rc::Rc::new(r.clone())),
    sync: |r: &tributary::indexeddb::IndexedDbRecorder| std::rc::Rc::new(r.clone()));

#[wasm_bindgen_test]
async fn a_conflict_keeps_the_browsers_constraint_error_message() {
    let recorder = fresh("constraint").await;
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 1, "Dog.Registered")]).await.unwrap();
    let error = recorder.insert_events(&[stored(id, 1, "Dog.Registered")]).await.unwrap_err();
    match &error {
        Error::Conflict { detail, originator_version: 1, .. } => assert!(detail.starts_with("ConstraintError: "), "{detail}"),
        other => panic!("{other:?}"),
    }
    destroy(recorder).await;
}

#[wasm_bindgen_test]
async fn what_is_written_is_there_after_reopening() {
    let recorder = fresh("reopen").await;
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 1, "Dog.Registered"), stored(id, 2, "Dog.TrickAdded")]).await.unwrap();
    recorder.close();
    let reopened = IndexedDbRecorder::open(recorder.name()).await.unwrap();
    assert_eq!(reopened.select_events(id, EventQuery::all()).await.unwrap().len(), 2);
    assert_eq!(reopened.insert_events(&[stored(id, 3, "Dog.TrickAdded")]).await.unwrap(), vec![3]);
    destroy(reopened).await;
}

#[wasm_bindgen_test]
async fn two_connections_writing_at_once_get_gap_free_ids_and_one_winner() {
    // Two connections to one database behave as two tabs do.
    let here = fresh("two-tabs").await;
    let there = IndexedDbRecorder::open(here.name()).await.unwrap();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let batch = |id| (1..=50).map(|v| stored(id, v, "Dog.TrickAdded")).collect::<Vec<_>>();
    let (batch_a, batch_b) = (batch(a), batch(b));
    let (ids_a, ids_b) = join(here.insert_events(&batch_a), there.insert_events(&batch_b)).await;
    let mut all: Vec<u64> = ids_a.unwrap().into_iter().chain(ids_b.unwrap()).collect();
    all.sort();
    assert_eq!(all, (1..=100).collect::<Vec<_>>());
    // both write version 51 of the same aggregate: exactly one wins
    let (one, other) = (stored(a, 51, "Dog.TrickAdded"), stored(a, 51, "Dog.TrickAdded"));
    let (first, second) = join(here.insert_events(std::slice::from_ref(&one)), there.insert_events(std::slice::from_ref(&other))).await;
    assert_eq!([first.is_ok(), second.is_ok()].iter().filter(|ok| **ok).count(), 1);
    assert!(matches!(first.err().or(second.err()), Some(Error::Conflict { originator_version: 51, .. })));
    let log = there.select_notifications(&NotificationQuery::new(1, 1000)).await.unwrap();
    assert_eq!(log.iter().map(|n| n.id).collect::<Vec<_>>(), (1..=101).collect::<Vec<_>>());
    there.close();
    destroy(here).await;
}

#[wasm_bindgen_test]
async fn a_database_from_a_newer_release_is_refused_clearly() {
    let name = format!("tributary-test-newer-{}", Uuid::new_v4());
    rexie::Rexie::builder(&name).version(tributary::indexeddb::SCHEMA_VERSION + 1).build().await.unwrap().close();
    let error = IndexedDbRecorder::open(&name).await.err().unwrap();
    assert!(matches!(&error, Error::Storage(m) if m.contains("newer release") && m.contains("VersionError")), "{error:?}");
    delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_database_that_is_not_tributarys_is_refused_clearly() {
    let name = format!("tributary-test-foreign-{}", Uuid::new_v4());
    let foreign = rexie::Rexie::builder(&name).version(1).add_object_store(rexie::ObjectStore::new("things")).build().await.unwrap();
    foreign.close();
    let error = IndexedDbRecorder::open(&name).await.err().unwrap();
    assert!(matches!(&error, Error::Storage(m) if m.contains("not a tributary database")), "{error:?}");
    let still = rexie::Rexie::builder(&name).build().await.unwrap();
    assert_eq!(still.store_names(), vec!["things"], "the other app's store is untouched");
    still.close();
    delete_database(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_closed_connection_gives_a_storage_error_and_writes_nothing() {
    let recorder = fresh("closed").await;
    recorder.close();
    let error = recorder.insert_events(&[stored(Uuid::new_v4(), 1, "Dog.Registered")]).await.unwrap_err();
    assert!(matches!(&error, Error::Storage(m) if m.contains("closed")), "{error:?}");
    assert_eq!(error.name(), "StorageError");
    let reopened = IndexedDbRecorder::open(recorder.name()).await.unwrap();
    assert_eq!(reopened.max_notification_id().await.unwrap(), None);
    destroy(reopened).await;
}

#[wasm_bindgen_test]
async fn a_corrupt_row_is_a_typed_error() {
    let recorder = fresh("corrupt").await;
    let id = Uuid::new_v4();
    // Another connection at the same version (no upgrade, so no schema change)
    // writes a row whose state is a string, not bytes.
    let raw = rexie::Rexie::builder(recorder.name()).version(tributary::indexeddb::SCHEMA_VERSION).build().await.unwrap();
    let row = raw_event_row(id, JsValue::from("not bytes"));
    let transaction = raw.transaction(&["events"], rexie::TransactionMode::ReadWrite).unwrap();
    transaction.store("events").unwrap().add(&row, None).await.unwrap();
    transaction.done().await.unwrap();
    raw.close();

    let error = recorder.select_events(id, EventQuery::all()).await.unwrap_err();
    assert!(matches!(&error, Error::Corrupt(m) if m.contains("state is not bytes") && m.contains(&id.to_string())), "{error:?}");
    let error = recorder.select_notifications(&NotificationQuery::new(1, 10)).await.unwrap_err();
    assert_eq!(error.name(), "CorruptRecordError");
    destroy(recorder).await;
}

#[wasm_bindgen_test]
async fn a_version_1_database_is_upgraded_in_place_keeping_its_events() {
    let name = format!("tributary-test-upgrade-{}", Uuid::new_v4());
    // the schema of release 1: events, snapshots, tracking; and one event in it
    let v1 = rexie::Rexie::builder(&name)
        .version(1)
        .add_object_store(
            rexie::ObjectStore::new("events")
                .key_path("id")
                .add_index(rexie::Index::new_array("position", ["originator_id", "originator_version"]).unique(true))
                .add_index(rexie::Index::new_array("topic", ["topic", "id"])),
        )
        .add_object_store(rexie::ObjectStore::new("snapshots").key_path_array(["originator_id", "originator_version"]))
        .add_object_store(rexie::ObjectStore::new("tracking").key_path_array(["application_name", "notification_id"]))
        .build()
        .await
        .unwrap();
    let id = Uuid::new_v4();
    let row = raw_event_row(id, js_sys::Uint8Array::from(&b"{}"[..]).into());
    let transaction = v1.transaction(&["events"], rexie::TransactionMode::ReadWrite).unwrap();
    transaction.store("events").unwrap().add(&row, None).await.unwrap();
    transaction.done().await.unwrap();
    v1.close();
    // this release opens it, adding the rows store, and keeps the event
    let upgraded = IndexedDbRecorder::open(&name).await.unwrap();
    assert_eq!(
        upgraded.select_events(id, EventQuery::all()).await.unwrap(),
        vec![tributary::persistence::StoredEvent {
            originator_id: id,
            originator_version: 1,
            topic: "Dog.Registered".into(),
            state: b"{}".to_vec()
        }]
    );
    assert_eq!(upgraded.insert_events(&[stored(id, 2, "Dog.TrickAdded")]).await.unwrap(), vec![2]);
    let view = tributary::persistence::ViewDefinition::new("v", &[], &[]).unwrap();
    let tracking = tributary::persistence::Tracking { application_name: "v".into(), notification_id: 1 };
    let changes = [("k".to_string(), Some(serde_json::json!(1)))].into_iter().collect();
    tributary::persistence::ViewRecorder::commit_view(&upgraded, &view, &changes, None, &tracking).await.unwrap();
    destroy(upgraded).await;
}

#[wasm_bindgen_test]
async fn appends_through_two_connections_see_each_others_events_and_never_gap() {
    use tributary::Application;
    let first = fresh("appends").await;
    let second = IndexedDbRecorder::open(first.name()).await.unwrap();
    let app = |recorder: &IndexedDbRecorder| {
        let mut app = Application::new("dogschool", std::rc::Rc::new(recorder.clone()));
        app.register::<contract::dog::Dog>();
        app
    };
    let (one, two) = (app(&first), app(&second));
    let id = Uuid::new_v4();
    let trick = |n: u64| dog_event(id, n + 1);
    // each connection remembers what it wrote last; the other moves on meanwhile
    let mut versions = Vec::new();
    for n in 0..12 {
        let app = if (n / 3) % 2 == 0 { &one } else { &two };
        versions.push(app.record(&[trick(n)]).await.unwrap()[0]);
    }
    assert_eq!(versions.iter().map(|r| r.version).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
    assert_eq!(versions.iter().map(|r| r.notification_id).collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>());
    // and both at once: one queues behind the other, nothing conflicts or gaps
    let (a, b) = join(one.record(&[trick(12)]), two.record(&[trick(13)])).await;
    let mut both = vec![a.unwrap()[0].version, b.unwrap()[0].version];
    both.sort();
    assert_eq!(both, vec![13, 14]);
    let dog = one.get::<contract::dog::Dog>(id).await.unwrap();
    assert_eq!((dog.version(), dog.state().tricks.len()), (14, 13));
    second.close();
    destroy(first).await;
}

#[wasm_bindgen_test]
async fn an_append_after_events_were_removed_takes_the_next_version_left() {
    use tributary::persistence::{Removal, SyncRecorder, SyncWrite};
    use tributary::Application;
    let first = fresh("removed").await;
    let second = IndexedDbRecorder::open(first.name()).await.unwrap();
    let mut app = Application::new("dogschool", std::rc::Rc::new(first.clone()));
    app.register::<contract::dog::Dog>();
    let id = Uuid::new_v4();
    let trick = |n: u64| dog_event(id, n);
    let removal = |notification_id, originator_version| Removal { notification_id, originator_id: id, originator_version };
    for n in 1..=4 {
        app.record(&[trick(n)]).await.unwrap();
    }
    // Sync removes version 4 through another connection, then version 3 through
    // this one: each time, `first` had seen the removed version as the newest.
    second.write_sync(SyncWrite { removed: &[removal(4, 4)], ..SyncWrite::default() }).await.unwrap();
    assert_eq!(app.record(&[trick(5)]).await.unwrap()[0].version, 4, "after a removal by another connection");
    app.record(&[trick(6)]).await.unwrap();
    let newest = first.select_events(id, EventQuery::all()).await.unwrap().len() as u64;
    let newest_id = first.max_notification_id().await.unwrap().unwrap();
    first.write_sync(SyncWrite { removed: &[removal(newest_id, newest)], ..SyncWrite::default() }).await.unwrap();
    assert_eq!(app.record(&[trick(7)]).await.unwrap()[0].version, newest, "after a removal by this connection");
    let versions: Vec<u64> = first.select_events(id, EventQuery::all()).await.unwrap().iter().map(|e| e.originator_version).collect();
    assert_eq!(versions, (1..=newest).collect::<Vec<_>>(), "no version is missing");
    let dog = app.get::<contract::dog::Dog>(id).await.unwrap();
    assert_eq!(dog.version(), newest);
    second.close();
    destroy(first).await;
}

/// The `n`-th event of a dog recorded through an application: registered, then tricks.
fn dog_event(id: Uuid, n: u64) -> tributary::NewEvent {
    use serde_json::json;
    tributary::NewEvent {
        aggregate_type: "Dog".into(),
        id: Some(id),
        event: if n == 1 { "Registered".into() } else { "TrickAdded".into() },
        payload: if n == 1 { json!({"name": "Fido"}) } else { json!({"trick": format!("t{n}")}) },
        expected_version: None,
    }
}
