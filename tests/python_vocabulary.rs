//! Python's vocabulary on the wire: aggregate types stored under `module:Class`
//! topics, Created events naming `originator_topic`, aggregates counting from
//! version 0, and the transcoder's custom types in payloads.

#![cfg(not(target_arch = "wasm32"))]

mod contract;
mod peer;

use std::rc::Rc;

use contract::dog::Dog;
use futures::executor::block_on;
use peer::{python_peer, short};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tributary::application::NewEvent;
use tributary::persistence::{
    AggregateRecorder, ApplicationRecorder, EventQuery, MemoryApplicationRecorder, NotificationQuery, StoredEvent,
};
use tributary::{Aggregate, Application, At, DomainEvent, Error, EventType, Result, Root};
use uuid::Uuid;

fn dogschool() -> (Application, Rc<MemoryApplicationRecorder>) {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    app.registry_mut().store_as("Dog", "dogschool:Dog").unwrap();
    (app, recorder)
}

fn state(stored: &StoredEvent) -> Value {
    serde_json::from_slice(&stored.state).unwrap()
}

#[test]
fn a_mapped_type_is_stored_under_its_python_topic_and_read_back_under_its_own() {
    block_on(async {
        let (app, recorder) = dogschool();
        let mut dog = Root::<Dog>::create("Registered", json!({ "name": "Fido" })).unwrap();
        dog.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
        app.save(&mut [&mut dog]).await.unwrap();
        let stored = recorder.select_events(dog.id(), EventQuery::all()).await.unwrap();
        assert_eq!(stored.iter().map(|e| e.topic.as_str()).collect::<Vec<_>>(), ["dogschool:Dog.Registered", "dogschool:Dog.TrickAdded"]);
        // The Created event names its aggregate's topic right after the timestamp, as Python writes it.
        let text = String::from_utf8(stored[0].state.clone()).unwrap();
        assert!(text.starts_with(r#"{"timestamp":{"_type_":"datetime_iso","_data_":"#), "{text}");
        assert!(text.contains(r#"},"originator_topic":"dogschool:Dog","name":"Fido"}"#), "{text}");
        assert!(state(&stored[1]).get("originator_topic").is_none(), "only the Created event carries it");
        // Read back under tributary's names, with the data as recorded.
        let events = app.events(dog.id(), EventQuery::all()).await.unwrap();
        assert_eq!(events.iter().map(|e| e.topic.as_str()).collect::<Vec<_>>(), ["Dog.Registered", "Dog.TrickAdded"]);
        assert_eq!(Value::Object(events[0].payload.clone()), json!({ "name": "Fido" }));
        assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().state(), dog.state());
        // Snapshots name the stored topic too, and read back.
        app.take_snapshot(dog.id(), None).await.unwrap();
        let snapshot = recorder.snapshots().select_events(dog.id(), EventQuery::all()).await.unwrap().remove(0);
        assert_eq!(state(&snapshot)["topic"], "dogschool:Dog");
        assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().state(), dog.state());
        // A filter by tributary's topic finds events stored under the Python one.
        let query = NotificationQuery { topics: vec!["Dog.TrickAdded".into()], ..NotificationQuery::new(1, 10) };
        assert_eq!(app.notifications(&query).await.unwrap().len(), 1);
    });
}

#[test]
fn events_stored_before_the_mapping_read_as_well() {
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut before = Application::new("dogschool", recorder.clone());
        before.register::<Dog>();
        let mut dog = Root::<Dog>::create("Registered", json!({ "name": "Rex" })).unwrap();
        before.save(&mut [&mut dog]).await.unwrap();
        let mut after = Application::new("dogschool", recorder.clone());
        after.register::<Dog>();
        after.registry_mut().store_as("Dog", "dogschool:Dog").unwrap();
        let mut dog = after.get::<Dog>(dog.id()).await.unwrap();
        dog.trigger("TrickAdded", json!({ "trick": "fetch" })).unwrap();
        after.save(&mut [&mut dog]).await.unwrap();
        assert_eq!(after.get::<Dog>(dog.id()).await.unwrap().state().tricks, ["fetch"]);
        let topics: Vec<String> = recorder.select_events(dog.id(), EventQuery::all()).await.unwrap().into_iter().map(|e| e.topic).collect();
        assert_eq!(topics, ["Dog.Registered", "dogschool:Dog.TrickAdded"]);
    });
}

#[test]
fn stored_topics_are_checked() {
    let (mut app, _) = dogschool();
    for bad in ["", "dogschool:Dog.", "dog school:Dog"] {
        assert!(matches!(app.registry_mut().store_as("Dog", bad), Err(Error::Validation(_))), "{bad:?}");
    }
    assert!(matches!(app.registry_mut().store_as("Cat", "dogschool:Dog"), Err(Error::Validation(m)) if m.contains("already")));
}

/// A BIOMERO-like aggregate: its first event is version 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Run {
    name: String,
    steps: u32,
}

impl Aggregate for Run {
    const TYPE: &'static str = "Run";
    const EVENTS: &'static [EventType] = &[EventType::new("Initiated"), EventType::new("Stepped")];
    const INITIAL_VERSION: u64 = 0;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Initiated" => self.name = event.field("name")?,
            _ => self.steps += 1,
        }
        Ok(())
    }
}

#[test]
fn aggregates_counting_from_zero_save_replay_travel_and_conflict() {
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut app = Application::new("runs", recorder.clone());
        app.register::<Run>();
        let mut run = Root::<Run>::create("Initiated", json!({ "name": "segment" })).unwrap();
        assert_eq!(run.version(), 0);
        run.trigger("Stepped", json!({})).unwrap();
        app.save(&mut [&mut run]).await.unwrap();
        let stored = recorder.select_events(run.id(), EventQuery::all()).await.unwrap();
        assert_eq!(stored.iter().map(|e| e.originator_version).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(state(&stored[0])["originator_topic"], "Run", "the event at the initial version is the Created one");
        assert_eq!(app.get::<Run>(run.id()).await.unwrap().state(), &Run { name: "segment".into(), steps: 1 });
        assert_eq!(app.get_at::<Run>(run.id(), At::Version(0)).await.unwrap().state().steps, 0);
        // By name: -1 is "must not exist yet", 0 is "after the first event".
        let new = |id, expected| NewEvent {
            aggregate_type: "Run".into(),
            id: Some(id),
            event: "Stepped".into(),
            payload: json!({}),
            expected_version: expected,
        };
        let recorded = app.record(&[new(run.id(), Some(1))]).await.unwrap();
        assert_eq!(recorded[0].version, 2);
        assert!(matches!(app.record(&[new(run.id(), Some(0))]).await, Err(Error::Conflict { originator_version: 1, .. })));
        assert!(matches!(app.record(&[new(run.id(), Some(-1))]).await, Err(Error::Conflict { originator_version: 0, .. })));
        let fresh = Uuid::new_v4();
        let first = NewEvent { event: "Initiated".into(), payload: json!({ "name": "track" }), ..new(fresh, Some(-1)) };
        assert_eq!(app.record(&[first]).await.unwrap()[0].version, 0);
        assert_eq!(app.record(&[new(fresh, None)]).await.unwrap()[0].version, 1);
        // Snapshots at version 0 and replays from them.
        let mut other = Root::<Run>::create("Initiated", json!({ "name": "classify" })).unwrap();
        app.save(&mut [&mut other]).await.unwrap();
        app.take_snapshot(other.id(), None).await.unwrap();
        assert_eq!(recorder.snapshots().select_events(other.id(), EventQuery::all()).await.unwrap()[0].originator_version, 0);
        assert_eq!(app.get::<Run>(other.id()).await.unwrap().version(), 0);
    });
}

#[test]
fn the_transcoders_custom_types_read_as_plain_json() {
    block_on(async {
        let (app, recorder) = dogschool();
        let id = Uuid::new_v4();
        let state = json!({
            "timestamp": { "_type_": "datetime_iso", "_data_": "2024-01-02T03:04:05.678901+00:00" },
            "originator_topic": "dogschool:Dog",
            "name": "Fido",
            "owner": { "_type_": "uuid_hex", "_data_": "12345678123456781234567812345678" },
            "fee": { "_type_": "decimal_str", "_data_": "12.50" },
            "visits": [{ "at": { "_type_": "datetime_iso", "_data_": "2024-05-06T07:08:09+00:00" } }],
            "odd": { "_type_": "uuid_hex", "_data_": "not hex" },
            "more": { "_type_": "uuid_hex", "_data_": "12345678123456781234567812345678", "x": 1 }
        });
        let stored = StoredEvent {
            originator_id: id,
            originator_version: 1,
            topic: "dogschool:Dog.Registered".into(),
            state: serde_json::to_vec(&state).unwrap(),
        };
        recorder.insert_events(&[stored]).await.unwrap();
        let event = app.events(id, EventQuery::all()).await.unwrap().remove(0);
        assert_eq!(
            Value::Object(event.payload),
            json!({
                "name": "Fido",
                "owner": "12345678-1234-5678-1234-567812345678",
                "fee": "12.50",
                "visits": [{ "at": "2024-05-06T07:08:09+00:00" }],
                "odd": { "_type_": "uuid_hex", "_data_": "not hex" },
                "more": { "_type_": "uuid_hex", "_data_": "12345678123456781234567812345678", "x": 1 }
            })
        );
    });
}

/// Doubles from random bit patterns (finite ones), by a fixed xorshift.
fn doubles(count: usize) -> Vec<f64> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let value = f64::from_bits(seed);
        if value.is_finite() {
            out.push(value);
        }
    }
    out
}

#[test]
fn numbers_and_strings_are_written_byte_for_byte_as_the_python_transcoder_writes_them() {
    block_on(async {
        let (app, recorder) = dogschool();
        let edges = [
            0.0,
            -0.0,
            1.0,
            0.1,
            1e-4,
            1e-5,
            1e-7,
            123.456,
            1e15,
            1e16,
            1.5e16,
            1e20,
            1e21,
            1e22,
            1.5e300,
            5e-324,
            2.2250738585072014e-308,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            9007199254740993.0,
            4503599627370496.5,
        ];
        let mut payloads = vec![
            json!({ "edges": edges, "negated": edges.map(|e| -e) }),
            json!({ "integers": [0, -1, 9007199254740993u64, -9007199254740993i64, u64::MAX, i64::MIN] }),
            json!({ "text": "\"\\/\u{0}\u{1f}\u{7f}\u{2028}\u{2029}\t\n\r\u{8}\u{c} é 🐕 \u{feff}", "long": "ß".repeat(100_000) }),
        ];
        payloads.extend(doubles(4000).chunks(200).map(|chunk| json!({ "bits": chunk })));
        let mut ids = Vec::new();
        for payload in &payloads {
            let id = Uuid::new_v4();
            app.save_events(&[DomainEvent::new(id, 1, "Dog.Registered", chrono::Utc::now(), payload.clone()).unwrap()]).await.unwrap();
            ids.push(id);
        }
        let mut states = Vec::new();
        for id in &ids {
            states.push(recorder.select_events(*id, EventQuery::all()).await.unwrap().remove(0).state);
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let lines: String = states.iter().map(|s| format!("{}\n", base64::Engine::encode(&b64, s))).collect();
        let output = python_peer("transcode.py", lines);
        let python_states: Vec<Vec<u8>> =
            String::from_utf8(output.stdout).unwrap().lines().map(|l| base64::Engine::decode(&b64, l).unwrap()).collect();
        assert_eq!(python_states.len(), states.len());
        for (ours, theirs) in states.iter().zip(&python_states) {
            assert!(ours == theirs, "tributary wrote\n{}\nPython writes\n{}", short(ours), short(theirs));
        }
        // and each reads back as written
        for (id, payload) in ids.iter().zip(&payloads) {
            let read = app.events(*id, EventQuery::all()).await.unwrap().remove(0);
            assert_eq!(serde_json::to_string(&Value::Object(read.payload)).unwrap(), serde_json::to_string(payload).unwrap());
        }
    });
}

/// An object of just the keys `_type_` and `_data_` is how Python's transcoder
/// marks a custom type: one in a payload or a snapshot state (generated: any
/// name, any data, at any depth) would read back as something else (a UUID, a
/// string) or not at all (Python raises for a name it does not know), so it is
/// a `ValidationError` and nothing is written. Objects that only look like one
/// (another key beside, one of the two alone) are stored and read back as they were.
#[test]
fn an_object_shaped_like_a_python_custom_type_is_refused_and_nothing_is_written() {
    block_on(async {
        let (app, recorder) = dogschool();
        let names = [json!("uuid_hex"), json!("datetime_iso"), json!("decimal_str"), json!("tuple_as_list"), json!(7)];
        let data = [json!("12345678123456781234567812345678"), json!("2024-01-02T03:04:05+00:00"), json!("1.5"), json!([1]), json!(null)];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let nest = |value: Value, depth: usize, next: &mut dyn FnMut(usize) -> usize| {
            (0..depth).fold(value, |inner, _| if next(2) == 0 { json!([1, inner]) } else { json!({ "k": inner, "n": 1 }) })
        };
        let registered = |extra: Value| NewEvent {
            aggregate_type: "Dog".into(),
            id: None,
            event: "Registered".into(),
            payload: json!({ "name": "Fido", "extra": extra }),
            expected_version: None,
        };
        for _ in 0..40 {
            let marker = json!({ "_type_": names[next(names.len())], "_data_": data[next(data.len())] });
            let extra = nest(marker, next(4), &mut next);
            let error = app.record(&[registered(extra.clone())]).await.unwrap_err();
            assert!(matches!(error, Error::Validation(_)), "{extra}: {error}");
            let look_alike = match next(3) {
                0 => json!({ "_type_": "uuid_hex", "_data_": "12345678123456781234567812345678", "x": 1 }),
                1 => json!({ "_type_": "uuid_hex" }),
                _ => json!({ "_data_": "1.5", "y": [] }),
            };
            let kept = nest(look_alike, next(4), &mut next);
            let id = app.record(&[registered(kept.clone())]).await.unwrap()[0].id;
            assert_eq!(app.events(id, EventQuery::all()).await.unwrap()[0].payload["extra"], kept);
        }
        assert_eq!(app.max_notification_id().await.unwrap(), 40, "only the look-alikes were written");
        let _ = recorder;
    });
}

/// A state built by `apply` into such an object: snapshotting it is a
/// `ValidationError`, nothing is written, and the aggregate still replays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Tagged {
    tag: Value,
}

impl Aggregate for Tagged {
    const TYPE: &'static str = "Tagged";
    const EVENTS: &'static [EventType] = &[EventType::new("Tagged")];

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        self.tag = json!({ "_type_": event.field::<String>("name")?, "_data_": event.field::<Value>("data")? });
        Ok(())
    }
}

#[test]
fn a_state_shaped_like_a_python_custom_type_is_not_snapshotted() {
    block_on(async {
        let recorder = Rc::new(MemoryApplicationRecorder::new());
        let mut app = Application::new("tags", recorder.clone());
        app.register::<Tagged>();
        let mut tagged = Root::<Tagged>::create("Tagged", json!({ "name": "decimal_str", "data": "1.5" })).unwrap();
        app.save(&mut [&mut tagged]).await.unwrap();
        let error = app.take_snapshot(tagged.id(), None).await.unwrap_err();
        assert!(matches!(error, Error::Validation(_)), "{error}");
        assert!(recorder.snapshots().select_events(tagged.id(), EventQuery::all()).await.unwrap().is_empty());
        assert_eq!(app.get::<Tagged>(tagged.id()).await.unwrap().state().tag, json!({ "_type_": "decimal_str", "_data_": "1.5" }));
    });
}

/// A payload nested deeper than tributary reads back (written, it would make
/// its aggregate unreadable) is a `ValidationError` and nothing is written; up
/// to 100 levels, counting the payload, as a page may give, it round-trips.
#[test]
fn a_payload_nested_too_deep_to_read_back_is_refused_and_nothing_is_written() {
    block_on(async {
        let (app, recorder) = dogschool();
        for depth in [1, 98, 99, 100, 126, 127, 128, 500] {
            let payload = json!({ "name": "Fido", "deep": (0..depth).fold(json!(1), |inner, i| if i % 2 == 0 { json!([inner]) } else { json!({ "k": inner }) }) });
            let id = Uuid::new_v4();
            let event = DomainEvent::new(id, 1, "Dog.Registered", chrono::Utc::now(), payload.clone()).unwrap();
            match app.save_events(&[event]).await {
                Ok(_) if depth <= 99 => {
                    let read = app.events(id, EventQuery::all()).await.unwrap_or_else(|e| panic!("depth {depth}: written, then {e}"));
                    assert_eq!(Value::Object(read[0].payload.clone()), payload, "depth {depth}");
                }
                Err(Error::Validation(why)) if depth > 99 => {
                    assert!(why.contains("deep") && why.contains("nests deeper than 100 levels"), "{why}");
                    assert!(recorder.select_events(id, EventQuery::all()).await.unwrap().is_empty());
                }
                other => panic!("depth {depth}: {other:?}"),
            }
        }
    });
}
