//! Interop with the Python `eventsourcing` library, checked against real output
//! of version 9.5.6 (`tests/reference/`, copied from the shared reference).

#![cfg(not(target_arch = "wasm32"))]

mod contract;

use std::rc::Rc;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tributary::persistence::{AggregateRecorder, ApplicationRecorder, MemoryApplicationRecorder, StoredEvent};
use tributary::{Aggregate, Application, At, DomainEvent, EventType, Result};
use uuid::Uuid;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/eventsourcing-9.5.6-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the reference vectors in tests/reference")).unwrap()
}

fn case(label: &str) -> Value {
    vectors()["cases"].as_array().unwrap().iter().find(|c| c["label"] == label).unwrap().clone()
}

fn records(list: &Value) -> Vec<StoredEvent> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| StoredEvent {
            originator_id: r["originator_id"].as_str().unwrap().parse().unwrap(),
            originator_version: r["originator_version"].as_u64().unwrap(),
            topic: r["topic"].as_str().unwrap().into(),
            state: STANDARD.decode(r["state_b64"].as_str().unwrap()).unwrap(),
        })
        .collect()
}

/// The tutorial's Dog as Python names it: topics `__main__:Dog.Registered`, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct PythonDog {
    name: String,
    #[serde(default)]
    tricks: Vec<String>,
}

impl Aggregate for PythonDog {
    const TYPE: &'static str = "__main__:Dog";
    const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Registered" => self.name = event.field("name")?,
            _ => self.tricks.push(event.field("trick")?),
        }
        Ok(())
    }
}

fn app() -> Application {
    let mut app = Application::new("dogschool", Rc::new(MemoryApplicationRecorder::new()));
    app.register::<PythonDog>();
    app
}

#[test]
fn python_stored_events_decode_and_encode_back_byte_for_byte() {
    let app = app();
    for stored in records(&case("plain")["stored_events"]) {
        let event = app.mapper().to_domain_event(&stored).unwrap();
        assert_eq!(app.mapper().to_stored_event(&event).unwrap(), stored, "{}", event.topic);
    }
    let first = app.mapper().to_domain_event(&records(&case("plain")["stored_events"])[0]).unwrap();
    assert_eq!(Value::Object(first.payload), json!({"originator_topic": "__main__:Dog", "name": "Fido 🐕 é"}));
    assert_eq!(tributary::domain::to_iso(&first.timestamp), "2024-01-02T03:04:05.678901+00:00");
}

#[test]
fn a_python_snapshot_decodes_and_encodes_back_byte_for_byte() {
    let app = app();
    let stored = records(&case("plain")["snapshots"]).remove(0);
    let snapshot = app.mapper().to_snapshot(&stored).unwrap();
    assert_eq!((snapshot.aggregate_type.as_str(), snapshot.originator_version), ("__main__:Dog", 2));
    assert_eq!(snapshot.state, json!({"name": "Fido 🐕 é", "tricks": ["roll over"]}));
    assert_eq!(app.mapper().to_stored_snapshot(&snapshot).unwrap(), stored);
}

#[test]
fn a_python_aggregate_replays_from_its_events_and_from_its_snapshot() {
    futures::executor::block_on(async {
        let plain = case("plain");
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let snapshots = recorder.snapshots();
        recorder.insert_events(&records(&plain["stored_events"])).await.unwrap();
        let id: Uuid = "12345678-1234-5678-1234-567812345678".parse().unwrap();
        let mut app = Application::new("dogschool", recorder);
        app.register::<PythonDog>();
        let full = app.get::<PythonDog>(id).await.unwrap();
        snapshots.insert_events(&records(&plain["snapshots"])).await.unwrap();
        let from_snapshot = app.get::<PythonDog>(id).await.unwrap();
        assert_eq!(full, from_snapshot);
        assert_eq!(full.state(), &PythonDog { name: "Fido 🐕 é".into(), tricks: vec!["roll over".into(), "play dead".into()] });
        assert_eq!(app.get_at::<PythonDog>(id, At::Version(2)).await.unwrap().state().tricks, vec!["roll over"]);
    });
}

#[test]
fn section_json_is_byte_identical_to_the_python_service_for_every_case() {
    futures::executor::block_on(async {
        for label in ["plain", "zlib", "aes", "zlib+aes"] {
            let case = case(label);
            let recorder = Rc::new(MemoryApplicationRecorder::new());
            recorder.insert_events(&records(&case["stored_events"])).await.unwrap();
            let app = Application::new("dogschool", recorder);
            let json = app.notification_log().section("1,10").await.unwrap().to_json();
            assert_eq!(json, case["log_section_1_10_raw"].as_str().unwrap(), "case {label}");
            let parsed: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, case["log_section_1_10"], "case {label}");
        }
    });
}
