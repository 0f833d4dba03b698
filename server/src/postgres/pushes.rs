//! A group of pushes in one PostgreSQL transaction, in two round trips after
//! `BEGIN`: the log's lock, its newest id and the reads are sent together
//! (pipelined: PostgreSQL runs them in order), then the writes and the
//! announcement of the new head; then the commit. The lock is taken
//! before anything is read, so what the group decides on is what it writes
//! over, also with other server processes writing.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use futures::join;
use tributary::persistence::{validate_batch, Tracking};
use tributary::Result;
use uuid::Uuid;

use super::append::{ids_at, insert_rows, lock, next_id, notify, Ids};
use super::events::{check_name, fits, int, Columns};
use super::schema::Tables;
use super::{column, execute, failed, query, PostgresRecorder};
use crate::integers::whole;
use crate::recorder::{Decide, Found, ServerRecorder};

#[async_trait(?Send)]
impl ServerRecorder for PostgresRecorder {
    async fn record_pushes(&self, names: &[String], positions: &[(Uuid, u64)], decide: Decide<'_>) -> Result<Vec<u64>> {
        let tables = &self.tables;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        let (locked, first, tracked, ids) = join!(
            lock(&tx, tables),
            next_id(&tx, tables, Ids::AfterNewest),
            positions_of(&tx, tables, names),
            ids_at(&tx, tables, positions)
        );
        locked?;
        let first = first?;
        let write = decide(Found { tracked: tracked?, ids: ids? });
        validate_batch(&write.events)?;
        fits(&write.events)?;
        for tracking in &write.tracking {
            tracking.validate()?;
            check_name(&tracking.application_name)?;
        }
        let head = (first - 1) + write.events.len() as u64;
        let grew = !write.events.is_empty();
        let columns = Columns::of_owned(write.events);
        let (tracked, given, announced) = join!(
            track(&tx, tables, &write.tracking),
            insert_rows(&tx, tables, &columns, first),
            announce(&tx, tables, grew.then_some(head))
        );
        tracked?;
        let given = given?;
        announced?;
        tx.commit().await.map_err(failed("committing"))?;
        Ok(given)
    }

    fn rest(&self) {
        super::pool::let_idle_go(&self.pool);
    }
}

/// The newest position of each name, in the order asked.
async fn positions_of(tx: &Transaction<'_>, tables: &Tables, names: &[String]) -> Result<Vec<Option<u64>>> {
    let sql = format!("SELECT application_name, notification_id FROM {} WHERE application_name = ANY($1)", tables.tracking);
    let rows = query(tx, &sql, &[&names]).await.map_err(failed("reading positions"))?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let name: String = column(row, 0)?;
        found.insert(name, whole(column(row, 1)?, "position")?);
    }
    Ok(names.iter().map(|name| found.get(name).copied()).collect())
}

/// Moves each name's position forward, in one statement.
async fn track(tx: &Transaction<'_>, tables: &Tables, tracking: &[Tracking]) -> Result<()> {
    if tracking.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = tracking.iter().map(|t| t.application_name.as_str()).collect();
    let ids: Vec<i64> = tracking.iter().map(|t| int(t.notification_id)).collect();
    let sql = format!(
        "INSERT INTO {} AS t SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (application_name) \
         DO UPDATE SET notification_id = excluded.notification_id WHERE t.notification_id < excluded.notification_id",
        tables.tracking
    );
    execute(tx, &sql, &[&names, &ids]).await.map_err(failed("recording positions")).map(drop)
}

/// Announces the log's new head, if it grew (see `append::notify`).
async fn announce(tx: &Transaction<'_>, tables: &Tables, head: Option<u64>) -> Result<()> {
    match head {
        Some(head) => notify(tx, tables, head).await,
        None => Ok(()),
    }
}
