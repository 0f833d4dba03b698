//! What the SQL adapters (SQLite and PostgreSQL) share: versions and ids as
//! SQL's signed 64-bit integers, both ways, and the name the Python library's
//! tracking table keeps for itself.

use tributary::persistence::StoredEvent;
use tributary::{Error, Result};

/// The name Python's single-row tracking table keeps its layout version under.
pub const MIGRATION: &str = "__migration__";

/// A version or id as a SQL bigint; bounds above it select nothing anyway.
pub fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A number from storage that must be a whole number from 0.
pub fn whole(n: i64, what: &str) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::corrupt(format!("a stored {what} is {n}")))
}

/// Checks that a write's versions fit a SQL bigint.
pub fn fits<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Result<()> {
    match events.into_iter().find(|e| i64::try_from(e.originator_version).is_err()) {
        Some(e) => Err(Error::invalid(format!("version {} of {} is too large to store", e.originator_version, e.originator_id))),
        None => Ok(()),
    }
}

/// Refuses [`MIGRATION`] as a tracking name.
pub fn not_migration(name: &str) -> Result<()> {
    if name == MIGRATION {
        return Err(Error::invalid(format!("{MIGRATION:?} is the tracking table's own name")));
    }
    Ok(())
}
