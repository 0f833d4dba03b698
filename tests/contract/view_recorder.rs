//! The view recorder contract.

use std::rc::Rc;

use serde_json::json;
use tributary::persistence::Tracking;
use tributary::persistence::{IndexKey, RowChanges, RowQuery, ViewDefinition, ViewRecorder};
use tributary::Error;

fn view() -> ViewDefinition {
    ViewDefinition::new("tricks", &[], &["count", "name"]).unwrap()
}

fn tracking(id: u64) -> Tracking {
    Tracking { application_name: "tricks".into(), notification_id: id }
}

fn changes(rows: &[(&str, Option<serde_json::Value>)]) -> RowChanges {
    rows.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

pub async fn rows_and_position_commit_together(recorder: Rc<impl ViewRecorder + ?Sized>) {
    let first = changes(&[("sit", Some(json!({"count": 1}))), ("beg", Some(json!({"count": 2})))]);
    recorder.commit_view(&view(), &first, None, &tracking(4)).await.unwrap();
    assert_eq!(recorder.get_row("tricks", "sit").await.unwrap(), Some(json!({"count": 1})));
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(4));
    let second = changes(&[("sit", None), ("roll", Some(json!({"count": 3})))]);
    recorder.commit_view(&view(), &second, Some(4), &tracking(9)).await.unwrap();
    assert_eq!(recorder.get_row("tricks", "sit").await.unwrap(), None);
    let keys: Vec<String> = recorder.query_rows("tricks", &RowQuery::default()).await.unwrap().into_iter().map(|r| r.key).collect();
    assert_eq!(keys, vec!["beg", "roll"]);
    assert_eq!(recorder.get_row("other", "beg").await.unwrap(), None, "views are separate");
}

pub async fn a_commit_from_a_stale_position_writes_nothing(recorder: Rc<impl ViewRecorder + ?Sized>) {
    recorder.commit_view(&view(), &changes(&[("sit", Some(json!({"count": 1})))]), None, &tracking(4)).await.unwrap();
    for stale in [None, Some(3)] {
        let error = recorder.commit_view(&view(), &changes(&[("sit", Some(json!({"count": 99})))]), stale, &tracking(8)).await.unwrap_err();
        assert_eq!(error, Error::Stale { application_name: "tricks".into(), expected: stale, found: Some(4) });
    }
    let repeat = recorder.commit_view(&view(), &changes(&[("sit", Some(json!({"count": 99})))]), Some(4), &tracking(4)).await.unwrap_err();
    assert!(matches!(repeat, Error::DuplicateTracking { .. }));
    assert_eq!(recorder.get_row("tricks", "sit").await.unwrap(), Some(json!({"count": 1})));
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), Some(4));
}

pub async fn index_queries_are_ordered_and_bounded(recorder: Rc<impl ViewRecorder + ?Sized>) {
    let rows = changes(&[
        ("a", Some(json!({"count": 3, "name": "sit"}))),
        ("b", Some(json!({"count": 1, "name": "beg"}))),
        ("c", Some(json!({"count": 2, "name": "roll"}))),
        ("d", Some(json!({"count": 2, "name": "stay"}))),
        ("e", Some(json!({"count": "many"}))),
        ("f", Some(json!({"count": null, "name": "down"}))),
        ("\u{0}lookup", Some(json!({"count": 1, "name": "private"}))),
        ("", Some(json!({"name": "empty key"}))),
    ]);
    recorder.commit_view(&view(), &rows, None, &tracking(1)).await.unwrap();
    let keys = |query: RowQuery| {
        let recorder = recorder.clone();
        async move { recorder.query_rows("tricks", &query).await.unwrap().into_iter().map(|r| r.key).collect::<Vec<_>>() }
    };
    let count = |q: RowQuery| RowQuery { index: Some("count".into()), ..q };
    let n = |v: f64| Some(IndexKey::Number(v));
    assert_eq!(keys(count(RowQuery::default())).await, vec!["b", "c", "d", "a", "e"], "numbers, then strings; no nulls");
    assert_eq!(keys(count(RowQuery { gte: n(2.0), ..RowQuery::default() })).await, vec!["c", "d", "a", "e"]);
    assert_eq!(keys(count(RowQuery { gt: n(1.0), lt: n(3.0), ..RowQuery::default() })).await, vec!["c", "d"]);
    assert_eq!(keys(count(RowQuery { lte: n(2.0), limit: Some(2), ..RowQuery::default() })).await, vec!["b", "c"]);
    assert_eq!(keys(RowQuery::equal("count", IndexKey::Number(2.0))).await, vec!["c", "d"]);
    assert_eq!(keys(RowQuery::equal("name", IndexKey::Text("roll".into()))).await, vec!["c"]);
    assert_eq!(keys(RowQuery { limit: Some(3), ..RowQuery::default() }).await, vec!["", "a", "b"]);
    assert_eq!(keys(RowQuery::default()).await, vec!["", "a", "b", "c", "d", "e", "f"], "private rows are not listed; the empty key is");
    assert_eq!(keys(RowQuery::equal("name", IndexKey::Text("empty key".into()))).await, vec![""]);
    assert_eq!(
        recorder.get_row("tricks", "\u{0}lookup").await.unwrap(),
        Some(json!({"count": 1, "name": "private"})),
        "but readable by key"
    );
}

pub async fn clearing_a_view_drops_its_rows_and_position_only(recorder: Rc<impl ViewRecorder + ?Sized>) {
    recorder.commit_view(&view(), &changes(&[("sit", Some(json!({"count": 1})))]), None, &tracking(4)).await.unwrap();
    let other = ViewDefinition::new("other", &[], &[]).unwrap();
    let tracked = Tracking { application_name: "other".into(), notification_id: 4 };
    recorder.commit_view(&other, &changes(&[("sit", Some(json!(1)))]), None, &tracked).await.unwrap();
    recorder.clear_view("tricks").await.unwrap();
    assert!(recorder.query_rows("tricks", &RowQuery::default()).await.unwrap().is_empty());
    assert_eq!(recorder.max_tracking_id("tricks").await.unwrap(), None);
    assert_eq!(recorder.get_row("other", "sit").await.unwrap(), Some(json!(1)));
    assert_eq!(recorder.max_tracking_id("other").await.unwrap(), Some(4));
    recorder.commit_view(&view(), &changes(&[("beg", Some(json!({"count": 1})))]), None, &tracking(2)).await.unwrap();
}

pub async fn every_bound_of_a_range_holds_an_empty_range_is_empty_and_a_limit_of_0_gives_none(recorder: Rc<impl ViewRecorder + ?Sized>) {
    let rows = changes(&[
        ("a", Some(json!({"count": 1}))),
        ("b", Some(json!({"count": 2}))),
        ("c", Some(json!({"count": 3}))),
        ("d", Some(json!({"count": 4}))),
        ("e", Some(json!({"count": "many"}))),
    ]);
    recorder.commit_view(&view(), &rows, None, &tracking(1)).await.unwrap();
    let keys = |query: RowQuery| {
        let recorder = recorder.clone();
        async move { recorder.query_rows("tricks", &query).await.unwrap().into_iter().map(|r| r.key).collect::<Vec<_>>() }
    };
    let count = |q: RowQuery| RowQuery { index: Some("count".into()), ..q };
    let (n, t) = (|v: f64| Some(IndexKey::Number(v)), |v: &str| Some(IndexKey::Text(v.into())));
    let none = Vec::<String>::new();
    assert_eq!(keys(count(RowQuery { gt: n(1.0), gte: n(3.0), ..RowQuery::default() })).await, vec!["c", "d", "e"]);
    assert_eq!(keys(count(RowQuery { gt: n(3.0), gte: n(3.0), ..RowQuery::default() })).await, vec!["d", "e"]);
    assert_eq!(keys(count(RowQuery { lt: n(4.0), lte: n(2.0), ..RowQuery::default() })).await, vec!["a", "b"]);
    assert_eq!(keys(count(RowQuery { gt: n(3.0), lt: n(2.0), ..RowQuery::default() })).await, none, "crossed");
    assert_eq!(keys(count(RowQuery { gte: n(2.0), lt: n(2.0), ..RowQuery::default() })).await, none, "half-open point");
    assert_eq!(keys(count(RowQuery { gte: t("a"), lte: n(9.0), ..RowQuery::default() })).await, none, "text above numbers");
    assert_eq!(keys(count(RowQuery { limit: Some(0), ..RowQuery::default() })).await, none, "a limit of 0");
    assert_eq!(keys(RowQuery { limit: Some(0), ..RowQuery::default() }).await, none);
}
