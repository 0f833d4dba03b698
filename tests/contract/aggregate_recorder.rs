//! The aggregate recorder contract.

use std::rc::Rc;

use tributary::persistence::{AggregateRecorder, EventQuery, StoredEvent};
use tributary::Error;
use uuid::Uuid;

use super::stored;

fn versions(events: &[StoredEvent]) -> Vec<u64> {
    events.iter().map(|e| e.originator_version).collect()
}

pub async fn insert_then_select_returns_events_in_version_order(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    recorder
        .insert_events(&[stored(a, 1, "Dog.Registered"), stored(b, 1, "Dog.Registered"), stored(a, 2, "Dog.TrickAdded")])
        .await
        .unwrap();
    recorder.insert_events(&[stored(a, 3, "Dog.TrickAdded")]).await.unwrap();

    let selected = recorder.select_events(a, EventQuery::all()).await.unwrap();
    assert_eq!(selected, vec![stored(a, 1, "Dog.Registered"), stored(a, 2, "Dog.TrickAdded"), stored(a, 3, "Dog.TrickAdded")]);
    assert_eq!(versions(&recorder.select_events(b, EventQuery::all()).await.unwrap()), vec![1]);
}

pub async fn select_honours_gt_lte_desc_and_limit(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    let events: Vec<_> = (1..=10).map(|v| stored(id, v, "Dog.TrickAdded")).collect();
    recorder.insert_events(&events).await.unwrap();
    let select = |gt, lte, desc, limit| recorder.select_events(id, EventQuery { gt, lte, desc, limit });

    assert_eq!(versions(&select(Some(3), None, false, None).await.unwrap()), vec![4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(versions(&select(None, Some(3), false, None).await.unwrap()), vec![1, 2, 3]);
    assert_eq!(versions(&select(Some(2), Some(5), false, None).await.unwrap()), vec![3, 4, 5]);
    assert_eq!(versions(&select(None, None, true, Some(3)).await.unwrap()), vec![10, 9, 8]);
    assert_eq!(versions(&select(Some(2), Some(8), true, Some(2)).await.unwrap()), vec![8, 7]);
    assert_eq!(versions(&select(None, None, false, Some(2)).await.unwrap()), vec![1, 2]);
    assert_eq!(versions(&select(Some(10), None, false, None).await.unwrap()), Vec::<u64>::new());
}

pub async fn select_of_an_unknown_aggregate_is_empty(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    recorder.insert_events(&[stored(Uuid::new_v4(), 1, "Dog.Registered")]).await.unwrap();
    assert!(recorder.select_events(Uuid::new_v4(), EventQuery::all()).await.unwrap().is_empty());
}

pub async fn state_bytes_round_trip_unchanged(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    let mut event = stored(id, 1, "Dog.Registered");
    event.state = (0..=255u8).chain([0, 0xff, 0x80]).collect();
    recorder.insert_events(std::slice::from_ref(&event)).await.unwrap();
    assert_eq!(recorder.select_events(id, EventQuery::all()).await.unwrap(), vec![event]);
}

pub async fn insert_at_a_taken_version_conflicts_naming_the_aggregate_and_writes_nothing(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let (taken, innocent) = (Uuid::new_v4(), Uuid::new_v4());
    recorder.insert_events(&[stored(taken, 1, "Dog.Registered")]).await.unwrap();

    let error = recorder
        .insert_events(&[stored(innocent, 1, "Dog.Registered"), stored(taken, 2, "Dog.TrickAdded"), stored(taken, 1, "Dog.Registered")])
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Conflict { originator_id, originator_version: 1, .. } if originator_id == taken), "{error:?}");
    assert!(error.to_string().contains(&taken.to_string()), "the message names the aggregate: {error}");
    assert!(recorder.select_events(innocent, EventQuery::all()).await.unwrap().is_empty());
    assert_eq!(versions(&recorder.select_events(taken, EventQuery::all()).await.unwrap()), vec![1]);
}

pub async fn a_batch_repeating_a_position_conflicts_and_writes_nothing(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let id = Uuid::new_v4();
    let error = recorder.insert_events(&[stored(id, 1, "Dog.Registered"), stored(id, 1, "Dog.Registered")]).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { originator_version: 1, .. }), "{error:?}");
    assert!(recorder.select_events(id, EventQuery::all()).await.unwrap().is_empty());
}

pub async fn invalid_records_are_refused_before_anything_is_written(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    let good = Uuid::new_v4();
    // (Version 0 is a position: Python's aggregates with `INITIAL_VERSION = 0` start there.)
    for bad in [stored(Uuid::nil(), 1, "Dog.Registered"), stored(Uuid::new_v4(), 1, "")] {
        let error = recorder.insert_events(&[stored(good, 1, "Dog.Registered"), bad]).await.unwrap_err();
        assert!(matches!(error, Error::Validation(_)), "{error:?}");
    }
    assert!(recorder.select_events(good, EventQuery::all()).await.unwrap().is_empty());
}

pub async fn version_zero_is_a_position_like_any_other(recorder: Rc<impl AggregateRecorder + ?Sized>) {
    // Python's aggregates with `INITIAL_VERSION = 0` (BIOMERO's) start there.
    let id = Uuid::new_v4();
    recorder.insert_events(&[stored(id, 0, "Run.Initiated"), stored(id, 1, "Run.Stepped")]).await.unwrap();
    assert_eq!(versions(&recorder.select_events(id, EventQuery::all()).await.unwrap()), [0, 1]);
    assert_eq!(versions(&recorder.select_events(id, EventQuery { gt: Some(0), ..EventQuery::all() }).await.unwrap()), [1]);
    assert_eq!(versions(&recorder.select_events(id, EventQuery { lte: Some(0), ..EventQuery::all() }).await.unwrap()), [0]);
    assert_eq!(versions(&recorder.select_events(id, EventQuery { desc: true, ..EventQuery::all() }).await.unwrap()), [1, 0]);
    let error = recorder.insert_events(&[stored(id, 0, "Run.Initiated")]).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { originator_version: 0, .. }), "{error:?}");
}
