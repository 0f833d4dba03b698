//! Application scenarios, given / when / then, over any pair of recorders.

use std::rc::Rc;

use chrono::{Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tributary::domain::Pending;
use tributary::persistence::{ApplicationRecorder, EventQuery, NotificationQuery, SnapshotRecorder, StoredEvent};
use tributary::{Aggregate, Application, At, DomainEvent, Error, EventType, NewEvent, Recorded, Result, Root};
use uuid::Uuid;

use super::dog::Dog;

/// A fresh, empty recorder for one scenario, and the snapshot store beside it.
#[derive(Clone)]
pub struct Stores {
    pub events: Rc<dyn ApplicationRecorder>,
    pub snapshots: Rc<dyn SnapshotRecorder>,
}

impl Stores {
    pub fn new(events: Rc<dyn ApplicationRecorder>) -> Self {
        Stores { snapshots: events.snapshots(), events }
    }

    pub fn memory() -> Self {
        Self::new(Rc::new(tributary::persistence::MemoryApplicationRecorder::new()))
    }

    /// A dog school over these recorders.
    pub fn app(&self) -> Application {
        let mut app = Application::new("dogschool", self.events.clone());
        app.register::<Dog>();
        app
    }

    /// The dog at a version, folded from every event with no snapshot.
    pub(super) async fn full_replay(&self, app: &Application, id: Uuid, version: u64) -> Dog {
        let mut dog = Dog::default();
        for stored in self.events.select_events(id, EventQuery { lte: Some(version), ..EventQuery::all() }).await.unwrap() {
            dog.apply(&app.mapper().to_domain_event(&stored).unwrap()).unwrap();
        }
        dog
    }
}

pub fn registered(name: &str) -> Root<Dog> {
    Root::create("Registered", json!({ "name": name })).unwrap()
}

pub(super) async fn log_length(app: &Application) -> usize {
    app.notifications(&NotificationQuery::new(1, usize::MAX)).await.unwrap().len()
}

pub async fn save_returns_notification_ids_and_get_returns_the_latest_state(stores: Stores) {
    // given
    let app = stores.app();
    let mut fido = registered("Fido");
    let mut rex = registered("Rex");
    // when
    fido.trigger("TrickAdded", json!({ "trick": "roll over" })).unwrap();
    let ids = app.save(&mut [&mut fido, &mut rex]).await.unwrap();
    // then
    assert_eq!(ids, vec![1, 2, 3]);
    assert!(fido.pending_events().is_empty());
    let got = app.get::<Dog>(fido.id()).await.unwrap();
    assert_eq!((got.version(), got.state()), (2, &Dog { name: "Fido".into(), tricks: vec!["roll over".into()] }));
    assert_eq!(got.created_on(), fido.created_on());
    assert_eq!(got.modified_on(), fido.modified_on());
    assert_eq!(app.get::<Dog>(rex.id()).await.unwrap().version(), 1);
}

pub async fn save_at_a_taken_version_raises_conflict_and_writes_nothing(stores: Stores) {
    // given two handles on the same dog at version 1
    let app = stores.app();
    let mut fido = registered("Fido");
    app.save(&mut [&mut fido]).await.unwrap();
    let mut here = app.get::<Dog>(fido.id()).await.unwrap();
    let mut there = app.get::<Dog>(fido.id()).await.unwrap();
    here.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    there.trigger("TrickAdded", json!({ "trick": "beg" })).unwrap();
    app.save(&mut [&mut here]).await.unwrap();
    // when
    let error = app.save(&mut [&mut there]).await.unwrap_err();
    // then
    assert!(matches!(error, Error::Conflict { originator_id, originator_version: 2, .. } if originator_id == fido.id()), "{error:?}");
    assert_eq!(error.name(), "ConflictError");
    assert_eq!(there.pending_events().len(), 1, "the loser keeps its pending event");
    assert_eq!(app.get::<Dog>(fido.id()).await.unwrap().state().tricks, vec!["sit"]);
    assert_eq!(log_length(&app).await, 2, "no notification for the losing event");
}

pub async fn a_two_aggregate_save_where_one_conflicts_writes_neither(stores: Stores) {
    // given
    let app = stores.app();
    let mut fido = registered("Fido");
    app.save(&mut [&mut fido]).await.unwrap();
    let mut stale = app.get::<Dog>(fido.id()).await.unwrap();
    fido.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    app.save(&mut [&mut fido]).await.unwrap();
    // when a new dog is saved with the stale one
    let mut rex = registered("Rex");
    stale.trigger("TrickAdded", json!({ "trick": "beg" })).unwrap();
    let error = app.save(&mut [&mut rex, &mut stale]).await.unwrap_err();
    // then
    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    assert!(matches!(app.get::<Dog>(rex.id()).await, Err(Error::NotFound(_))));
    assert_eq!(log_length(&app).await, 2);
}

pub async fn state_at_a_version_and_at_a_time(stores: Stores) {
    // given tricks learned at known times
    let app = stores.app();
    let t0 = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    let mut dog = registered("Fido");
    dog.trigger_at("TrickAdded", json!({ "trick": "sit" }), t0 + Duration::hours(1)).unwrap();
    dog.trigger_at("TrickAdded", json!({ "trick": "beg" }), t0 + Duration::hours(2)).unwrap();
    app.save(&mut [&mut dog]).await.unwrap();
    let created = dog.created_on();
    let tricks = |root: Root<Dog>| root.state().tricks.clone();
    // then, by version
    assert_eq!(tricks(app.get_at(dog.id(), At::Version(1)).await.unwrap()), Vec::<String>::new());
    assert_eq!(tricks(app.get_at(dog.id(), At::Version(2)).await.unwrap()), vec!["sit"]);
    assert!(matches!(app.get_at::<Dog>(dog.id(), At::Version(4)).await, Err(Error::NotFound(m)) if m.contains("latest is 3")));
    // and by time (the registration is "now", later than t0's events, which
    // are lifted to it: timestamps never go backwards within an aggregate)
    assert_eq!(dog.modified_on(), created, "earlier timestamps are raised to the last one");
    let mut pup = registered("Pup");
    let later = created + Duration::days(1);
    pup.trigger_at("TrickAdded", json!({ "trick": "sit" }), later).unwrap();
    pup.trigger_at("TrickAdded", json!({ "trick": "beg" }), later + Duration::hours(1)).unwrap();
    app.save(&mut [&mut pup]).await.unwrap();
    let at = |t| app.get_at::<Dog>(pup.id(), At::Time(t));
    assert!(matches!(at(pup.created_on() - Duration::seconds(1)).await, Err(Error::NotFound(_))));
    assert_eq!(at(pup.created_on()).await.unwrap().version(), 1);
    assert_eq!(tricks(at(later).await.unwrap()), vec!["sit"]);
    assert_eq!(tricks(at(later + Duration::minutes(59)).await.unwrap()), vec!["sit"]);
    assert_eq!(tricks(at(later + Duration::hours(5)).await.unwrap()), vec!["sit", "beg"]);
}

pub async fn state_at_a_time_far_into_a_long_history(stores: Stores) {
    // given a dog of 5,000 events a minute apart (read in several pages, each
    // next one asked for while one is folded)
    let app = stores.app();
    let mut dog = registered("Fido");
    let start = dog.created_on() + Duration::days(1);
    for i in 2..=5000 {
        dog.trigger_at("TrickAdded", json!({ "trick": format!("trick {i}") }), start + Duration::minutes(i)).unwrap();
        if i % 1000 == 0 {
            app.save(&mut [&mut dog]).await.unwrap();
        }
    }
    // then a time in any page gives the events up to it, and the latest is whole
    for version in [2, 250, 251, 2251, 4999, 5000] {
        let at = app.get_at::<Dog>(dog.id(), At::Time(start + Duration::minutes(version as i64) + Duration::seconds(30))).await.unwrap();
        assert_eq!((at.version(), at.state().tricks.len() as u64), (version, version - 1), "at the time of version {version}");
        assert_eq!(at.state().tricks.last().map(String::as_str), Some(format!("trick {version}").as_str()));
    }
    assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().version(), 5000);
}

pub async fn bad_input_gives_clear_errors_and_writes_nothing(stores: Stores) {
    let app = stores.app();
    let invalid = |r: Result<Root<Dog>>| matches!(r, Err(Error::Validation(_)));
    // a nil id, a payload that is not an object, a reserved key, an unknown event
    assert!(invalid(Root::create_with_id(Uuid::nil(), "Registered", json!({ "name": "Fido" }))));
    assert!(invalid(Root::create("Registered", json!(["Fido"]))));
    assert!(invalid(Root::create("Registered", json!({ "timestamp": 1 }))));
    assert!(matches!(Root::<Dog>::create("Barked", json!({})), Err(Error::UnknownTopic(t)) if t == "Dog.Barked"));
    // an apply that fails leaves the aggregate as it was
    let mut dog = registered("Fido");
    assert!(matches!(dog.trigger("TrickAdded", json!({ "trick": "" })), Err(Error::Validation(_))));
    assert!(matches!(dog.trigger("TrickAdded", json!({ "trick": 7 })), Err(Error::Validation(m)) if m.contains("trick")));
    assert_eq!((dog.version(), dog.pending_events().len()), (1, 1));
    // events of a type the application does not know, or with a reserved key
    let unknown = DomainEvent::new(Uuid::new_v4(), 1, "Cat.Registered", Utc::now(), json!({})).unwrap();
    let known = dog.pending_events()[0].clone();
    assert!(matches!(app.save_events(&[known.clone(), unknown]).await, Err(Error::UnknownTopic(_))));
    assert!(
        matches!(DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", Utc::now(), json!({"originator_topic": "x"})), Err(Error::Validation(m)) if m.contains("reserved"))
    );
    assert!(
        matches!(DomainEvent::new(Uuid::new_v4(), 1, "Dog.Registered", Utc::now(), Value::Null), Err(Error::Validation(m)) if m.contains("JSON object"))
    );
    assert_eq!(log_length(&app).await, 0, "nothing was written");
    // reads and settings
    assert!(matches!(app.get::<Dog>(Uuid::nil()).await, Err(Error::Validation(_))));
    assert!(
        matches!(app.get_at::<Dog>(Uuid::new_v4(), At::Version(0)).await, Err(Error::NotFound(_))),
        "version 0 is a position (of types counting from 0)"
    );
    assert!(matches!(app.get::<Dog>(Uuid::new_v4()).await, Err(Error::NotFound(_))));
    assert!(matches!(app.notification_log().section("ten").await, Err(Error::Validation(_))));
    assert!(matches!(app.notification_log().section("0,10").await, Err(Error::Validation(_))));
    let mut app = app;
    assert!(app.snapshot_every("Dog", 0).is_err() && app.keep_snapshots(0).is_err() && app.section_size(0).is_err());
    // a Dog is not a DogV2-typed Cat
    app.save(&mut [&mut dog]).await.unwrap();
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Cat;
    impl Aggregate for Cat {
        const TYPE: &'static str = "Cat";
        const EVENTS: &'static [EventType] = &[];
        fn apply(&mut self, _: &DomainEvent) -> Result<()> {
            Ok(())
        }
    }
    app.register::<Cat>();
    assert!(matches!(app.get::<Cat>(dog.id()).await, Err(Error::Validation(m)) if m.contains("is a Dog, not a Cat")));
}

pub async fn a_corrupt_stored_record_is_a_typed_error(stores: Stores) {
    let app = stores.app();
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let record =
        |id, state: &[u8]| StoredEvent { originator_id: id, originator_version: 1, topic: "Dog.Registered".into(), state: state.to_vec() };
    stores
        .events
        .insert_events(&[
            record(a, b"not json"),
            record(b, br#"{"name":"no timestamp"}"#),
            record(c, br#"{"timestamp":"yesterday","name":"x"}"#),
        ])
        .await
        .unwrap();
    for id in [a, b, c] {
        let error = app.get::<Dog>(id).await.unwrap_err();
        assert!(matches!(&error, Error::Corrupt(m) if m.contains(&id.to_string())), "{error:?}");
        assert_eq!(error.name(), "CorruptRecordError");
    }
}

pub async fn sections_follow_the_python_rules(stores: Stores) {
    let mut app = stores.app();
    let empty = app.notification_log().section("1,10").await.unwrap();
    assert_eq!(empty.to_json(), r#"{"id": null, "next_id": null, "items": []}"#);
    let mut dogs: Vec<Root<Dog>> = (0..12).map(|i| registered(&format!("dog {i}"))).collect();
    let mut pending: Vec<&mut dyn Pending> = dogs.iter_mut().map(|d| d as &mut dyn Pending).collect();
    app.save(&mut pending).await.unwrap();
    let ids = |s: tributary::Section| (s.id.map(|i| i.to_string()), s.next_id.map(|i| i.to_string()), s.items.len());
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(ids(app.notification_log().section("1,2").await.unwrap()), (some("1,2"), some("3,4"), 2));
    assert_eq!(ids(app.notification_log().section("1,10").await.unwrap()), (some("1,10"), some("11,20"), 10));
    assert_eq!(ids(app.notification_log().section("11,20").await.unwrap()), (some("11,12"), None, 2));
    assert_eq!(
        ids(app.notification_log().section("1,100").await.unwrap()),
        (some("1,10"), some("11,20"), 10),
        "capped at the section size"
    );
    assert_eq!(ids(app.notification_log().section("13,20").await.unwrap()), (None, None, 0));
    assert_eq!(ids(app.notification_log().section("5,4").await.unwrap()), (None, None, 0));
    app.section_size(5).unwrap();
    assert_eq!(ids(app.notification_log().section("1,10").await.unwrap()), (some("1,5"), some("6,10"), 5));
}

fn new_event(id: Option<Uuid>, event: &str, payload: Value, expected_version: Option<i64>) -> NewEvent {
    NewEvent { aggregate_type: "Dog".into(), id, event: event.into(), payload, expected_version }
}

pub async fn record_by_name_creates_appends_and_checks_expected_versions(stores: Stores) {
    let app = stores.app();
    // create, then append without and with an expected version
    let [created] = app.record(&[new_event(None, "Registered", json!({ "name": "Fido" }), None)]).await.unwrap()[..] else { panic!() };
    assert_eq!((created.version, created.notification_id, created.id.get_version_num()), (1, 1, 4));
    let id = Some(created.id);
    let appended = app.record(&[new_event(id, "TrickAdded", json!({ "trick": "sit" }), None)]).await.unwrap();
    assert_eq!(appended, vec![Recorded { id: created.id, version: 2, notification_id: 2 }]);
    let stale = app.record(&[new_event(id, "TrickAdded", json!({ "trick": "beg" }), Some(1))]).await.unwrap_err();
    assert!(matches!(&stale, Error::Conflict { originator_version: 2, detail, .. } if detail.contains("it is at 2")), "{stale:?}");
    let expected = app.record(&[new_event(id, "TrickAdded", json!({ "trick": "beg" }), Some(2))]).await.unwrap();
    assert_eq!((expected[0].version, expected[0].notification_id), (3, 3));
    // an expected version ahead of the aggregate conflicts too, and the message says where it is (no version 5 exists)
    let ahead = app.record(&[new_event(id, "TrickAdded", json!({ "trick": "roll" }), Some(4))]).await.unwrap_err();
    assert!(matches!(&ahead, Error::Conflict { originator_version: 5, .. }), "{ahead:?}");
    let message = ahead.to_string();
    assert!(message.contains("cannot take version 5") && message.contains("it is at 3"), "{message}");
    // a create at a taken id conflicts; several events of one new aggregate follow one another
    let taken = app.record(&[new_event(id, "Registered", json!({ "name": "Again" }), Some(0))]).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { originator_version: 1, .. }));
    let named = Dog::create_id("Rex");
    let batch = [
        new_event(Some(named), "Registered", json!({ "name": "Rex" }), Some(0)),
        new_event(Some(named), "TrickAdded", json!({ "trick": "sit" }), None),
    ];
    let recorded = app.record(&batch).await.unwrap();
    assert_eq!(recorded.iter().map(|r| (r.id, r.version, r.notification_id)).collect::<Vec<_>>(), vec![(named, 1, 4), (named, 2, 5)]);
    // and the aggregate replays by its registered type
    let replayed = app.replay(created.id, At::Latest).await.unwrap();
    assert_eq!((replayed.aggregate_type.as_str(), replayed.version), ("Dog", 3));
    assert_eq!(replayed.state, json!({ "name": "Fido", "tricks": ["sit", "beg"] }));
    assert_eq!(app.events(created.id, EventQuery::all()).await.unwrap().len(), 3);
}

pub async fn record_by_name_refuses_bad_requests_and_writes_nothing(stores: Stores) {
    let mut app = stores.app();
    let dog = app.record(&[new_event(None, "Registered", json!({ "name": "Fido" }), None)]).await.unwrap()[0].id;
    let refused = |requests: Vec<NewEvent>| {
        let app = &app;
        async move { app.record(&requests).await.unwrap_err() }
    };
    let good = new_event(None, "Registered", json!({ "name": "Rex" }), None);
    let cat = NewEvent { aggregate_type: "Cat".into(), ..good.clone() };
    assert_eq!(refused(vec![good.clone(), cat]).await, Error::UnknownTopic("Cat".into()));
    assert_eq!(refused(vec![good.clone(), new_event(None, "Barked", json!({}), None)]).await, Error::UnknownTopic("Dog.Barked".into()));
    assert!(
        matches!(refused(vec![good.clone(), new_event(None, "Registered", json!("Rex"), None)]).await, Error::Validation(m) if m.contains("JSON object"))
    );
    assert!(matches!(refused(vec![new_event(Some(Uuid::nil()), "Registered", json!({}), None)]).await, Error::Validation(_)));
    assert_eq!(log_length(&app).await, 1, "nothing of a refused batch is written");
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Cat {}
    impl Aggregate for Cat {
        const TYPE: &'static str = "Cat";
        const EVENTS: &'static [EventType] = &[EventType::new("Adopted")];
        fn apply(&mut self, _: &DomainEvent) -> Result<()> {
            Ok(())
        }
    }
    app.register::<Cat>();
    let as_cat =
        NewEvent { aggregate_type: "Cat".into(), id: Some(dog), event: "Adopted".into(), payload: json!({}), expected_version: None };
    assert!(matches!(app.record(&[as_cat]).await, Err(Error::Validation(m)) if m.contains("is a Dog, not a Cat")));
}

pub async fn a_batch_past_the_last_version_is_a_typed_error_not_an_overflow(stores: Stores) {
    // given snapshots every 2 versions, and a batch whose versions run past u64::MAX
    let mut app = stores.app();
    app.snapshot_every("Dog", 2).unwrap();
    let id = Uuid::new_v4();
    let event = |v| DomainEvent::new(id, v, "Dog.TrickAdded", Utc::now(), json!({ "trick": "x" })).unwrap();
    // then it is refused as any batch whose versions do not follow one another
    let refused = app.save_events(&[event(u64::MAX), event(0)]).await.unwrap_err();
    assert!(matches!(&refused, Error::Validation(m) if m.contains("follow")), "{refused:?}");
    assert_eq!(log_length(&app).await, 0, "nothing was written");
}
