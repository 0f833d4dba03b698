//! The sync tests (their bodies are in `syncing/`) on PostgreSQL: each test's
//! server on a fresh database of the throwaway cluster. Built with
//! `--features postgres-tests` only: start the cluster first with
//! `source scripts/postgres.sh`.

#[path = "../../tests/contract/dog.rs"]
mod dog;
mod support;
#[macro_use]
mod syncing;

use support::postgres::{fresh_database, start};

sync_suite!(|test: &str| start(&fresh_database(), test));
