//! Schema evolution and topics, given / when / then: old events and
//! snapshots upcast on read, unknown topics, and renamed events and types.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tributary::persistence::{EventQuery, NotificationQuery, StoredEvent};
use tributary::{Aggregate, Application, At, DomainEvent, Error, EventType, Result, Root};
use uuid::Uuid;

use super::application::{registered, Stores};
use super::dog::Dog;

/// The Dog of a later release: `Registered` gained `breed` (schema 2), and the
/// state gained `age` (schema 2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct DogV2 {
    name: String,
    breed: String,
    tricks: Vec<String>,
    age: u32,
}

impl Aggregate for DogV2 {
    const TYPE: &'static str = "Dog";
    const EVENTS: &'static [EventType] = &[EventType::at("Registered", 2), EventType::new("TrickAdded")];
    const SCHEMA_VERSION: u32 = 2;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Registered" => (self.name, self.breed) = (event.field("name")?, event.field("breed")?),
            _ => self.tricks.push(event.field("trick")?),
        }
        Ok(())
    }
}

pub async fn a_v1_event_and_a_v1_snapshot_are_upcast_on_read(stores: Stores) {
    // given v1 records, written by the first release
    let old = stores.app();
    let mut fido = registered("Fido");
    fido.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    let mut rex = registered("Rex");
    old.save(&mut [&mut fido, &mut rex]).await.unwrap();
    old.take_snapshot(fido.id(), None).await.unwrap();
    // when the new release reads them without upcasters, it says what is missing
    let mut new = Application::new("dogschool", stores.events.clone());
    new.register::<DogV2>();
    assert_eq!(new.get::<DogV2>(rex.id()).await.unwrap_err(), Error::MissingUpcaster { topic: "Dog.Registered".into(), from: 1 });
    assert_eq!(new.get::<DogV2>(fido.id()).await.unwrap_err(), Error::MissingUpcaster { topic: "Dog".into(), from: 1 });
    // and with them, reads both
    new.registry_mut().upcaster("Dog.Registered", 1, |mut payload| {
        payload.insert("breed".into(), json!("unknown"));
        Ok(payload)
    });
    new.registry_mut().upcaster("Dog", 1, |mut state| {
        state.insert("breed".into(), json!("unknown"));
        state.insert("age".into(), json!(0));
        Ok(state)
    });
    let rex_v2 = new.get::<DogV2>(rex.id()).await.unwrap();
    assert_eq!(rex_v2.state(), &DogV2 { name: "Rex".into(), breed: "unknown".into(), tricks: vec![], age: 0 });
    let fido_v2 = new.get::<DogV2>(fido.id()).await.unwrap();
    assert_eq!(fido_v2.state(), &DogV2 { name: "Fido".into(), breed: "unknown".into(), tricks: vec!["sit".into()], age: 0 });
    // and new events are written at schema 2
    let mut max = Root::<DogV2>::create("Registered", json!({ "name": "Max", "breed": "collie" })).unwrap();
    new.save(&mut [&mut max]).await.unwrap();
    let stored = stores.events.select_events(max.id(), EventQuery::all()).await.unwrap();
    assert!(String::from_utf8(stored[0].state.clone()).unwrap().ends_with(r#""breed":"collie","class_version":2}"#));
    let snapshot = new.take_snapshot(max.id(), None).await.unwrap();
    let written = new.mapper().to_stored_snapshot(&snapshot).unwrap();
    assert!(String::from_utf8(written.state).unwrap().ends_with(r#""age":0,"class_version":2}}"#));
}

pub async fn an_unknown_topic_without_upcaster_is_a_clear_error_and_a_rename_reads_it(stores: Stores) {
    // given an event whose topic this release does not know
    let mut app = stores.app();
    let mut dog = registered("Fido");
    app.save(&mut [&mut dog]).await.unwrap();
    let learned = StoredEvent {
        originator_id: dog.id(),
        originator_version: 2,
        topic: "Dog.TrickLearned".into(),
        state: br#"{"timestamp":{"_type_":"datetime_iso","_data_":"2030-01-01T00:00:00+00:00"},"trick":"sit"}"#.to_vec(),
    };
    stores.events.insert_events(&[learned]).await.unwrap();
    // then
    let error = app.get::<Dog>(dog.id()).await.unwrap_err();
    assert_eq!(error, Error::UnknownTopic("Dog.TrickLearned".into()));
    assert!(error.to_string().contains("register"), "says what to do: {error}");
    app.registry_mut().rename("Dog.TrickLearned", "Dog.TrickAdded");
    assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().state().tricks, vec!["sit"]);
}

pub async fn a_renamed_type_reads_its_old_events_and_snapshots_as_python_resolves_them(stores: Stores) {
    // given a dog stored when the type was called OldDog: two events, a snapshot, an event after it
    let at = |time: &str| format!(r#"{{"timestamp":{{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:0{time}+00:00"}}"#);
    let id = Uuid::new_v4();
    let record = |version, topic: &str, rest: &str| StoredEvent {
        originator_id: id,
        originator_version: version,
        topic: topic.into(),
        state: format!("{},{rest}}}", at(&version.to_string())).into_bytes(),
    };
    stores
        .events
        .insert_events(&[
            record(1, "OldDog.Registered", r#""originator_topic":"OldDog","name":"Fido""#),
            record(2, "OldDog.TrickAdded", r#""trick":"sit""#),
            record(3, "OldDog.TrickAdded", r#""trick":"beg""#),
        ])
        .await
        .unwrap();
    let snapshot = format!(
        r#"{},"topic":"OldDog","state":{{"_created_on":{{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:01+00:00"}},"_modified_on":{{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:02+00:00"}},"name":"Fido","tricks":["sit"]}}}}"#,
        at("9")
    );
    stores
        .snapshots
        .insert_events(&[StoredEvent {
            originator_id: id,
            originator_version: 2,
            topic: tributary::persistence::SNAPSHOT_TOPIC.into(),
            state: snapshot.into_bytes(),
        }])
        .await
        .unwrap();
    // when the type is renamed Dog (as Python's register_topic("OldDog", Dog) renames its nested events too)
    let mut app = stores.app();
    app.registry_mut().rename("OldDog", "Dog");
    // then every way of reading takes the old events in, from the snapshot or not
    let dog = Dog { name: "Fido".into(), tricks: vec!["sit".into(), "beg".into()] };
    assert_eq!(app.get::<Dog>(id).await.unwrap().state(), &dog);
    assert_eq!(app.get_at::<Dog>(id, At::Version(1)).await.unwrap().state().tricks, Vec::<String>::new());
    let events = app.events(id, EventQuery::all()).await.unwrap();
    assert_eq!(events.iter().map(|e| e.topic.as_str()).collect::<Vec<_>>(), ["Dog.Registered", "Dog.TrickAdded", "Dog.TrickAdded"]);
    let query = NotificationQuery { topics: vec!["Dog.TrickAdded".into()], ..NotificationQuery::new(1, 10) };
    assert_eq!(app.notifications(&query).await.unwrap().len(), 2, "a filter by the new topic finds the old ones");
    // and new events go under the new name
    let mut dog = app.get::<Dog>(id).await.unwrap();
    dog.trigger("TrickAdded", json!({ "trick": "roll" })).unwrap();
    app.save(&mut [&mut dog]).await.unwrap();
    assert_eq!(stores.events.select_events(id, EventQuery::last(None)).await.unwrap()[0].topic, "Dog.TrickAdded");
}

pub async fn an_upcaster_returning_a_reserved_key_is_a_handler_error_and_a_stored_one_is_corrupt(stores: Stores) {
    // given a v1 Registered event, and a release whose upcaster adds a key the stored state reserves
    let old = stores.app();
    let mut rex = registered("Rex");
    old.save(&mut [&mut rex]).await.unwrap();
    let mut new = Application::new("dogschool", stores.events.clone());
    new.register::<DogV2>();
    new.registry_mut().upcaster("Dog.Registered", 1, |mut payload| {
        payload.insert("breed".into(), json!("unknown"));
        payload.insert("timestamp".into(), json!("2024-01-01"));
        Ok(payload)
    });
    // then reading it blames the upcaster, not the call
    let error = new.get::<DogV2>(rex.id()).await.unwrap_err();
    assert!(matches!(&error, Error::Handler(m) if m.contains("Dog.Registered") && m.contains("timestamp")), "{error:?}");
    // and a stored state holding a reserved key is a corrupt record
    let forged = StoredEvent {
        originator_id: rex.id(),
        originator_version: 2,
        topic: "Dog.TrickAdded".into(),
        state: br#"{"timestamp":{"_type_":"datetime_iso","_data_":"2030-01-01T00:00:00+00:00"},"trick":"sit","originator_id":1}"#.to_vec(),
    };
    stores.events.insert_events(&[forged]).await.unwrap();
    let error = old.get::<Dog>(rex.id()).await.unwrap_err();
    assert!(matches!(&error, Error::Corrupt(m) if m.contains("originator_id")), "{error:?}");
}

/// The Dog of a later release whose state gained `age` (schema 2), its events unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct DogAged {
    name: String,
    tricks: Vec<String>,
    age: u32,
}

impl Aggregate for DogAged {
    const TYPE: &'static str = "Dog";
    const EVENTS: &'static [EventType] = &[EventType::new("Registered"), EventType::new("TrickAdded")];
    const SCHEMA_VERSION: u32 = 2;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        match event.name() {
            "Registered" => self.name = event.field("name")?,
            _ => self.tricks.push(event.field("trick")?),
        }
        Ok(())
    }
}

pub async fn a_snapshot_from_a_newer_release_is_passed_over_and_the_events_replayed(stores: Stores) {
    // given a dog saved by this release, and snapshotted by a newer one (another tab) whose state is at schema 2
    let old = stores.app();
    let mut fido = registered("Fido");
    fido.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    old.save(&mut [&mut fido]).await.unwrap();
    let mut new = Application::new("dogschool", stores.events.clone());
    new.register::<DogAged>();
    new.take_snapshot(fido.id(), None).await.unwrap();
    fido.trigger("TrickAdded", json!({ "trick": "beg" })).unwrap();
    old.save(&mut [&mut fido]).await.unwrap();
    // when this release gets it, at its newest version, at the snapshot's and at a time
    let latest = old.get::<Dog>(fido.id()).await.unwrap();
    let at_2 = old.get_at::<Dog>(fido.id(), At::Version(2)).await.unwrap();
    let now = old.get_at::<Dog>(fido.id(), At::Time(chrono::Utc::now())).await.unwrap();
    // then the events rebuild it as this release knows it
    assert_eq!((latest.version(), latest.state().tricks.clone()), (3, vec!["sit".to_owned(), "beg".to_owned()]));
    assert_eq!((at_2.version(), at_2.state().tricks.clone()), (2, vec!["sit".to_owned()]));
    assert_eq!(now.state(), latest.state());
    assert_eq!(old.replay(fido.id(), At::Latest).await.unwrap().state, json!({ "name": "Fido", "tricks": ["sit", "beg"] }));
}
