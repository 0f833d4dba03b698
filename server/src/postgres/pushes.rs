//! A group of pushes in one PostgreSQL transaction, in two round trips:
//! `BEGIN` with the log's lock, then its newest id and the reads, sent together
//! (pipelined: PostgreSQL runs them in order); then one statement that writes
//! the events, the clients' positions, the sequence and the announcement of
//! the new head, with the `COMMIT` sent behind it. The lock is taken before
//! anything is read, so what the group decides on is what it writes over, also
//! with other server processes writing.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Object};
use futures::join;
use tokio_postgres::types::ToSql;
use tributary::persistence::{validate_batch, Tracking};
use tributary::Result;
use uuid::Uuid;

use super::append::{ids_at, insert_sql, last_id, next_id, refused, Ids};
use super::events::{check_name, fits, int, Columns};
use super::schema::Tables;
use super::{column, failed, query, PostgresRecorder};
use crate::integers::whole;
use crate::recorder::{Decide, Found, ServerRecorder, Write};

#[async_trait(?Send)]
impl ServerRecorder for PostgresRecorder {
    async fn record_pushes(&self, names: &[String], positions: &[(Uuid, u64)], decide: Decide<'_>) -> Result<Vec<u64>> {
        let client = self.client().await?;
        match group(&client, &self.tables, names, positions, decide).await {
            Ok(given) => Ok(given),
            Err(error) => {
                // The transaction ends here, whatever it came to; a connection
                // that cannot say so is not used again.
                if client.batch_execute("ROLLBACK").await.is_err() {
                    drop(Object::take(client));
                }
                Err(error)
            }
        }
    }

    fn rest(&self) {
        super::pool::let_idle_go(&self.pool);
    }
}

/// The group's transaction, committed; on an error it is left open (or
/// aborted) for the caller to roll back.
async fn group(client: &Object, tables: &Tables, names: &[String], positions: &[(Uuid, u64)], decide: Decide<'_>) -> Result<Vec<u64>> {
    let begin = format!("BEGIN; LOCK TABLE {} IN EXCLUSIVE MODE", tables.events);
    let (begun, first, tracked, ids) = join!(
        client.batch_execute(&begin),
        next_id(client, tables, Ids::AfterNewest),
        positions_of(client, tables, names),
        ids_at(client, tables, positions)
    );
    begun.map_err(failed("locking the log"))?;
    let first = first?;
    let write = decide(Found { tracked: tracked?, ids: ids? });
    check(&write)?;
    let count = write.events.len() as u64;
    let last = last_id(first, count)?;
    let names: Vec<&str> = write.tracking.iter().map(|t| t.application_name.as_str()).collect();
    let moved: Vec<i64> = write.tracking.iter().map(|t| int(t.notification_id)).collect();
    let columns = Columns::of_owned(write.events);
    // Prepared before anything is sent: the COMMIT must follow the write's own
    // messages, not a round trip to prepare it.
    let statement = client.prepare_cached(&write_sql(tables)).await.map_err(failed("recording pushes"))?;
    let payload = format!("{} {last}", tables.schema);
    let params: [&(dyn ToSql + Sync); 10] = [
        &columns.ids,
        &columns.versions,
        &columns.topics,
        &columns.states,
        &int(first - 1),
        &names,
        &moved,
        &tables.events,
        &tables.channel,
        &payload,
    ];
    let (written, committed) = join!(client.execute(&statement, &params), client.batch_execute("COMMIT"));
    written.map_err(refused(&columns, "recording pushes"))?;
    committed.map_err(failed("committing"))?;
    Ok((first..first + count).collect())
}

/// What a group writes is checked before anything is sent.
fn check(write: &Write) -> Result<()> {
    validate_batch(&write.events)?;
    fits(&write.events)?;
    write.tracking.iter().try_for_each(|tracking: &Tracking| {
        tracking.validate()?;
        check_name(&tracking.application_name)
    })
}

/// One statement for a group's writes: its events, in order, with ids after
/// `$5`; each client's position, moved only forward; then, if there were
/// events, the sequence set to the last id and the new head announced on
/// Python's channel (delivered at commit).
fn write_sql(tables: &Tables) -> String {
    format!(
        "WITH events AS ({insert}), \
         positions AS (INSERT INTO {tracking} AS t SELECT * FROM unnest($6::text[], $7::bigint[]) ON CONFLICT (application_name) \
         DO UPDATE SET notification_id = excluded.notification_id WHERE t.notification_id < excluded.notification_id) \
         SELECT setval(pg_get_serial_sequence($8, 'notification_id'), $5::bigint + cardinality($1::uuid[])), pg_notify($9, $10) \
         WHERE cardinality($1::uuid[]) > 0",
        insert = insert_sql(tables),
        tracking = tables.tracking
    )
}

/// The newest position of each name, in the order asked.
async fn positions_of<C: GenericClient>(client: &C, tables: &Tables, names: &[String]) -> Result<Vec<Option<u64>>> {
    let sql = format!("SELECT application_name, notification_id FROM {} WHERE application_name = ANY($1)", tables.tracking);
    let rows = query(client, &sql, &[&names]).await.map_err(failed("reading positions"))?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let name: String = column(row, 0)?;
        found.insert(name, whole(column(row, 1)?, "position")?);
    }
    Ok(names.iter().map(|name| found.get(name).copied()).collect())
}
