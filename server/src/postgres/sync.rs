//! Sync's writes over PostgreSQL, in one transaction. New events take ids
//! after every id given (`Ids::AfterEveryIdGiven`): a removed event's id is
//! never given again.

use std::collections::HashMap;

use async_trait::async_trait;
use tributary::persistence::{cleared_row, validate_batch, Removal, SyncRecorder, SyncWrite, ViewDefinition};
use tributary::Result;

use super::append::{insert_events, lock, Ids};
use super::events::{fits, insert_tracking, int};
use super::schema::MIGRATION;
use super::views::{clear, write_rows};
use super::{column, execute, failed, query, PostgresRecorder};

#[async_trait(?Send)]
impl SyncRecorder for PostgresRecorder {
    /// Row locks first (cleared views, the position, rows), then the log's
    /// lock, as every writer here takes them.
    async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>> {
        validate_batch(write.events)?;
        fits(write.events)?;
        let tables = &self.tables;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let writing = failed("writing what sync brought");
        for view in write.cleared {
            clear(&tx, tables, view).await?;
            write_rows(&tx, tables, &ViewDefinition::new(view.as_str(), &[], &[])?, &cleared_row()).await?;
            // At 0, not at none: a first batch read before the clear is then stale.
            if view != MIGRATION && !view.contains('\0') {
                execute(&tx, &format!("INSERT INTO {} VALUES ($1, 0)", tables.tracking), &[view]).await.map_err(&writing)?;
            }
        }
        if let Some(tracking) = write.tracking {
            insert_tracking(&tx, tables, tracking).await?;
        }
        for (view, changes) in write.rows {
            write_rows(&tx, tables, &ViewDefinition::new(*view, &[], &[])?, changes).await?;
        }
        // Each removed aggregate's newest version, under the log's lock.
        let mut heads = HashMap::new();
        if !write.removed.is_empty() {
            lock(&tx, tables).await?;
            for removal in write.removed {
                let sql = format!("SELECT MAX(originator_version) FROM {} WHERE originator_id = $1", tables.events);
                let rows = query(&tx, &sql, &[&removal.originator_id]).await.map_err(&writing)?;
                let head: Option<i64> = rows.first().map(|row| column(row, 0)).transpose()?.flatten();
                heads.insert(removal.originator_id, head.and_then(|v| u64::try_from(v).ok()));
            }
        }
        for removal in write.removed {
            let removed = execute(
                &tx,
                &format!("DELETE FROM {} WHERE notification_id = $1 AND originator_id = $2 AND originator_version = $3", tables.events),
                &[&int(removal.notification_id), &removal.originator_id, &int(removal.originator_version)],
            )
            .await
            .map_err(&writing)?;
            if removed != 1 {
                return Err(removal.absent());
            }
            execute(
                &tx,
                &format!("DELETE FROM {} WHERE originator_id = $1 AND originator_version >= $2", tables.snapshots),
                &[&removal.originator_id, &int(removal.originator_version)],
            )
            .await
            .map_err(&writing)?;
        }
        // Each removal matches the log (checked above), and leaves no later version behind.
        Removal::check_tails(write.removed, |id| heads.get(id).copied().flatten())?;
        let ids = insert_events(&tx, tables, write.events, Ids::AfterEveryIdGiven).await?;
        tx.commit().await.map_err(failed("committing what sync brought"))?;
        Ok(ids)
    }
}
