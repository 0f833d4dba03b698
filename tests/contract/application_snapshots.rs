//! Application contract, snapshots: replays from snapshots equal full
//! replays, due snapshots commit with their events or not at all, pruning, a
//! type counting from 0, and a state no snapshot may hold.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tributary::persistence::EventQuery;
use tributary::{Aggregate, At, DomainEvent, Error, EventType, NewEvent, Result, Root};
use uuid::Uuid;

use super::application::{log_length, registered, Stores};
use super::dog::Dog;

pub async fn replay_from_snapshots_equals_full_replay_at_every_version_of_1000(stores: Stores) {
    // given a dog of 1,000 events, snapshotted every 10 versions
    let mut app = stores.app();
    app.snapshot_every("Dog", 10).unwrap();
    let mut dog = registered("Fido");
    for i in 2..=1000 {
        dog.trigger("TrickAdded", json!({ "trick": format!("trick {i}") })).unwrap();
        if i % 97 == 0 {
            app.save(&mut [&mut dog]).await.unwrap();
        }
    }
    app.save(&mut [&mut dog]).await.unwrap();
    let snapshots = stores.snapshots.select_events(dog.id(), EventQuery::all()).await.unwrap();
    assert_eq!(snapshots.iter().map(|s| s.originator_version).collect::<Vec<_>>(), (1..=100).map(|i| i * 10).collect::<Vec<_>>());
    // then every version replays the same either way
    for version in 1..=1000 {
        let snapshotted = app.get_at::<Dog>(dog.id(), At::Version(version)).await.unwrap();
        assert_eq!(snapshotted.state(), &stores.full_replay(&app, dog.id(), version).await, "version {version}");
        assert_eq!((snapshotted.version(), snapshotted.state().tricks.len() as u64), (version, version - 1));
    }
    let latest = app.get::<Dog>(dog.id()).await.unwrap();
    assert_eq!((latest.version(), latest.modified_on(), latest.created_on()), (1000, dog.modified_on(), dog.created_on()));
}

pub async fn due_snapshots_commit_with_their_events_or_not_at_all(stores: Stores) {
    // given a dog at version 2, snapshots every 3 versions
    let mut app = stores.app();
    app.snapshot_every("Dog", 3).unwrap();
    let mut dog = registered("Fido");
    dog.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    app.save(&mut [&mut dog]).await.unwrap();
    let mut stale = app.get::<Dog>(dog.id()).await.unwrap();
    // when a save reaching version 3 conflicts, no snapshot is written
    let mut rival = app.get::<Dog>(dog.id()).await.unwrap();
    rival.trigger("TrickAdded", json!({ "trick": "beg" })).unwrap();
    app.save(&mut [&mut rival]).await.unwrap();
    let at_3 = stores.snapshots.select_events(dog.id(), EventQuery::all()).await.unwrap();
    assert_eq!(at_3.len(), 1, "the winner's snapshot at version 3");
    stale.trigger("TrickAdded", json!({ "trick": "roll" })).unwrap();
    stale.trigger("TrickAdded", json!({ "trick": "stay" })).unwrap();
    assert!(matches!(app.save(&mut [&mut stale]).await, Err(Error::Conflict { .. })));
    assert_eq!(stores.snapshots.select_events(dog.id(), EventQuery::all()).await.unwrap(), at_3);
    // and the snapshot holds the winner's state at version 3
    let snapshot = app.mapper().to_snapshot(&at_3[0]).unwrap();
    assert_eq!(snapshot.state, json!({ "name": "Fido", "tricks": ["sit", "beg"] }));
    assert_eq!(snapshot.modified_on, rival.modified_on());
    // events of one aggregate in one save must follow one another
    let event = |v| DomainEvent::new(dog.id(), v, "Dog.TrickAdded", Utc::now(), json!({ "trick": "x" })).unwrap();
    assert!(matches!(app.save_events(&[event(4), event(6)]).await, Err(Error::Validation(m)) if m.contains("follow")));
    // and the first must follow the aggregate's newest stored version (3), or be a new one's first: a gap would leave it unreadable
    let written = log_length(&app).await;
    for gap in [vec![event(5)], vec![event(5), event(6)], vec![event(9)]] {
        let refused = app.save_events(&gap).await.unwrap_err();
        assert!(matches!(&refused, Error::Validation(m) if m.contains("follow")), "{refused:?}");
    }
    let unborn = DomainEvent::new(Uuid::new_v4(), 2, "Dog.TrickAdded", Utc::now(), json!({ "trick": "x" })).unwrap();
    assert!(matches!(app.save_events(&[unborn]).await, Err(Error::Validation(m)) if m.contains("follow")));
    assert_eq!(log_length(&app).await, written, "nothing was written");
    assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().version(), 3);
    app.save_events(&[event(4)]).await.unwrap();
}

pub async fn get_starts_from_the_latest_snapshot_at_or_below_the_version(stores: Stores) {
    // given a dog at version 3 and a doctored snapshot at version 2
    let app = stores.app();
    let mut dog = registered("Fido");
    dog.trigger("TrickAdded", json!({ "trick": "sit" })).unwrap();
    dog.trigger("TrickAdded", json!({ "trick": "beg" })).unwrap();
    app.save(&mut [&mut dog]).await.unwrap();
    let mut snapshot = app.take_snapshot(dog.id(), Some(1)).await.unwrap();
    assert_eq!(snapshot.state, json!({ "name": "Fido", "tricks": [] }));
    snapshot.originator_version = 2;
    snapshot.state = json!({ "name": "From the snapshot", "tricks": ["sit"] });
    stores.snapshots.insert_events(&[app.mapper().to_stored_snapshot(&snapshot).unwrap()]).await.unwrap();
    // then versions at or above 2 start from it, versions below do not
    assert_eq!(
        app.get::<Dog>(dog.id()).await.unwrap().state(),
        &Dog { name: "From the snapshot".into(), tricks: vec!["sit".into(), "beg".into()] }
    );
    assert_eq!(app.get_at::<Dog>(dog.id(), At::Version(2)).await.unwrap().state().name, "From the snapshot");
    assert_eq!(app.get_at::<Dog>(dog.id(), At::Version(1)).await.unwrap().state().name, "Fido");
    assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().created_on(), dog.created_on());
}

pub async fn snapshots_are_pruned_to_the_newest_k(stores: Stores) {
    let mut app = stores.app();
    app.snapshot_every("Dog", 2).unwrap().keep_snapshots(2).unwrap();
    let mut dog = registered("Fido");
    for i in 0..9 {
        dog.trigger("TrickAdded", json!({ "trick": format!("t{i}") })).unwrap();
        app.save(&mut [&mut dog]).await.unwrap();
    }
    let kept: Vec<u64> =
        stores.snapshots.select_events(dog.id(), EventQuery::all()).await.unwrap().iter().map(|s| s.originator_version).collect();
    assert_eq!(kept, vec![8, 10]);
    assert_eq!(app.get::<Dog>(dog.id()).await.unwrap().version(), 10);
}

/// A run counting from 0, as BIOMERO's aggregates (Python's `INITIAL_VERSION = 0`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Run {
    steps: Vec<String>,
}

impl Aggregate for Run {
    const TYPE: &'static str = "Run";
    const EVENTS: &'static [EventType] = &[EventType::new("Started"), EventType::new("Stepped")];
    const INITIAL_VERSION: u64 = 0;

    fn apply(&mut self, event: &DomainEvent) -> Result<()> {
        self.steps.push(event.name().to_owned());
        Ok(())
    }
}

pub async fn a_type_counting_from_0_is_snapshotted_from_its_first_event(stores: Stores) {
    // given runs counting from 0, snapshotted every 2 versions (0 % 2 == 0, as in Python)
    let mut app = stores.app();
    app.register::<Run>();
    app.snapshot_every("Run", 2).unwrap();
    let mut run = Root::<Run>::create("Started", json!({})).unwrap();
    app.save(&mut [&mut run]).await.unwrap();
    // when versions 1 and 2 are saved after the first event
    run.trigger("Stepped", json!({})).unwrap();
    run.trigger("Stepped", json!({})).unwrap();
    app.save(&mut [&mut run]).await.unwrap();
    // then the snapshot at 2 holds all three events, and so does the run read back
    let snapshots = stores.snapshots.select_events(run.id(), EventQuery::all()).await.unwrap();
    assert_eq!(snapshots.iter().map(|s| s.originator_version).collect::<Vec<_>>(), vec![0, 2]);
    let at_2 = app.mapper().to_snapshot(&snapshots[1]).unwrap();
    assert_eq!(at_2.state, json!({ "steps": ["Started", "Stepped", "Stepped"] }));
    assert_eq!(at_2.created_on, run.created_on());
    assert_eq!(app.get::<Run>(run.id()).await.unwrap().state(), run.state());
    // and so when recorded by name
    let started = NewEvent { aggregate_type: "Run".into(), id: None, event: "Started".into(), payload: json!({}), expected_version: None };
    let id = app.record(&[started]).await.unwrap()[0].id;
    let stepped =
        NewEvent { aggregate_type: "Run".into(), id: Some(id), event: "Stepped".into(), payload: json!({}), expected_version: None };
    app.record(&[stepped.clone(), stepped]).await.unwrap();
    assert_eq!(app.replay(id, At::Latest).await.unwrap().state, json!({ "steps": ["Started", "Stepped", "Stepped"] }));
    let newest = stores.snapshots.select_events(id, EventQuery::last(None)).await.unwrap();
    assert_eq!(app.mapper().to_snapshot(&newest[0]).unwrap().state, json!({ "steps": ["Started", "Stepped", "Stepped"] }));
}

/// A widget whose state names a field as snapshots name their own bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Widget {
    class_version: u32,
}

impl Aggregate for Widget {
    const TYPE: &'static str = "Widget";
    const EVENTS: &'static [EventType] = &[EventType::new("Made"), EventType::new("Revised")];

    fn apply(&mut self, _: &DomainEvent) -> Result<()> {
        self.class_version += 1;
        Ok(())
    }
}

pub async fn a_state_holding_a_reserved_key_is_a_handler_error_when_snapshotted_and_writes_nothing(stores: Stores) {
    // given widgets snapshotted every 2 versions, whose state holds `class_version`
    let mut app = stores.app();
    app.register::<Widget>();
    app.snapshot_every("Widget", 2).unwrap();
    let mut widget = Root::<Widget>::create("Made", json!({})).unwrap();
    app.save(&mut [&mut widget]).await.unwrap();
    // when a save falls due a snapshot, or one is taken
    widget.trigger("Revised", json!({})).unwrap();
    let saved = app.save(&mut [&mut widget]).await.unwrap_err();
    let taken = app.take_snapshot(widget.id(), None).await.unwrap_err();
    let revised = NewEvent {
        aggregate_type: "Widget".into(),
        id: Some(widget.id()),
        event: "Revised".into(),
        payload: json!({}),
        expected_version: None,
    };
    let recorded = app.record(&[revised]).await.unwrap_err();
    // then it is the aggregate's fold that is at fault (a HandlerError naming the key), not the call, and nothing is written
    for error in [saved, taken, recorded] {
        assert!(matches!(&error, Error::Handler(m) if m.contains("class_version") && m.contains("Widget")), "{error:?}");
    }
    assert_eq!(log_length(&app).await, 1);
    assert!(stores.snapshots.select_events(widget.id(), EventQuery::all()).await.unwrap().is_empty());
}
