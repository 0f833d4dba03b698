//! Snapshots over SQLite, in `stored_snapshots` beside the events.

use async_trait::async_trait;
use rusqlite::{params, Transaction};
use tributary::persistence::{validate_batch, AggregateRecorder, EventQuery, SnapshotRecorder, StoredEvent};
use tributary::{Error, Result};
use uuid::Uuid;

use super::events::{fits, int, read_event, stored};
use super::{storage, taken, SqliteRecorder};

/// Snapshots beside a [`SqliteRecorder`]'s events (sharing its connection).
#[derive(Clone)]
pub struct SqliteSnapshots {
    recorder: SqliteRecorder,
}

impl SqliteSnapshots {
    pub(super) fn new(recorder: SqliteRecorder) -> Self {
        SqliteSnapshots { recorder }
    }
}

/// Inserts snapshots; a taken position is a conflict.
pub(super) fn insert(tx: &Transaction<'_>, snapshots: &[StoredEvent]) -> Result<()> {
    let mut insert =
        tx.prepare_cached("INSERT INTO stored_snapshots VALUES (?1, ?2, ?3, ?4)").map_err(|e| storage("inserting snapshots", e))?;
    for snapshot in snapshots {
        let id = snapshot.originator_id.simple().to_string();
        match insert.execute(params![id, int(snapshot.originator_version), snapshot.topic, snapshot.state]) {
            Ok(_) => {}
            Err(error) if taken(&error) => {
                return Err(Error::Conflict {
                    originator_id: snapshot.originator_id,
                    originator_version: snapshot.originator_version,
                    detail: format!("SQLite: {error}"),
                })
            }
            Err(error) => return Err(storage("inserting snapshots", error)),
        }
    }
    Ok(())
}

#[async_trait(?Send)]
impl AggregateRecorder for SqliteSnapshots {
    async fn insert_events(&self, snapshots: &[StoredEvent]) -> Result<Vec<u64>> {
        validate_batch(snapshots)?;
        fits(snapshots)?;
        self.recorder.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            insert(&tx, snapshots)?;
            tx.commit().map_err(|e| storage("committing", e))?;
            Ok(vec![])
        })
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        let order = if query.desc { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT originator_id, originator_version, topic, state FROM stored_snapshots WHERE originator_id = ?1 \
             AND originator_version > ?2 AND originator_version <= ?3 ORDER BY originator_version {order} LIMIT ?4"
        );
        let (gt, lte) = (query.gt.map_or(-1, int), query.lte.map_or(i64::MAX, int));
        let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(-1));
        self.recorder.with(|connection| {
            let mut statement = connection.prepare_cached(&sql).map_err(|e| storage("reading snapshots", e))?;
            let rows = statement
                .query_map(params![originator_id.simple().to_string(), gt, lte, limit], |row| read_event(row, 0))
                .map_err(|e| storage("reading snapshots", e))?;
            rows.map(|row| stored(row.map_err(|e| storage("reading snapshots", e))?)).collect()
        })
    }
}

#[async_trait(?Send)]
impl SnapshotRecorder for SqliteSnapshots {
    async fn prune(&self, originator_id: Uuid, keep: usize) -> Result<usize> {
        let id = originator_id.simple().to_string();
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.recorder.with(|connection| {
            let gone = connection
                .execute(
                    "DELETE FROM stored_snapshots WHERE originator_id = ?1 AND originator_version NOT IN \
                     (SELECT originator_version FROM stored_snapshots WHERE originator_id = ?1 ORDER BY originator_version DESC LIMIT ?2)",
                    params![id, keep],
                )
                .map_err(|e| storage("pruning snapshots", e))?;
            Ok(gone)
        })
    }
}
