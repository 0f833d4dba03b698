//! Interop with the Python `eventsourcing` library, checked against real output
//! of version 9.5.6 (`tests/reference/`, copied from the shared reference).

#![cfg(not(target_arch = "wasm32"))]

mod contract;

use std::rc::Rc;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tributary::persistence::{AggregateRecorder, ApplicationRecorder, Cipher, Codec, MemoryApplicationRecorder, StoredEvent};
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
    // `originator_topic` is the Created event's envelope, not its data: taken off
    // on the way in, written back (first, as Python does) on the way out.
    assert_eq!(Value::Object(first.payload), json!({"name": "Fido 🐕 é"}));
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

/// The codec a case's `env` configures, as the Python library reads it.
fn codec_of(case: &Value) -> Codec {
    let env = &case["env"];
    let codec = Codec::plain().compressed(env.get("COMPRESSOR_TOPIC").is_some());
    match env["CIPHER_KEY"].as_str() {
        Some(key) => codec.encrypted(key).unwrap(),
        None => codec,
    }
}

fn app_with(codec: Codec) -> Application {
    let mut app = app();
    app.set_codec(codec);
    app
}

#[test]
fn every_compressed_and_encrypted_case_decodes_to_the_plain_events_and_snapshot() {
    let plain = app();
    let expected: Vec<DomainEvent> =
        records(&case("plain")["stored_events"]).iter().map(|s| plain.mapper().to_domain_event(s).unwrap()).collect();
    let snapshot = plain.mapper().to_snapshot(&records(&case("plain")["snapshots"])[0]).unwrap();
    for label in ["zlib", "aes", "zlib+aes"] {
        let case = case(label);
        let app = app_with(codec_of(&case));
        let events: Vec<DomainEvent> = records(&case["stored_events"]).iter().map(|s| app.mapper().to_domain_event(s).unwrap()).collect();
        assert_eq!(events, expected, "case {label}");
        assert_eq!(app.mapper().to_snapshot(&records(&case["snapshots"])[0]).unwrap(), snapshot, "case {label}");
        // What we store in turn reads back the same (a fresh nonce each time, so not the same bytes).
        for event in &expected {
            let stored = app.mapper().to_stored_event(event).unwrap();
            assert_eq!(&app.mapper().to_domain_event(&stored).unwrap(), event, "case {label}");
        }
    }
}

#[test]
fn aes_encrypts_to_the_python_bytes_given_the_same_nonce() {
    let vectors = vectors();
    let key = vectors["cipher_key_b64"].as_str().unwrap();
    let nonce: [u8; 12] = (0..12)
        .map(|i| u8::from_str_radix(&vectors["nonce_hex"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let cipher = Cipher::new(key).unwrap();
    let plain = case("plain");
    let aes = case("aes");
    for list in ["stored_events", "snapshots"] {
        for (clear, encrypted) in records(&plain[list]).into_iter().zip(records(&aes[list])) {
            assert_eq!(cipher.encrypt(&nonce, clear.state.clone()).unwrap(), encrypted.state, "{list} v{}", clear.originator_version);
            assert_eq!(cipher.decrypt(&encrypted.state).unwrap(), clear.state);
        }
    }
    // zlib+aes: the same nonce over Python's zlib bytes gives Python's bytes too.
    for (compressed, both) in records(&case("zlib")["stored_events"]).into_iter().zip(records(&case("zlib+aes")["stored_events"])) {
        assert_eq!(cipher.encrypt(&nonce, compressed.state).unwrap(), both.state);
    }
}

#[test]
fn any_zlib_stream_decodes_whatever_its_level() {
    let plain = app();
    let stored = records(&case("plain")["stored_events"]);
    let app = app_with(Codec::plain().compressed(true));
    for level in 0..=10 {
        for record in &stored {
            let state = miniz_oxide::deflate::compress_to_vec_zlib(&record.state, level);
            let event = app.mapper().to_domain_event(&StoredEvent { state, ..record.clone() }).unwrap();
            assert_eq!(event, plain.mapper().to_domain_event(record).unwrap(), "level {level}");
        }
    }
}

#[test]
fn a_wrong_missing_or_malformed_key_is_a_cipher_error() {
    let aes = records(&case("aes")["stored_events"]);
    let both = records(&case("zlib+aes")["stored_events"]);
    let wrong = STANDARD.encode([7u8; 32]);
    for (codec, records) in [
        (Codec::plain(), &aes),                            // no key
        (Codec::plain().compressed(true), &both),          // compressed, no key
        (Codec::plain().encrypted(&wrong).unwrap(), &aes), // wrong key
        (Codec::plain().compressed(true).encrypted(&wrong).unwrap(), &both),
    ] {
        let app = app_with(codec.clone());
        for record in records {
            let error = app.mapper().to_domain_event(record).unwrap_err();
            assert!(matches!(error, tributary::Error::Cipher(_)), "{codec:?}: {error}");
            assert_eq!(error.name(), "CipherError");
        }
    }
    let mut tampered = aes[0].clone();
    let last = tampered.state.len() - 1;
    tampered.state[last] ^= 1;
    let key = vectors()["cipher_key_b64"].as_str().unwrap().to_owned();
    assert!(matches!(
        app_with(Codec::plain().encrypted(&key).unwrap()).mapper().to_domain_event(&tampered),
        Err(tributary::Error::Cipher(_))
    ));
    for key in ["", "not base64!", "AAAA", &STANDARD.encode([1u8; 20]), &STANDARD.encode([1u8; 64])] {
        assert!(matches!(Codec::plain().encrypted(key), Err(tributary::Error::Cipher(_))), "{key:?}");
    }
    for key in [16, 24, 32].map(|n| STANDARD.encode(vec![3u8; n])) {
        let cipher = Cipher::new(&key).unwrap();
        assert_eq!(cipher.decrypt(&cipher.encrypt(&[9; 12], b"{}".to_vec()).unwrap()).unwrap(), b"{}");
    }
}

#[test]
fn a_zlib_bomb_is_refused_not_inflated() {
    let huge = vec![b' '; tributary::persistence::MAX_INFLATED + 1];
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&huge, 9);
    drop(huge);
    let record = StoredEvent { state: bomb, ..records(&case("plain")["stored_events"])[0].clone() };
    let error = app_with(Codec::plain().compressed(true)).mapper().to_domain_event(&record).unwrap_err();
    assert!(matches!(error, tributary::Error::Corrupt(_)), "{error}");
}
