//! Every contract suite of the core on the SQLite adapter, each test on a
//! fresh database file.

#[path = "../../tests/contract/mod.rs"]
#[macro_use]
mod contract;

use tributary_server::sqlite::SqliteRecorder;

/// A fresh database file in cargo's temporary folder for tests.
fn fresh() -> SqliteRecorder {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("contract-{}.sqlite", uuid::Uuid::new_v4()));
    SqliteRecorder::open(&path).unwrap()
}

macro_rules! sqlite {
    ($alias:ident, $suite:ident, $factory:expr, $($test:ident),* $(,)?) => {
        mod $alias {
            $( #[test] fn $test() { futures::executor::block_on(crate::contract::$suite::$test($factory)) } )*
        }
    };
}

one_recorder_suite!(sqlite, crate::fresh());
