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

contract_suite!(postgres,
    events: std::rc::Rc::new(crate::fresh()),
    snapshots: tributary::persistence::ApplicationRecorder::snapshots(&crate::fresh()),
    tracking: std::rc::Rc::new(crate::fresh()),
    app: crate::contract::application::Stores::new(std::rc::Rc::new(crate::fresh())),
    views: std::rc::Rc::new(crate::fresh()),
    projection: crate::contract::projection::ProjectionStores::of(std::rc::Rc::new(crate::fresh())),
    sync: std::rc::Rc::new(crate::fresh()));
