//! The application recorder contract: the notification log.

use std::rc::Rc;

use tributary::persistence::{ApplicationRecorder, EventQuery, NotificationQuery, Recording, StoredEvent, Tracking};
use tributary::Error;
use uuid::Uuid;

use super::stored;

pub async fn notification_ids_count_from_one_in_commit_order(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    assert_eq!(recorder.insert_events(&[stored(a, 1, "Dog.Registered"), stored(b, 1, "Dog.Registered")]).await.unwrap(), vec![1, 2]);
    assert_eq!(recorder.insert_events(&[stored(a, 2, "Dog.TrickAdded")]).await.unwrap(), vec![3]);

    let log = recorder.select_notifications(&NotificationQuery::new(1, 10)).await.unwrap();
    let positions: Vec<_> = log.iter().map(|n| (n.id, n.originator_id, n.originator_version)).collect();
    assert_eq!(positions, vec![(1, a, 1), (2, b, 1), (3, a, 2)]);
    assert_eq!(log[2].state, stored(a, 2, "Dog.TrickAdded").state);
}

pub async fn a_conflicting_insert_takes_no_notification_id(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 1, "Dog.Registered")]).await.unwrap();
    let error = recorder.insert_events(&[stored(id, 2, "Dog.TrickAdded"), stored(id, 1, "Dog.Registered")]).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }));
    assert_eq!(recorder.max_notification_id().await.unwrap(), Some(1));
    assert_eq!(recorder.insert_events(&[stored(id, 2, "Dog.TrickAdded")]).await.unwrap(), vec![2], "no gap after a conflict");
}

pub async fn select_notifications_honours_start_limit_stop_and_topics(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    let topics = ["Dog.Registered", "Dog.TrickAdded", "Dog.Renamed"];
    let events: Vec<_> = (1..=9).map(|v| stored(id, v, topics[(v as usize - 1) % 3])).collect();
    recorder.insert_events(&events).await.unwrap();
    let ids = |query: NotificationQuery| {
        let recorder = &recorder;
        async move { recorder.select_notifications(&query).await.unwrap().iter().map(|n| n.id).collect::<Vec<_>>() }
    };

    assert_eq!(ids(NotificationQuery::new(1, 3)).await, vec![1, 2, 3]);
    assert_eq!(ids(NotificationQuery::new(4, 100)).await, vec![4, 5, 6, 7, 8, 9]);
    assert_eq!(ids(NotificationQuery { stop: Some(6), ..NotificationQuery::new(4, 100) }).await, vec![4, 5, 6]);
    assert_eq!(ids(NotificationQuery { topics: vec!["Dog.TrickAdded".into()], ..NotificationQuery::new(1, 100) }).await, vec![2, 5, 8]);
    let two_topics = NotificationQuery { topics: vec!["Dog.TrickAdded".into(), "Dog.Renamed".into()], ..NotificationQuery::new(3, 3) };
    assert_eq!(ids(two_topics).await, vec![3, 5, 6]);
    assert_eq!(
        ids(NotificationQuery { topics: vec!["Dog.Renamed".into()], stop: Some(7), ..NotificationQuery::new(1, 100) }).await,
        vec![3, 6]
    );
    assert_eq!(ids(NotificationQuery::new(10, 5)).await, Vec::<u64>::new());
}

pub async fn max_notification_id_is_none_then_the_newest(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    assert_eq!(recorder.max_notification_id().await.unwrap(), None);
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 1, "Dog.Registered"), stored(id, 2, "Dog.TrickAdded")]).await.unwrap();
    assert_eq!(recorder.max_notification_id().await.unwrap(), Some(2));
}

fn snapshot(id: Uuid, version: u64) -> StoredEvent {
    stored(id, version, "eventsourcing.domain:Snapshot")
}

fn tracking(id: u64) -> Tracking {
    Tracking { application_name: "upstream".into(), notification_id: id }
}

pub async fn record_writes_events_snapshots_and_tracking_together(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    let events = [stored(id, 1, "Dog.Registered"), stored(id, 2, "Dog.TrickAdded")];
    let ids = recorder.record(Recording { events: &events, snapshots: &[snapshot(id, 2)], tracking: Some(&tracking(7)) }).await.unwrap();
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(recorder.select_events(id, EventQuery::all()).await.unwrap().len(), 2);
    assert_eq!(recorder.snapshots().select_events(id, EventQuery::all()).await.unwrap(), vec![snapshot(id, 2)]);
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), Some(7));
}

pub async fn a_recording_with_a_duplicate_tracking_record_writes_nothing(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    recorder.insert_tracking(&tracking(7)).await.unwrap();
    let id = Uuid::new_v4();
    let events = [stored(id, 1, "Dog.Registered")];
    let error =
        recorder.record(Recording { events: &events, snapshots: &[snapshot(id, 1)], tracking: Some(&tracking(7)) }).await.unwrap_err();
    assert_eq!(error, Error::DuplicateTracking { application_name: "upstream".into(), notification_id: 7 });
    assert!(recorder.select_events(id, EventQuery::all()).await.unwrap().is_empty());
    assert!(recorder.snapshots().select_events(id, EventQuery::all()).await.unwrap().is_empty());
    assert_eq!(recorder.max_notification_id().await.unwrap(), None);
}

pub async fn a_recording_with_a_taken_snapshot_position_writes_nothing(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    recorder.snapshots().insert_events(&[snapshot(id, 1)]).await.unwrap();
    let events = [stored(id, 1, "Dog.Registered")];
    let error =
        recorder.record(Recording { events: &events, snapshots: &[snapshot(id, 1)], tracking: Some(&tracking(1)) }).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { originator_version: 1, .. }), "{error:?}");
    assert!(recorder.select_events(id, EventQuery::all()).await.unwrap().is_empty());
    assert_eq!(recorder.max_tracking_id("upstream").await.unwrap(), None);
}

pub async fn append_hands_prepare_the_newest_events_and_inserts_what_it_makes(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let (a, b, fresh) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    recorder
        .insert_events(&[stored(a, 1, "Dog.Registered"), stored(a, 2, "Dog.TrickAdded"), stored(b, 1, "Dog.Registered")])
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut prepare = |heads: &[Option<StoredEvent>]| {
        seen = heads.iter().map(|h| h.as_ref().map(|e| (e.originator_id, e.originator_version, e.state.clone()))).collect();
        Ok(vec![stored(a, 3, "Dog.TrickAdded"), stored(fresh, 1, "Dog.Registered")])
    };
    assert_eq!(recorder.append(&[a, b, fresh], &mut prepare).await.unwrap(), vec![4, 5]);
    assert_eq!(seen, vec![Some((a, 2, stored(a, 2, "Dog.TrickAdded").state)), Some((b, 1, stored(b, 1, "Dog.Registered").state)), None]);
    let log = recorder.select_notifications(&NotificationQuery::new(4, 10)).await.unwrap();
    assert_eq!(log.iter().map(|n| (n.originator_id, n.originator_version)).collect::<Vec<_>>(), vec![(a, 3), (fresh, 1)]);
}

pub async fn an_append_whose_prepare_fails_or_conflicts_writes_nothing(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 1, "Dog.Registered")]).await.unwrap();
    let refused = recorder.append(&[id], &mut |_| Err(Error::Validation("no".into()))).await.unwrap_err();
    assert_eq!(refused, Error::Validation("no".into()));
    let taken =
        recorder.append(&[id], &mut |_| Ok(vec![stored(id, 2, "Dog.TrickAdded"), stored(id, 1, "Dog.Registered")])).await.unwrap_err();
    assert!(matches!(taken, Error::Conflict { originator_version: 1, .. }), "{taken:?}");
    assert_eq!(recorder.max_notification_id().await.unwrap(), Some(1));
    assert_eq!(recorder.select_events(id, EventQuery::all()).await.unwrap().len(), 1);
}

pub async fn notifications_with_head_give_the_newest_id_they_were_read_at(recorder: Rc<impl ApplicationRecorder + ?Sized>) {
    assert_eq!(recorder.select_notifications_with_head(&NotificationQuery::new(1, 10)).await.unwrap(), (vec![], 0));
    let id = Uuid::new_v4();
    let topics = ["Dog.Registered", "Dog.TrickAdded", "Dog.TrickAdded", "Dog.Renamed"];
    let events: Vec<_> = topics.iter().enumerate().map(|(v, topic)| stored(id, v as u64 + 1, topic)).collect();
    recorder.insert_events(&events).await.unwrap();
    let query = NotificationQuery { topics: vec!["Dog.TrickAdded".into()], ..NotificationQuery::new(1, 10) };
    let (tricks, head) = recorder.select_notifications_with_head(&query).await.unwrap();
    assert_eq!((tricks.iter().map(|n| n.id).collect::<Vec<_>>(), head), (vec![2, 3], 4));
    let (page, head) = recorder.select_notifications_with_head(&NotificationQuery::new(2, 2)).await.unwrap();
    assert_eq!((page.iter().map(|n| n.id).collect::<Vec<_>>(), head), (vec![2, 3], 4));
    let (past, head) = recorder.select_notifications_with_head(&NotificationQuery::new(9, 2)).await.unwrap();
    assert_eq!((past.len(), head), (0, 4));
}
