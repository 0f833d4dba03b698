//! Snapshots over PostgreSQL, in `{app}_snapshots` beside the events.

use std::collections::HashSet;

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use tributary::persistence::{validate_batch, AggregateRecorder, EventQuery, SnapshotRecorder, StoredEvent};
use tributary::Result;
use uuid::Uuid;

use super::events::{conflict, fits, int, select, Columns};
use super::schema::Tables;
use super::{column, execute, failed, query, PostgresRecorder};

/// Snapshots beside a [`PostgresRecorder`]'s events (sharing its pool).
#[derive(Clone)]
pub struct PostgresSnapshots {
    recorder: PostgresRecorder,
}

impl PostgresSnapshots {
    pub(super) fn new(recorder: PostgresRecorder) -> Self {
        PostgresSnapshots { recorder }
    }
}

/// Inserts snapshots; a taken position is a conflict (the rows that went in
/// are rolled back with the transaction). No lock: snapshots have no log.
pub(super) async fn insert(tx: &Transaction<'_>, tables: &Tables, snapshots: &[StoredEvent]) -> Result<()> {
    if snapshots.is_empty() {
        return Ok(());
    }
    let columns = Columns::of(snapshots);
    let inserted = query(
        tx,
        &format!(
            "INSERT INTO {} (originator_id, originator_version, topic, state) \
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[]) \
             ON CONFLICT DO NOTHING RETURNING originator_id, originator_version",
            tables.snapshots
        ),
        &[&columns.ids, &columns.versions, &columns.topics, &columns.states],
    )
    .await
    .map_err(failed("inserting snapshots"))?;
    let went_in = inserted.iter().map(|row| Ok((column::<Uuid>(row, 0)?, column::<i64>(row, 1)?))).collect::<Result<HashSet<_>>>()?;
    match snapshots.iter().find(|s| !went_in.contains(&(s.originator_id, int(s.originator_version)))) {
        Some(refused) => Err(conflict(refused, "PostgreSQL: this snapshot's position is taken".into())),
        None => Ok(()),
    }
}

#[async_trait(?Send)]
impl AggregateRecorder for PostgresSnapshots {
    async fn insert_events(&self, snapshots: &[StoredEvent]) -> Result<Vec<u64>> {
        validate_batch(snapshots)?;
        fits(snapshots)?;
        let mut client = self.recorder.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        insert(&tx, &self.recorder.tables, snapshots).await?;
        tx.commit().await.map_err(failed("committing"))?;
        Ok(vec![])
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        select(&self.recorder.client().await?, &self.recorder.tables.snapshots, &originator_id, &query).await
    }
}

#[async_trait(?Send)]
impl SnapshotRecorder for PostgresSnapshots {
    async fn prune(&self, originator_id: Uuid, keep: usize) -> Result<usize> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let table = &self.recorder.tables.snapshots;
        let gone = execute(
            &self.recorder.client().await?,
            &format!(
                "DELETE FROM {table} WHERE originator_id = $1 AND originator_version NOT IN \
                 (SELECT originator_version FROM {table} WHERE originator_id = $1 ORDER BY originator_version DESC LIMIT $2)"
            ),
            &[&originator_id, &keep],
        )
        .await
        .map_err(failed("pruning snapshots"))?;
        Ok(usize::try_from(gone).unwrap_or(usize::MAX))
    }
}
