//! Sync's writes over SQLite, in one transaction. New events take explicit
//! rowids after the newest ever given, read before the removals: a removed
//! event's id is never given again.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use tributary::persistence::{cleared_row, validate_batch, Removal, SyncRecorder, SyncWrite, ViewDefinition};
use tributary::Result;

use super::events::{fits, insert_events, insert_tracking, int};
use super::schema::MIGRATION;
use super::views::{clear, write_rows};
use super::{storage, SqliteRecorder};

#[async_trait(?Send)]
impl SyncRecorder for SqliteRecorder {
    async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>> {
        validate_batch(write.events)?;
        fits(write.events)?;
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            let failed = |e| storage("writing what sync brought", e);
            let newest: Option<i64> = tx.query_row("SELECT MAX(rowid) FROM stored_events", [], |row| row.get(0)).map_err(failed)?;
            let mut heads = HashMap::new();
            for removal in write.removed {
                let head: Option<i64> = tx
                    .query_row(
                        "SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?1",
                        [removal.originator_id.simple().to_string()],
                        |row| row.get(0),
                    )
                    .map_err(failed)?;
                heads.insert(removal.originator_id, head.and_then(|v| u64::try_from(v).ok()));
            }
            for removal in write.removed {
                let found: Option<(String, i64)> = tx
                    .query_row(
                        "SELECT originator_id, originator_version FROM stored_events WHERE rowid = ?1",
                        [int(removal.notification_id)],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .map_err(failed)?;
                if found != Some((removal.originator_id.simple().to_string(), int(removal.originator_version))) {
                    return Err(removal.absent());
                }
                tx.execute("DELETE FROM stored_events WHERE rowid = ?1", [int(removal.notification_id)]).map_err(failed)?;
                tx.execute(
                    "DELETE FROM stored_snapshots WHERE originator_id = ?1 AND originator_version >= ?2",
                    params![removal.originator_id.simple().to_string(), int(removal.originator_version)],
                )
                .map_err(failed)?;
            }
            // Each removal matches the log (checked above), and leaves no later version behind.
            Removal::check_tails(write.removed, |id| heads.get(id).copied().flatten())?;
            for view in write.cleared {
                clear(&tx, view)?;
                write_rows(&tx, &ViewDefinition::new(view, &[], &[])?, &cleared_row())?;
                // At 0, not at none: a first batch read before the clear is then stale.
                if view != MIGRATION {
                    tx.execute("INSERT INTO tracking VALUES (?1, 0)", [view]).map_err(failed)?;
                }
            }
            let first = newest.map_or(1, |n| n.max(0) as u64 + 1);
            let ids = insert_events(&tx, write.events, Some(first))?;
            if let Some(tracking) = write.tracking {
                insert_tracking(&tx, tracking)?;
            }
            for (view, changes) in write.rows {
                write_rows(&tx, &ViewDefinition::new(*view, &[], &[])?, changes)?;
            }
            tx.commit().map_err(|e| storage("committing what sync brought", e))?;
            Ok(ids)
        })
    }
}
