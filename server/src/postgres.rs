//! The PostgreSQL adapter of the core's recorder ports, in the Python library's
//! PostgreSQL layout (`eventsourcing.postgres`), so that a Python application
//! with `PERSISTENCE_MODULE=eventsourcing.postgres` and `POSTGRES_SCHEMA` set to
//! the tenant reads what was pushed, and the other way round:
//!
//! - one schema per tenant; in it, per application (its name lowercased, as
//!   Python's factory does): `{app}_events` (`originator_id uuid`, `state
//!   bytea`, `notification_id bigserial` with a unique index), `{app}_snapshots`,
//!   `{app}_tracking` (one row per name, its newest position);
//! - beside them, tributary's own: `{app}_tributary_rows` and
//!   `{app}_tributary_index` for views.
//!
//! Each port call is one transaction on a pooled connection. Inserting into the
//! log takes the events table's lock as Python does, gives the ids after the
//! newest committed (so a process killed mid-write leaves no gap), and
//! announces the new head with `NOTIFY` on Python's channel (`{app}_events`),
//! which [`Listener`] hears.

mod append;
mod events;
mod listen;
mod pool;
mod pushes;
mod schema;
mod snapshots;
mod sync;
mod views;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use deadpool_postgres::{GenericClient, Object, Pool, PoolError};
use tokio::sync::watch;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tributary::Error;

pub use listen::Listener;
pub use pool::{connect, let_idle_go, Database};
pub use schema::Tables;
pub use snapshots::PostgresSnapshots;

/// One application's events, notifications, tracking records and views, in
/// its tables of one schema. Clones share the pool.
#[derive(Clone)]
pub struct PostgresRecorder {
    pool: Pool,
    tables: Arc<Tables>,
    /// Its database's [`Database::wants`] (if it gives way), and the count last seen.
    wants: Option<(watch::Receiver<u64>, Arc<AtomicU64>)>,
}

impl PostgresRecorder {
    /// Opens an application's tables (see [`Tables::new`]), creating the schema
    /// and tables if missing.
    pub async fn open(pool: Pool, tables: Arc<Tables>) -> tributary::Result<Self> {
        let recorder = PostgresRecorder { pool, tables, wants: None };
        let mut client = recorder.client().await?;
        schema::prepare(&mut client, &recorder.tables).await?;
        Ok(recorder)
    }

    /// The same, [`ServerRecorder::wanted`] each time another thread starts
    /// waiting for a place among `wants`' database's connections.
    ///
    /// [`ServerRecorder::wanted`]: crate::recorder::ServerRecorder::wanted
    pub fn giving_way(self, wants: watch::Receiver<u64>) -> Self {
        let seen = Arc::new(AtomicU64::new(*wants.borrow()));
        PostgresRecorder { wants: Some((wants, seen)), ..self }
    }

    /// The tables it keeps.
    pub fn tables(&self) -> &Arc<Tables> {
        &self.tables
    }

    /// A connection from the pool.
    async fn client(&self) -> tributary::Result<Object> {
        self.pool.get().await.map_err(|e| unreachable("connecting to PostgreSQL", e))
    }
}

/// What a PostgreSQL error says, its causes included (its own text is often
/// only "db error" or "error connecting to server").
fn explain(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}{}", db.message(), db.detail().map(|d| format!(" ({d})")).unwrap_or_default());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    text
}

/// A connection the pool could not give, as a storage error.
fn unreachable(doing: &str, error: PoolError) -> Error {
    match error {
        PoolError::Backend(error) => Error::Storage(format!("{doing}: {}", explain(&error))),
        other => Error::Storage(format!("{doing}: {other}")),
    }
}

/// A PostgreSQL failure as a typed error that says what was being done: bad
/// data (a NUL in a text, say) is a validation error, anything else storage.
fn failed(doing: &'static str) -> impl Fn(tokio_postgres::Error) -> Error {
    move |error| match error.as_db_error() {
        Some(db) if db.code().code().starts_with("22") => Error::invalid(format!("{doing}: PostgreSQL refused the data: {}", db.message())),
        _ => Error::Storage(format!("{doing}: {}", explain(&error))),
    }
}

/// Whether an error is a unique constraint's (a taken position).
fn taken(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A column of a row; a corrupt-record error (not a panic) when it is not of
/// the expected type (a table made by someone else, say).
fn column<'a, T: FromSql<'a>>(row: &'a tokio_postgres::Row, index: usize) -> tributary::Result<T> {
    row.try_get(index).map_err(|e| Error::corrupt(format!("a stored row is not as expected: {e}")))
}

/// Runs a statement, prepared once per connection, and returns its rows.
async fn query<C: GenericClient>(
    client: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.query(&statement, params).await
}

/// Runs a statement, prepared once per connection; returns how many rows it changed.
async fn execute<C: GenericClient>(client: &C, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_cached(sql).await?;
    client.execute(&statement, params).await
}
