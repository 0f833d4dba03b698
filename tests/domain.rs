//! The domain layer alone: aggregates in given / when / then style, ids, events.

#![cfg(not(target_arch = "wasm32"))]

mod contract;

use chrono::Utc;
use contract::dog::Dog;
use serde_json::{json, Value};
use tributary::domain::{id_from_name, parse_iso, to_iso, Pending};
use tributary::{Aggregate, DomainEvent, Error, Result, Root};
use uuid::Uuid;

/// An aggregate with these events already saved.
struct Given<A>(Root<A>);

fn given<A: Aggregate>(events: &[(&str, Value)]) -> Given<A> {
    let ((first, payload), rest) = events.split_first().expect("at least the creating event");
    let mut root = Root::create(first, payload.clone()).unwrap();
    rest.iter().for_each(|(name, payload)| root.trigger(name, payload.clone()).unwrap());
    root.clear_pending();
    Given(root)
}

impl<A: Aggregate> Given<A> {
    fn when(mut self, command: impl FnOnce(&mut Root<A>) -> Result<()>) -> Then<A> {
        let outcome = command(&mut self.0);
        Then(self.0, outcome)
    }
}

struct Then<A>(Root<A>, Result<()>);

impl<A: Aggregate + std::fmt::Debug + PartialEq> Then<A> {
    fn then_expect_events(self, expected: &[(&str, Value)]) -> Root<A> {
        self.1.unwrap();
        let got: Vec<(String, Value)> =
            self.0.pending_events().iter().map(|e| (e.topic.clone(), Value::Object(e.payload.clone()))).collect();
        let expected: Vec<(String, Value)> = expected.iter().map(|(t, p)| (t.to_string(), p.clone())).collect();
        assert_eq!(got, expected);
        self.0
    }

    fn then_expect_error(self, expected: impl Fn(&Error) -> bool) {
        let error = self.1.expect_err("the command should fail");
        assert!(expected(&error), "unexpected error {error:?}");
        assert!(self.0.pending_events().is_empty(), "a failed command records nothing");
    }
}

/// The dog school's command: a dog learns each trick once.
fn add_trick(trick: &str) -> impl FnOnce(&mut Root<Dog>) -> Result<()> + '_ {
    move |dog| {
        if dog.state().tricks.iter().any(|t| t == trick) {
            return Err(Error::Validation(format!("{} already knows {trick}", dog.state().name)));
        }
        dog.trigger("TrickAdded", json!({ "trick": trick }))
    }
}

#[test]
fn a_registered_dog_learns_a_trick() {
    let dog = given::<Dog>(&[("Registered", json!({"name": "Fido"}))])
        .when(add_trick("roll over"))
        .then_expect_events(&[("Dog.TrickAdded", json!({"trick": "roll over"}))]);
    assert_eq!((dog.version(), dog.state().tricks.as_slice()), (2, ["roll over".to_owned()].as_slice()));
    assert_eq!(dog.pending_events()[0].originator_version, 2);
}

#[test]
fn a_dog_does_not_learn_a_trick_twice() {
    given::<Dog>(&[("Registered", json!({"name": "Fido"})), ("TrickAdded", json!({"trick": "sit"}))])
        .when(add_trick("sit"))
        .then_expect_error(|e| matches!(e, Error::Validation(m) if m == "Fido already knows sit"));
}

#[test]
fn state_is_the_fold_of_the_events() {
    let dog = given::<Dog>(&[
        ("Registered", json!({"name": "Fido"})),
        ("TrickAdded", json!({"trick": "sit"})),
        ("TrickAdded", json!({"trick": "beg"})),
    ]);
    assert_eq!(dog.0.state(), &Dog { name: "Fido".into(), tricks: vec!["sit".into(), "beg".into()] });
    assert_eq!(dog.0.version(), 3);
}

#[test]
fn ids_are_random_v4_or_derived_from_a_name_as_python_derives_them() {
    let a = Root::<Dog>::create("Registered", json!({"name": "Fido"})).unwrap();
    assert_eq!(a.id().get_version_num(), 4);
    assert_ne!(a.id(), Root::<Dog>::create("Registered", json!({"name": "Fido"})).unwrap().id());
    // Python: uuid5(NAMESPACE_URL, "/dogs/Fido"), as in the eventsourcing tutorial
    let expected: Uuid = "1e1d7398-8986-57af-bb01-11a89b2f8b02".parse().unwrap();
    assert_eq!(id_from_name(&Uuid::NAMESPACE_URL, "/dogs/Fido"), expected);
    assert_eq!(Dog::create_id("Fido"), id_from_name(&Uuid::NAMESPACE_URL, "/Dog/Fido"));
    assert_eq!(Dog::create_id("Fido"), Dog::create_id("Fido"));
}

#[test]
fn events_carry_their_position_topic_time_and_payload() {
    let before = Utc::now();
    let dog = Root::<Dog>::create("Registered", json!({"name": "Fido"})).unwrap();
    let event = &dog.pending_events()[0];
    assert_eq!(
        (event.originator_id, event.originator_version, event.topic.as_str(), event.name()),
        (dog.id(), 1, "Dog.Registered", "Registered")
    );
    assert!(event.timestamp >= before - chrono::Duration::microseconds(1) && event.timestamp <= Utc::now());
    assert_eq!(event.timestamp.timestamp_subsec_nanos() % 1000, 0, "microsecond precision, as in Python");
    assert_eq!(event.field::<String>("name").unwrap(), "Fido");
    assert!(matches!(event.field::<u32>("name"), Err(Error::Validation(_))));
}

#[test]
fn bad_events_are_refused_with_clear_errors() {
    let now = Utc::now();
    let cases = [
        (DomainEvent::new(Uuid::nil(), 1, "Dog.Registered", now, json!({})), "nil UUID"),
        (DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", now, json!({"originator_topic": "x:Dog"})), "reserved key"),
        (DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", now, json!("Fido")), "must be a JSON object, not a string"),
        (DomainEvent::new(Uuid::new_v4(), 1, "", now, json!({})), "topic must not be empty"),
        (DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", now, json!({"class_version": 2})), "reserved key"),
    ];
    for (result, words) in cases {
        assert!(matches!(&result, Err(Error::Validation(m)) if m.contains(words)), "{result:?} should mention {words:?}");
    }
    // Version 0 is a position, for types that count from 0 as Python's `INITIAL_VERSION = 0`.
    assert!(DomainEvent::new(Uuid::new_v4(), 0, "Dog.Registered", now, json!({})).is_ok());
}

#[test]
fn timestamps_are_written_as_python_isoformat_writes_them() {
    let t = parse_iso("2024-01-02T03:04:05.678901+00:00").unwrap();
    assert_eq!(to_iso(&t), "2024-01-02T03:04:05.678901+00:00");
    assert_eq!(to_iso(&parse_iso("2024-01-02T03:04:05Z").unwrap()), "2024-01-02T03:04:05+00:00");
    assert_eq!(to_iso(&parse_iso("2024-01-02T05:04:05.5+02:00").unwrap()), "2024-01-02T03:04:05.500000+00:00");
    assert_eq!(to_iso(&parse_iso("2024-01-02T03:04:05.000001").unwrap()), "2024-01-02T03:04:05.000001+00:00");
    assert!(matches!(parse_iso("yesterday"), Err(Error::Validation(_))));
}

#[test]
fn event_times_given_in_nanoseconds_are_kept_to_the_microsecond_as_stored() {
    let t = parse_iso("2024-01-02T03:04:05.678901+00:00").unwrap() + chrono::Duration::nanoseconds(999);
    let event = DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", t, json!({})).unwrap();
    assert_eq!(event.timestamp.timestamp_subsec_nanos(), 678_901_000);
    // so that an aggregate's times are those it is read back with
    let mut dog = Root::<Dog>::create("Registered", json!({"name": "Fido"})).unwrap();
    let later = Utc::now() + chrono::Duration::days(1) + chrono::Duration::nanoseconds(1);
    dog.trigger_at("TrickAdded", json!({"trick": "sit"}), later).unwrap();
    assert_eq!(dog.modified_on(), parse_iso(&to_iso(&later)).unwrap());
    assert_eq!(dog.pending_events()[1].timestamp, dog.modified_on());
}
