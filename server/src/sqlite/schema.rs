//! The tables, as the Python library (9.5.6) creates them, and tributary's beside them.

use rusqlite::Connection;

use super::storage;

pub(super) use crate::sql::MIGRATION;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version));
CREATE TABLE IF NOT EXISTS stored_snapshots (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tracking (application_name TEXT, notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tributary_rows (view TEXT, key TEXT, value TEXT, PRIMARY KEY (view, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tributary_row_index (view TEXT, field TEXT, value, key TEXT, PRIMARY KEY (view, field, value, key)) WITHOUT ROWID;
";

/// Makes the tables if missing, in WAL mode with synchronous writes.
pub(super) fn prepare(connection: &Connection) -> tributary::Result<()> {
    // FULL: a commit is on disk before it is acknowledged; a kill -9 loses nothing acknowledged.
    connection
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")
        .map_err(|e| storage("setting up the database", e))?;
    connection.execute_batch(TABLES).map_err(|e| storage("creating the tables", e))?;
    // As Python does when it creates the single-row tracking table.
    connection
        .execute("INSERT OR IGNORE INTO tracking VALUES (?1, 1)", [MIGRATION])
        .map_err(|e| storage("marking the tracking layout", e))?;
    Ok(())
}
