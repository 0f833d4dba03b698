//! The sync recorder contract: what sync brings changes the log all at once.

use std::rc::Rc;

use serde_json::json;
use tributary::persistence::{
    EventQuery, NotificationQuery, Removal, RowChanges, RowQuery, SyncRecorder, SyncWrite, Tracking, ViewDefinition, CLEARED,
};
use tributary::Error;
use uuid::Uuid;

use super::stored;

fn server(id: u64) -> Tracking {
    Tracking { application_name: "sync:server".into(), notification_id: id }
}

fn rows(entries: &[(&str, Option<serde_json::Value>)]) -> RowChanges {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// A view that has processed the local log up to `position`.
async fn view_at(recorder: &Rc<impl SyncRecorder + ?Sized>, name: &str, position: u64) {
    let view = ViewDefinition::new(name, &[], &[]).unwrap();
    let tracking = Tracking { application_name: name.into(), notification_id: position };
    recorder.commit_view(&view, &rows(&[("sit", Some(json!(1)))]), None, &tracking).await.unwrap();
}

pub async fn pulled_events_removals_position_rows_and_cleared_views_go_in_together(recorder: Rc<impl SyncRecorder + ?Sized>) {
    let (dog, cat) = (Uuid::new_v4(), Uuid::new_v4());
    recorder
        .insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded"), stored(cat, 1, "Cat.Born")])
        .await
        .unwrap();
    recorder.snapshots().insert_events(&[stored(dog, 2, "snapshot")]).await.unwrap();
    view_at(&recorder, "tricks", 3).await;
    view_at(&recorder, "cats", 3).await;
    // the server's dog v2 wins over the local one
    let theirs = stored(dog, 2, "Dog.Renamed");
    let state = rows(&[("state", Some(json!({"watermark": 1})))]);
    let write = SyncWrite {
        events: std::slice::from_ref(&theirs),
        removed: &[Removal { notification_id: 2, originator_id: dog, originator_version: 2 }],
        tracking: Some(&server(9)),
        rows: &[("\u{0}sync", &state)],
        cleared: &["tricks".to_string()],
    };
    assert_eq!(recorder.write_sync(write).await.unwrap(), vec![4], "a new id after every id ever given");
    let log = recorder.select_notifications(&NotificationQuery::new(1, 10)).await.unwrap();
    assert_eq!(
        log.iter().map(|n| (n.id, n.topic.as_str())).collect::<Vec<_>>(),
        vec![(1, "Dog.Registered"), (3, "Cat.Born"), (4, "Dog.Renamed")]
    );
    assert_eq!(recorder.select_events(dog, EventQuery::all()).await.unwrap(), vec![stored(dog, 1, "Dog.Registered"), theirs]);
    assert!(
        recorder.snapshots().select_events(dog, EventQuery::all()).await.unwrap().is_empty(),
        "the removed version's snapshot went too"
    );
    assert_eq!(recorder.max_tracking_id("sync:server").await.unwrap(), Some(9));
    assert_eq!(recorder.get_row("\u{0}sync", "state").await.unwrap(), Some(json!({"watermark": 1})));
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap().unwrap_or(0), 0, "a cleared view starts again");
    assert!(recorder.query_rows("tricks", &RowQuery::default()).await.unwrap().is_empty());
    assert_eq!(recorder.max_tracking_id("cats").await.unwrap(), Some(3), "other views stay");
}

pub async fn a_removed_events_id_is_never_given_again(recorder: Rc<impl SyncRecorder + ?Sized>) {
    let dog = Uuid::new_v4();
    recorder.insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded")]).await.unwrap();
    let removal = Removal { notification_id: 2, originator_id: dog, originator_version: 2 };
    recorder.write_sync(SyncWrite { events: &[stored(dog, 2, "Dog.Renamed")], removed: &[removal], ..SyncWrite::default() }).await.unwrap();
    assert_eq!(recorder.max_notification_id().await.unwrap(), Some(3));
    assert_eq!(recorder.insert_events(&[stored(dog, 3, "Dog.TrickAdded")]).await.unwrap(), vec![4]);
}

pub async fn a_sync_write_that_cannot_be_made_writes_nothing(recorder: Rc<impl SyncRecorder + ?Sized>) {
    let dog = Uuid::new_v4();
    recorder.insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded")]).await.unwrap();
    recorder.insert_tracking(&server(5)).await.unwrap();
    let state = rows(&[("state", Some(json!(1)))]);
    let pulled = [stored(Uuid::new_v4(), 1, "Dog.Registered")];
    // a removal that does not match the log
    let wrong = Removal { notification_id: 2, originator_id: dog, originator_version: 1 };
    let error = recorder
        .write_sync(SyncWrite { events: &pulled, removed: &[wrong], rows: &[("\u{0}sync", &state)], ..SyncWrite::default() })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    // a position behind the server's
    let behind = SyncWrite { events: &pulled, tracking: Some(&server(5)), rows: &[("\u{0}sync", &state)], ..SyncWrite::default() };
    assert!(matches!(recorder.write_sync(behind).await.unwrap_err(), Error::DuplicateTracking { notification_id: 5, .. }));
    // a taken position
    let taken = [stored(dog, 2, "Dog.Renamed")];
    let error =
        recorder.write_sync(SyncWrite { events: &taken, rows: &[("\u{0}sync", &state)], ..SyncWrite::default() }).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { originator_version: 2, .. }), "{error:?}");
    assert_eq!(recorder.max_notification_id().await.unwrap(), Some(2));
    assert_eq!(recorder.max_tracking_id("sync:server").await.unwrap(), Some(5));
    assert_eq!(recorder.get_row("\u{0}sync", "state").await.unwrap(), None);
}

pub async fn a_removal_that_would_leave_a_later_version_of_its_aggregate_is_a_conflict_and_writes_nothing(
    recorder: Rc<impl SyncRecorder + ?Sized>,
) {
    let dog = Uuid::new_v4();
    recorder.insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded")]).await.unwrap();
    // sync read v2 as pending; v3 was saved on it since, and must not stay on the server's v2
    recorder.insert_events(&[stored(dog, 3, "Dog.TrickAdded")]).await.unwrap();
    let theirs = [stored(dog, 2, "Dog.Renamed")];
    let removal = Removal { notification_id: 2, originator_id: dog, originator_version: 2 };
    let state = rows(&[("state", Some(json!(1)))]);
    let write = SyncWrite {
        events: &theirs,
        removed: &[removal],
        tracking: Some(&server(7)),
        rows: &[("\u{0}sync", &state)],
        ..SyncWrite::default()
    };
    let error = recorder.write_sync(write).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { originator_version: 3, .. }), "{error:?}");
    let versions: Vec<u64> = recorder.select_events(dog, EventQuery::all()).await.unwrap().iter().map(|e| e.originator_version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(recorder.select_events(dog, EventQuery::all()).await.unwrap()[1], stored(dog, 2, "Dog.TrickAdded"));
    assert_eq!(recorder.max_tracking_id("sync:server").await.unwrap(), None);
    assert_eq!(recorder.get_row("\u{0}sync", "state").await.unwrap(), None);
    // read again, both go: the server's v2 is the newest
    let both = [removal, Removal { notification_id: 3, originator_id: dog, originator_version: 3 }];
    recorder.write_sync(SyncWrite { events: &theirs, removed: &both, tracking: Some(&server(7)), ..SyncWrite::default() }).await.unwrap();
    assert_eq!(recorder.select_events(dog, EventQuery::all()).await.unwrap(), vec![stored(dog, 1, "Dog.Registered"), theirs[0].clone()]);
}

pub async fn a_first_commit_of_a_view_read_before_sync_cleared_it_is_stale(recorder: Rc<impl SyncRecorder + ?Sized>) {
    let dog = Uuid::new_v4();
    recorder.insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded")]).await.unwrap();
    // a view's first batch (from no position) has read both events, v2 among them...
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), None);
    // ...when sync takes v2 out for the server's and clears the view
    let theirs = [stored(dog, 2, "Dog.Renamed")];
    let removal = Removal { notification_id: 2, originator_id: dog, originator_version: 2 };
    let cleared = ["tricks".to_string()];
    recorder.write_sync(SyncWrite { events: &theirs, removed: &[removal], cleared: &cleared, ..SyncWrite::default() }).await.unwrap();
    // then its commit, made of the removed event, is refused
    let view = ViewDefinition::new("tricks", &[], &[]).unwrap();
    let tracking = Tracking { application_name: "tricks".into(), notification_id: 2 };
    let error = recorder.commit_view(&view, &rows(&[("sit", Some(json!(1)))]), None, &tracking).await.unwrap_err();
    assert!(matches!(error, Error::Stale { expected: None, .. }), "{error:?}");
    assert!(recorder.query_rows("tricks", &RowQuery::default()).await.unwrap().is_empty());
    // and the view starts again from the start
    let start = recorder.max_tracking_id("tricks").await.unwrap();
    assert_eq!(start.unwrap_or(0), 0);
    let tracking = Tracking { application_name: "tricks".into(), notification_id: 3 };
    recorder.commit_view(&view, &rows(&[("renamed", Some(json!(1)))]), start, &tracking).await.unwrap();
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(3));
}

pub async fn a_commit_read_between_two_clears_is_stale_though_the_view_is_back_at_0(recorder: Rc<impl SyncRecorder + ?Sized>) {
    let dog = Uuid::new_v4();
    recorder
        .insert_events(&[stored(dog, 1, "Dog.Registered"), stored(dog, 2, "Dog.TrickAdded"), stored(dog, 3, "Dog.TrickAdded")])
        .await
        .unwrap();
    let cleared = ["tricks".to_string()];
    let theirs = [stored(dog, 3, "Dog.Renamed")];
    let removal = Removal { notification_id: 3, originator_id: dog, originator_version: 3 };
    recorder.write_sync(SyncWrite { cleared: &cleared, ..SyncWrite::default() }).await.unwrap();
    // a step starts after the first clear: at 0, with the clear's row...
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(0));
    let first = recorder.get_row("tricks", CLEARED).await.unwrap();
    assert!(first.is_some(), "a clear by sync leaves its row");
    // ...and has read v3 when a second clear takes v3 out, leaving the view at 0 again
    recorder.write_sync(SyncWrite { events: &theirs, removed: &[removal], cleared: &cleared, ..SyncWrite::default() }).await.unwrap();
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(0));
    let second = recorder.get_row("tricks", CLEARED).await.unwrap();
    assert_ne!(first, second, "each clear leaves a row of its own");
    let view = ViewDefinition::new("tricks", &[], &[]).unwrap();
    let tracking = Tracking { application_name: "tricks".into(), notification_id: 3 };
    let with = |marker: Option<serde_json::Value>| rows(&[("sit", Some(json!(2))), (CLEARED, marker)]);
    for stale in [first, None] {
        let error = recorder.commit_view(&view, &with(stale), Some(0), &tracking).await.unwrap_err();
        assert!(matches!(error, Error::Stale { .. }), "{error:?}");
    }
    assert!(recorder.query_rows("tricks", &RowQuery::default()).await.unwrap().is_empty(), "nothing of the stale steps");
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(0));
    // a step read after the second clear commits
    recorder.commit_view(&view, &with(second.clone()), Some(0), &tracking).await.unwrap();
    assert_eq!(recorder.get_row("tricks", "sit").await.unwrap(), Some(json!(2)));
    assert_eq!(recorder.get_row("tricks", CLEARED).await.unwrap(), second);
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(3));
}
