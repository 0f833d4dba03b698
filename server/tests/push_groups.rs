//! Pushes that arrive together are recorded in one transaction (group commit),
//! each decided on its own: in order, a refusal or a bad push fails alone, a
//! client's repeated push is answered as the first. On SQLite, and with
//! `--features postgres-tests` on PostgreSQL, where a group is seen to be one
//! transaction (its rows share their inserting transaction id).

use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::watch;
use tributary::persistence::{NotificationQuery, StoredEvent, Tracking};
use tributary::sync::protocol::{Push, PushReply};
use tributary::{Application, Error, Result};
use tributary_server::push::{accept_all, Accepted};
use tributary_server::recorder::ServerRecorder;
use tributary_server::sqlite::SqliteRecorder;
use tributary_server::store::Local;
use uuid::Uuid;

fn local(recorder: Rc<dyn ServerRecorder>) -> Local {
    let app = Application::new("dogschool", recorder.clone());
    Local::new(app, recorder, Arc::new(watch::channel(0).0))
}

/// A push of `client` with events of `dog` at `versions`, at positions from `first`.
fn push(client: Uuid, dog: Uuid, first: u64, versions: &[u64]) -> Push {
    let events = versions
        .iter()
        .enumerate()
        .map(|(i, version)| {
            let state = format!("{{\"trick\":\"trick {version}\"}}").into_bytes();
            (first + i as u64, StoredEvent { originator_id: dog, originator_version: *version, topic: "Dog.TrickAdded".into(), state })
        })
        .collect::<Vec<_>>();
    let through = events.last().map_or(0, |(position, _)| *position);
    Push { client_id: client, events, through }
}

fn recorded(answer: &Result<Accepted>) -> &PushReply {
    match answer {
        Ok(Accepted::Recorded(reply)) => reply,
        other => panic!("expected the push recorded, got {other:?}"),
    }
}

async fn log(local: &Local) -> Vec<(u64, Uuid, u64)> {
    let all = local.recorder.select_notifications(&NotificationQuery { start: 1, limit: 1000, stop: None, topics: vec![] }).await.unwrap();
    all.iter().map(|n| (n.id, n.originator_id, n.originator_version)).collect()
}

fn position(client: Uuid) -> String {
    format!("client:{}", client.simple())
}

/// Three clients in one group: the second wants a version the first takes
/// in the same group, so it alone is refused; the ids follow the group's order.
async fn a_group_decides_each_push_in_order_and_refuses_only_the_one_that_conflicts(local: Local) {
    let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (rex, fido) = (Uuid::new_v4(), Uuid::new_v4());
    let answers = accept_all(&local, &[push(a, rex, 1, &[1, 2, 3]), push(b, rex, 1, &[2]), push(c, fido, 1, &[1, 2])]).await;
    assert_eq!(recorded(&answers[0]), &PushReply { notification_ids: vec![1, 2, 3], position: 3 });
    match &answers[1] {
        Ok(Accepted::Refused(conflicts)) => {
            assert_eq!(conflicts.len(), 1);
            assert_eq!((conflicts[0].position, conflicts[0].originator_version), (1, 2));
        }
        other => panic!("expected the second push refused, got {other:?}"),
    }
    assert_eq!(recorded(&answers[2]), &PushReply { notification_ids: vec![4, 5], position: 2 });
    assert_eq!(log(&local).await, vec![(1, rex, 1), (2, rex, 2), (3, rex, 3), (4, fido, 1), (5, fido, 2)]);
    assert_eq!(local.recorder.max_tracking_id(&position(a)).await.unwrap(), Some(3));
    assert_eq!(local.recorder.max_tracking_id(&position(b)).await.unwrap(), None);
    assert_eq!(local.recorder.max_tracking_id(&position(c)).await.unwrap(), Some(2));
}

/// A push sent twice (a retry racing the original) in one group: both answers
/// give the same ids, and the events are recorded once.
async fn a_push_sent_twice_in_one_group_is_recorded_once_and_both_get_its_ids(local: Local) {
    let (client, rex) = (Uuid::new_v4(), Uuid::new_v4());
    let answers = accept_all(&local, &[push(client, rex, 1, &[1, 2]), push(client, rex, 1, &[1, 2])]).await;
    assert_eq!(recorded(&answers[0]), &PushReply { notification_ids: vec![1, 2], position: 2 });
    assert_eq!(recorded(&answers[1]), recorded(&answers[0]));
    assert_eq!(log(&local).await.len(), 2);
}

/// A push that cannot be right (its client's recorded position covers events
/// the log does not hold, or a version too large to store) fails alone.
async fn a_bad_push_fails_alone_and_the_rest_of_its_group_is_recorded(local: Local) {
    let (good, lost, huge) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    local.recorder.insert_tracking(&Tracking { application_name: position(lost), notification_id: 5 }).await.unwrap();
    let answers = accept_all(
        &local,
        &[push(lost, Uuid::new_v4(), 1, &[1]), push(huge, Uuid::new_v4(), 1, &[u64::MAX]), push(good, Uuid::new_v4(), 1, &[1])],
    )
    .await;
    assert!(matches!(&answers[0], Err(Error::Validation(m)) if m.contains("not the one it pushed")), "{:?}", answers[0]);
    assert!(matches!(&answers[1], Err(Error::Validation(m)) if m.contains("too large")), "{:?}", answers[1]);
    assert_eq!(recorded(&answers[2]).notification_ids, vec![1]);
    assert_eq!(log(&local).await.len(), 1);
    assert_eq!(local.recorder.max_tracking_id(&position(huge)).await.unwrap(), None);
}

/// A client whose recorded position already covers its push, though the log
/// does not hold those events (its log was not the one it pushed), alone in
/// its group: nothing of the push is new, and it fails, writing nothing
/// (PostgreSQL writes a group of new events at once and has the database
/// refuse it when it is not: this refusal is the database's). The next push
/// is then recorded.
async fn a_push_behind_its_clients_recorded_position_fails_and_writes_nothing(local: Local) {
    let (lost, good) = (Uuid::new_v4(), Uuid::new_v4());
    local.recorder.insert_tracking(&Tracking { application_name: position(lost), notification_id: 5 }).await.unwrap();
    let answers = accept_all(&local, &[push(lost, Uuid::new_v4(), 4, &[1, 2, 3])]).await;
    assert!(matches!(&answers[0], Err(Error::Validation(m)) if m.contains("not the one it pushed")), "{:?}", answers[0]);
    assert_eq!(log(&local).await.len(), 0);
    assert_eq!(local.recorder.max_tracking_id(&position(lost)).await.unwrap(), Some(5));
    let answers = accept_all(&local, &[push(good, Uuid::new_v4(), 1, &[1])]).await;
    assert_eq!(recorded(&answers[0]).notification_ids, vec![1]);
}

/// A push with a topic PostgreSQL's text cannot hold (a NUL in it) fails
/// alone, as a bad push, on every database: the pushes grouped with it are
/// recorded, and SQLite refuses it too, so that both answer alike.
async fn a_push_with_a_nul_in_a_topic_fails_alone_on_every_database(local: Local) {
    let (hostile, good) = (Uuid::new_v4(), Uuid::new_v4());
    let mut nul = push(hostile, Uuid::new_v4(), 1, &[1]);
    nul.events[0].1.topic = "Dog.\0Registered".into();
    let answers = accept_all(&local, &[nul, push(good, Uuid::new_v4(), 1, &[1, 2])]).await;
    assert!(matches!(&answers[0], Err(Error::Validation(m)) if m.contains("NUL")), "{:?}", answers[0]);
    assert_eq!(recorded(&answers[1]).notification_ids, vec![1, 2]);
    assert_eq!(log(&local).await.len(), 2);
    assert_eq!(local.recorder.max_tracking_id(&position(hostile)).await.unwrap(), None);
}

/// A version beyond SQL's bigint is refused as too large to store, also
/// where the largest version that fits is taken (the lookups saturate to it):
/// not answered as a conflict, nor as recorded by the client that took it.
async fn a_version_too_large_to_store_is_refused_even_where_the_largest_is_taken(local: Local) {
    let (first, other, rex) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let largest = i64::MAX as u64;
    recorded(&accept_all(&local, &[push(first, rex, 1, &[largest])]).await[0]);
    for (client, versions) in [(other, vec![u64::MAX]), (first, vec![u64::MAX]), (first, vec![largest, u64::MAX])] {
        let answers = accept_all(&local, &[push(client, rex, 1, &versions)]).await;
        assert!(matches!(&answers[0], Err(Error::Validation(m)) if m.contains("too large")), "{versions:?}: {:?}", answers[0]);
    }
    assert_eq!(log(&local).await, vec![(1, rex, largest)]);
    assert_eq!(local.recorder.max_tracking_id(&position(first)).await.unwrap(), Some(1));
}

macro_rules! group_tests {
    ($factory:expr) => {
        #[test]
        fn a_push_behind_its_clients_recorded_position_fails_and_writes_nothing() {
            run(|local| super::a_push_behind_its_clients_recorded_position_fails_and_writes_nothing(local), $factory);
        }
        #[test]
        fn a_group_decides_each_push_in_order_and_refuses_only_the_one_that_conflicts() {
            run(|local| super::a_group_decides_each_push_in_order_and_refuses_only_the_one_that_conflicts(local), $factory);
        }
        #[test]
        fn a_push_sent_twice_in_one_group_is_recorded_once_and_both_get_its_ids() {
            run(|local| super::a_push_sent_twice_in_one_group_is_recorded_once_and_both_get_its_ids(local), $factory);
        }
        #[test]
        fn a_push_with_a_nul_in_a_topic_fails_alone_on_every_database() {
            run(|local| super::a_push_with_a_nul_in_a_topic_fails_alone_on_every_database(local), $factory);
        }
        #[test]
        fn a_version_too_large_to_store_is_refused_even_where_the_largest_is_taken() {
            run(|local| super::a_version_too_large_to_store_is_refused_even_where_the_largest_is_taken(local), $factory);
        }
        #[test]
        fn a_bad_push_fails_alone_and_the_rest_of_its_group_is_recorded() {
            run(|local| super::a_bad_push_fails_alone_and_the_rest_of_its_group_is_recorded(local), $factory);
        }
    };
}

mod sqlite {
    use super::*;

    fn run<F: std::future::Future<Output = ()>>(test: impl FnOnce(Local) -> F, _: ()) {
        let folder = tempfile::tempdir().unwrap();
        let recorder: Rc<dyn ServerRecorder> = Rc::new(SqliteRecorder::open(&folder.path().join("app.sqlite")).unwrap());
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(test(local(recorder)));
    }

    group_tests!(());
}

#[cfg(feature = "postgres-tests")]
mod postgres {
    use super::*;
    use tributary_server::postgres::{connect, PostgresRecorder, Tables};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    async fn fresh() -> PostgresRecorder {
        let url = std::env::var("TRIBUTARY_TEST_POSTGRES").expect("TRIBUTARY_TEST_POSTGRES: `source scripts/postgres.sh` first");
        let tables = Tables::new(&format!("groups_{}", Uuid::new_v4().simple()), "dogschool").unwrap();
        PostgresRecorder::open(connect(&url, 2).await.unwrap(), Arc::new(tables)).await.unwrap()
    }

    fn run<F: std::future::Future<Output = ()>>(test: impl FnOnce(Local) -> F, _: ()) {
        runtime().block_on(async { test(local(Rc::new(fresh().await))).await });
    }

    group_tests!(());

    /// Every row a group inserts carries the same inserting transaction id
    /// (`xmin`): the group was one transaction, one commit. Pushes recorded
    /// one by one would give three.
    #[test]
    fn a_group_of_pushes_is_one_transaction() {
        runtime().block_on(async {
            let recorder = fresh().await;
            let events = format!("\"{}\".dogschool_events", recorder.tables().schema);
            let local = local(Rc::new(recorder.clone()));
            let pushes: Vec<Push> = (0..3).map(|_| push(Uuid::new_v4(), Uuid::new_v4(), 1, &[1, 2])).collect();
            for answer in accept_all(&local, &pushes).await {
                recorded(&answer);
            }
            let url = std::env::var("TRIBUTARY_TEST_POSTGRES").unwrap();
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let rows = client.query(&format!("SELECT DISTINCT xmin::text FROM {events}"), &[]).await.unwrap();
            let count: i64 = client.query_one(&format!("SELECT count(*) FROM {events}"), &[]).await.unwrap().get(0);
            assert_eq!((rows.len(), count), (1, 6));
        });
    }

    /// A group whose write fails (a position taken, as only a writer that
    /// skips the lock could make it) writes nothing, ends its transaction (the
    /// log's lock is free) and leaves its connection fit for the next group.
    #[test]
    fn a_group_whose_write_fails_writes_nothing_and_lets_the_log_go() {
        use tributary::persistence::{AggregateRecorder, TrackingRecorder};
        use tributary_server::recorder::Write;
        runtime().block_on(async {
            let url = std::env::var("TRIBUTARY_TEST_POSTGRES").unwrap();
            let tables = Tables::new(&format!("groups_{}", Uuid::new_v4().simple()), "dogschool").unwrap();
            let recorder = PostgresRecorder::open(connect(&url, 1).await.unwrap(), Arc::new(tables)).await.unwrap();
            let events = format!("\"{}\".dogschool_events", recorder.tables().schema);
            let dog = Uuid::new_v4();
            let taken = push(Uuid::new_v4(), dog, 1, &[1]).events.remove(0).1;
            recorder.insert_events(std::slice::from_ref(&taken)).await.unwrap();
            // a decision that ignores what was found, and writes over the taken position
            let client = Uuid::new_v4();
            let second = push(client, dog, 2, &[2]).events.remove(0).1;
            let mut decide = |_| Write {
                tracking: vec![Tracking { application_name: position(client), notification_id: 2 }],
                events: vec![&second, &taken],
            };
            let failed = recorder.record_pushes(&[position(client)], &[2], &[], &mut decide).await;
            assert!(matches!(failed, Err(Error::Conflict { .. })), "{failed:?}");
            let (other, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let free = format!("BEGIN; LOCK TABLE {events} IN EXCLUSIVE MODE NOWAIT; ROLLBACK");
            other.batch_execute(&free).await.expect("the log's lock is free");
            // and so does a group refused before it writes (a name the tracking table refuses)
            let mut refused = |_| Write {
                tracking: vec![Tracking { application_name: "__migration__".into(), notification_id: 2 }],
                events: vec![&second],
            };
            let failed = recorder.record_pushes(&[position(client)], &[2], &[], &mut refused).await;
            assert!(matches!(failed, Err(Error::Validation(_))), "{failed:?}");
            other.batch_execute(&free).await.expect("the log's lock is free");
            let count: i64 = other.query_one(&format!("SELECT count(*) FROM {events}"), &[]).await.unwrap().get(0);
            assert_eq!(count, 1, "nothing of the failed group was written");
            assert_eq!(recorder.max_tracking_id(&position(client)).await.unwrap(), None);
            // and the next group, on the same connection, is recorded
            let local = local(Rc::new(recorder.clone()));
            let answers = accept_all(&local, &[push(client, dog, 1, &[2])]).await;
            assert_eq!(recorded(&answers[0]).notification_ids, vec![2]);
        });
    }
}
