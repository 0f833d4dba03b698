//! The tables, as the Python library (9.5.6) creates them for an application
//! in a schema, and tributary's beside them.

use deadpool_postgres::Object;
use tributary::{Error, Result};

use super::failed;

pub(super) use crate::sql::MIGRATION;

/// PostgreSQL's longest identifier, in bytes (longer ones are cut, silently).
const MAX_IDENTIFIER: usize = 63;

/// What Python gives each of its tables.
const AUTOVACUUM: &str = "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, \
     autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.01)";

/// One application's tables in one schema: names quoted and qualified, ready for SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// The schema, as given (one per tenant).
    pub schema: String,
    /// The channel `NOTIFY` announces new events on: Python's, the events table's name.
    pub channel: String,
    pub(super) events: String,
    pub(super) snapshots: String,
    pub(super) tracking: String,
    pub(super) rows: String,
    pub(super) index: String,
    /// The unique index on notification ids (unqualified: it lives in the table's schema).
    notification_index: String,
}

/// An identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Tables {
    /// The tables of application `app` in `schema`. As Python's factory does,
    /// the application's name is lowercased (so `Dogs` and `dogs` share tables).
    /// Every name must fit PostgreSQL's 63 bytes: a longer one is refused, not cut.
    pub fn new(schema: &str, app: &str) -> Result<Tables> {
        let prefix = app.to_lowercase();
        let named = |suffix: &str| -> Result<String> {
            let name = format!("{prefix}_{suffix}");
            match name.len() {
                1..=MAX_IDENTIFIER if !prefix.is_empty() && !name.contains('\0') => Ok(name),
                _ => Err(Error::invalid(format!(
                    "application name {app:?}: its PostgreSQL table {name:?} must be 1 to {MAX_IDENTIFIER} bytes"
                ))),
            }
        };
        if schema.is_empty() || schema.len() > MAX_IDENTIFIER || schema.contains('\0') {
            return Err(Error::invalid(format!("schema name {schema:?}: 1 to {MAX_IDENTIFIER} bytes, no NUL")));
        }
        let qualified = |suffix: &str| -> Result<String> { Ok(format!("{}.{}", quote(schema), quote(&named(suffix)?))) };
        let events = named("events")?;
        Ok(Tables {
            schema: schema.to_owned(),
            channel: events.replace('.', "_"),
            // Longer than 63 bytes for long names: PostgreSQL cuts it, as it does Python's.
            notification_index: quote(&format!("{events}_notification_id_idx")),
            events: qualified("events")?,
            snapshots: qualified("snapshots")?,
            tracking: qualified("tracking")?,
            rows: qualified("tributary_rows")?,
            index: qualified("tributary_index")?,
        })
    }

    /// The DDL, in order; every statement leaves what exists alone.
    fn statements(&self) -> Vec<String> {
        let Tables { events, snapshots, tracking, rows, index, notification_index, .. } = self;
        vec![
            format!("CREATE SCHEMA IF NOT EXISTS {}", quote(&self.schema)),
            format!(
                "CREATE TABLE IF NOT EXISTS {events} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, \
                 topic text, state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version)) {AUTOVACUUM}"
            ),
            format!("CREATE UNIQUE INDEX IF NOT EXISTS {notification_index} ON {events} (notification_id ASC)"),
            format!(
                "CREATE TABLE IF NOT EXISTS {snapshots} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, \
                 topic text, state bytea, PRIMARY KEY (originator_id, originator_version)) {AUTOVACUUM}"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {tracking} (application_name text, notification_id bigint, \
                 PRIMARY KEY (application_name)) {AUTOVACUUM}"
            ),
            // As Python does when it creates the single-row tracking table.
            format!("INSERT INTO {tracking} VALUES ('{MIGRATION}', 1) ON CONFLICT DO NOTHING"),
            // Views' names and keys are bytes: private ones start with NUL, which
            // PostgreSQL's text cannot hold. Bytes also order as SQLite's BINARY does.
            format!("CREATE TABLE IF NOT EXISTS {rows} (view bytea, key bytea, value text NOT NULL, PRIMARY KEY (view, key))"),
            // `value` is the index key encoded to order as IndexedDB orders keys
            // (see views.rs); the unique constraint is the index queries walk.
            format!(
                "CREATE TABLE IF NOT EXISTS {index} (view bytea, key bytea, field text, value bytea NOT NULL, \
                 PRIMARY KEY (view, key, field), UNIQUE (view, field, value, key))"
            ),
        ]
    }
}

/// Makes the schema and tables if missing, in one transaction. An advisory
/// lock on the schema's name keeps two processes opening at once from racing
/// (`IF NOT EXISTS` is not safe against a concurrent create).
pub(super) async fn prepare(client: &mut Object, tables: &Tables) -> Result<()> {
    let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&format!("tributary schema {}", tables.schema)])
        .await
        .map_err(failed("locking the schema to create tables"))?;
    for statement in tables.statements() {
        tx.batch_execute(&statement).await.map_err(failed("creating the tables"))?;
    }
    tx.commit().await.map_err(failed("creating the tables"))
}
