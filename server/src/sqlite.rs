//! The SQLite adapter of the core's recorder ports, in the Python library's
//! SQLite layout, so that a Python application opened on the same file
//! (`PERSISTENCE_MODULE=eventsourcing.sqlite`) reads what was pushed:
//!
//! - `stored_events`: `originator_id` as 32 hex digits, the notification id is
//!   the `rowid` (commit order: SQLite has one writer at a time);
//! - `stored_snapshots`;
//! - `tracking`: one row per name, its newest position (9.5's single-row layout);
//! - beside them, tributary's own: `tributary_rows` and `tributary_row_index` for views.
//!
//! Each port call is one SQLite transaction. WAL mode with full syncs: an
//! acknowledged write survives the process being killed.

mod events;
mod pushes;
mod schema;
mod snapshots;
mod sync;
mod views;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use rusqlite::Connection;
use tributary::Error;

pub use snapshots::SqliteSnapshots;

/// An open database, shared by the recorders over it.
struct Database {
    connection: RefCell<Connection>,
}

/// Events, notifications, tracking records and views in one SQLite file.
/// Clones share the connection.
#[derive(Clone)]
pub struct SqliteRecorder {
    database: Rc<Database>,
}

impl SqliteRecorder {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> tributary::Result<Self> {
        let connection = Connection::open(path).map_err(|e| storage(&format!("opening {}", path.display()), e))?;
        schema::prepare(&connection)?;
        Ok(SqliteRecorder { database: Rc::new(Database { connection: RefCell::new(connection) }) })
    }

    /// An in-memory database (for tests).
    pub fn in_memory() -> tributary::Result<Self> {
        let connection = Connection::open_in_memory().map_err(|e| storage("opening a database in memory", e))?;
        schema::prepare(&connection)?;
        Ok(SqliteRecorder { database: Rc::new(Database { connection: RefCell::new(connection) }) })
    }

    /// Runs `work` on the connection (never across an await: the ports' futures
    /// do their SQLite work synchronously, so two calls cannot interleave).
    fn with<T>(&self, work: impl FnOnce(&mut Connection) -> tributary::Result<T>) -> tributary::Result<T> {
        let mut connection =
            self.database.connection.try_borrow_mut().map_err(|_| Error::Storage("the database is busy with another call".into()))?;
        work(&mut connection)
    }
}

/// A SQLite failure as a storage error that says what was being done.
fn storage(doing: &str, error: rusqlite::Error) -> Error {
    Error::Storage(format!("{doing}: {error}"))
}

/// Whether an error is a primary key's constraint (a taken position).
fn taken(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation)
}
