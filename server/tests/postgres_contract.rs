//! Every contract suite of the core on the PostgreSQL adapter, each test on a
//! fresh schema of the database at `TRIBUTARY_TEST_POSTGRES`. Built with
//! `--features postgres-tests` only: start a throwaway cluster first with
//! `source scripts/postgres.sh` (it exports the variable).

#[path = "../../tests/contract/mod.rs"]
#[macro_use]
mod contract;

use std::sync::Arc;

use tributary_server::postgres::{connect, PostgresRecorder, Tables};

thread_local! {
    /// Each test thread's runtime: it drives the pool's connections between tests' calls too.
    static RUNTIME: tokio::runtime::Runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the test");
}

/// The test database's URL; without one, every test here fails saying how to get one.
fn url() -> String {
    std::env::var("TRIBUTARY_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!("TRIBUTARY_TEST_POSTGRES is not set: start a throwaway cluster with `source scripts/postgres.sh` (it exports it)")
    })
}

/// A recorder over a fresh schema (tests do not see each other's tables).
fn fresh() -> PostgresRecorder {
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            let pool = connect(&url(), 4).await.unwrap();
            let tables = Tables::new(&format!("contract_{}", uuid::Uuid::new_v4().simple()), "dogschool").unwrap();
            PostgresRecorder::open(pool, Arc::new(tables)).await.unwrap()
        })
    })
}

macro_rules! postgres {
    ($alias:ident, $suite:ident, $factory:expr, $($test:ident),* $(,)?) => {
        mod $alias {
            $( #[test] fn $test() {
                let stores = $factory;
                crate::RUNTIME.with(|runtime| runtime.block_on(crate::contract::$suite::$test(stores)))
            } )*
        }
    };
}

one_recorder_suite!(postgres, crate::fresh());

/// Ids that a writer took and never committed (a server process killed between
/// its insert and its commit, say) are given again, so the log has no gaps; a
/// writer using the sequence (Python's) goes on after the ids tributary gave.
#[test]
fn ids_a_writer_took_and_never_committed_are_given_again() {
    use tributary::persistence::{AggregateRecorder, StoredEvent};
    let recorder = fresh();
    let events = format!("\"{}\".dogschool_events", recorder.tables().schema);
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            let dog = uuid::Uuid::new_v4();
            let stored =
                |version, topic: &str| StoredEvent { originator_id: dog, originator_version: version, topic: topic.into(), state: vec![] };
            assert_eq!(recorder.insert_events(&[stored(1, "Dog.Registered")]).await.unwrap(), vec![1]);
            let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client
                .batch_execute(&format!(
                    "BEGIN; INSERT INTO {events} (originator_id, originator_version, topic, state) \
                     VALUES ('{dog}', 2, 'Dog.TrickAdded', ''), ('{dog}', 3, 'Dog.TrickAdded', ''); ROLLBACK"
                ))
                .await
                .unwrap();
            let ids = recorder.insert_events(&[stored(2, "Dog.TrickAdded"), stored(3, "Dog.TrickAdded")]).await.unwrap();
            assert_eq!(ids, vec![2, 3], "the ids the rolled back insert took");
            // and a writer using the column's default (as Python's does) goes on after tributary's ids
            let ids = recorder.insert_events(&[stored(4, "Dog.TrickAdded"), stored(5, "Dog.TrickAdded")]).await.unwrap();
            assert_eq!(ids, vec![4, 5]);
            let row = client
                .query_one(
                    &format!(
                        "INSERT INTO {events} (originator_id, originator_version, topic, state) \
                         VALUES ('{dog}', 6, 'Dog.TrickAdded', '') RETURNING notification_id"
                    ),
                    &[],
                )
                .await
                .unwrap();
            assert_eq!(row.get::<_, i64>(0), 6, "the sequence follows the ids tributary gives");
        })
    });
}
