//! A group of pushes in one PostgreSQL transaction. Most groups are new
//! events of clients past their recorded positions: such a group is written
//! as if that were so, in one round trip (`BEGIN` with the log's lock, one
//! statement, `COMMIT`, pipelined: PostgreSQL runs them in order), and the
//! statement itself fails if it is not (a version taken, a client's position
//! at or past its push), which rolls it back. Otherwise, or then, the group is
//! decided on what is found, in two round trips: `BEGIN` with the lock, then
//! the log's newest id and the reads; then one statement that writes the
//! events, the clients' positions, the sequence and the announcement of the
//! new head, with the `COMMIT` behind it. The lock is taken before anything is
//! read, so what a group decides on is what it writes over, also with other
//! server processes writing.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Object};
use futures::join;
use tokio_postgres::types::ToSql;
use tributary::persistence::{validate_batch, Tracking};
use tributary::Result;
use uuid::Uuid;

use super::append::{ids_at, insert_sql, last_id, lock_sql, next_id, refused, Ids};
use super::events::{check_name, fits, int, Columns};
use super::schema::Tables;
use super::{column, failed, query, PostgresRecorder};
use crate::recorder::{Decide, Found, ServerRecorder, Write};
use crate::sql::whole;

#[async_trait(?Send)]
impl ServerRecorder for PostgresRecorder {
    async fn record_pushes(&self, names: &[String], firsts: &[u64], positions: &[(Uuid, u64)], decide: Decide<'_, '_>) -> Result<Vec<u64>> {
        let mut client = self.client().await?;
        if let Some(write) = as_new(names, firsts, positions, decide) {
            match group_of_new(&client, &self.tables, names, firsts, write).await {
                Ok(given) => return Ok(given),
                // Not all new, or the write failed: decided on what is found.
                Err(error) => client = rolled_back(client).await.ok_or(error)?,
            }
        }
        match group(&client, &self.tables, names, positions, decide).await {
            Ok(given) => Ok(given),
            Err(error) => {
                rolled_back(client).await;
                Err(error)
            }
        }
    }

    fn rest(&self) {
        super::pool::let_idle_go(&self.pool);
    }

    async fn wanted(&self) {
        let Some((wants, seen)) = &self.wants else { return std::future::pending().await };
        let mut wants = wants.clone();
        loop {
            let now = *wants.borrow_and_update();
            if seen.swap(now, Ordering::Relaxed) != now {
                return;
            }
            if wants.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Ends the transaction on `client`, whatever it came to; a connection that
/// cannot say so is not used again (`None`).
async fn rolled_back(client: Object) -> Option<Object> {
    match client.batch_execute("ROLLBACK").await {
        Ok(()) => Some(client),
        Err(_) => {
            drop(Object::take(client));
            None
        }
    }
}

/// What `decide` writes if nothing is found (every event new, every client
/// before its push), if that records every push whole and passes the checks.
fn as_new<'e>(names: &[String], firsts: &[u64], positions: &[(Uuid, u64)], decide: Decide<'_, 'e>) -> Option<Write<'e>> {
    if firsts.len() != names.len() {
        return None;
    }
    let write = decide(Found { tracked: vec![None; names.len()], ids: vec![None; positions.len()] });
    let whole = !write.events.is_empty() && write.events.len() == positions.len() && write.tracking.len() == names.len();
    (whole && check(&write).is_ok()).then_some(write)
}

/// A group of new events written in one round trip, its ids given after the
/// newest under the lock; the statement fails (and the `COMMIT` behind it
/// then rolls back) if a version is taken or a client's recorded position is
/// at or past the first of its push. The ids given, or the failure.
async fn group_of_new(client: &Object, tables: &Tables, names: &[String], firsts: &[u64], write: Write<'_>) -> Result<Vec<u64>> {
    let count = write.events.len() as u64;
    let (tracked, moved) = moves(&write.tracking);
    let firsts: Vec<i64> = firsts.iter().map(|first| int(*first)).collect();
    let columns = Columns::of(write.events.iter().copied());
    let statement = client.prepare_cached(&new_sql(tables)).await.map_err(failed("recording pushes"))?;
    let params: [&(dyn ToSql + Sync); 10] = [
        &columns.ids,
        &columns.versions,
        &columns.topics,
        &columns.states,
        &tracked,
        &moved,
        &names,
        &firsts,
        &tables.events,
        &tables.channel,
    ];
    let begin = format!("BEGIN; {}", lock_sql(tables));
    let (begun, written, committed) =
        join!(client.batch_execute(&begin), client.query(&statement, &params), client.batch_execute("COMMIT"));
    begun.map_err(failed("locking the log"))?;
    let rows = written.map_err(failed("recording pushes"))?;
    committed.map_err(failed("committing"))?;
    let before: i64 = rows.first().map(|row| column(row, 0)).transpose()?.unwrap_or_default();
    let first = whole(before, "notification id")? + 1;
    last_id(first, count)?;
    Ok((first..first + count).collect())
}

/// [`group_of_new`]'s statement: the newest id; a client whose recorded
/// position is at or past its push (`$7`, `$8`) makes it fail (its name cast
/// to a number: SQL has no `RAISE`); the events after the newest; the
/// clients' positions; the sequence; the announcement.
fn new_sql(tables: &Tables) -> String {
    format!(
        "WITH newest AS (SELECT COALESCE(MAX(notification_id), 0) AS id FROM {events}), \
         repeated AS (SELECT CAST(t.application_name AS bigint) AS refused FROM {tracking} t \
           JOIN unnest($7::text[], $8::bigint[]) AS c(name, first) ON t.application_name = c.name WHERE t.notification_id >= c.first), \
         events AS ({insert}), \
         positions AS ({positions}) \
         SELECT newest.id, (SELECT max(refused) FROM repeated), \
           setval(pg_get_serial_sequence($9, 'notification_id'), newest.id + cardinality($1::uuid[])), \
           pg_notify($10, $9 || ' ' || (newest.id + cardinality($1::uuid[]))) FROM newest",
        events = tables.events,
        tracking = tables.tracking,
        insert = insert_sql(tables, "(SELECT id FROM newest)"),
        positions = upsert_sql(tables, "$5", "$6")
    )
}

/// The group's transaction, committed; on an error it is left open (or
/// aborted) for the caller to roll back.
async fn group(client: &Object, tables: &Tables, names: &[String], positions: &[(Uuid, u64)], decide: Decide<'_, '_>) -> Result<Vec<u64>> {
    let begin = format!("BEGIN; {}", lock_sql(tables));
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
    let (names, moved) = moves(&write.tracking);
    let columns = Columns::of(write.events.iter().copied());
    // Prepared before anything is sent: the COMMIT must follow the write's own
    // messages, not a round trip to prepare it.
    let statement = client.prepare_cached(&write_sql(tables)).await.map_err(failed("recording pushes"))?;
    let payload = format!("{} {last}", tables.events);
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
fn check(write: &Write<'_>) -> Result<()> {
    validate_batch(write.events.iter().copied())?;
    fits(write.events.iter().copied())?;
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
         positions AS ({positions}) \
         SELECT setval(pg_get_serial_sequence($8, 'notification_id'), $5::bigint + cardinality($1::uuid[])), pg_notify($9, $10) \
         WHERE cardinality($1::uuid[]) > 0",
        insert = insert_sql(tables, "$5::bigint"),
        positions = upsert_sql(tables, "$6", "$7")
    )
}

/// The clients' new positions (`names` and `moved` parameters), each moved only forward.
fn upsert_sql(tables: &Tables, names: &str, moved: &str) -> String {
    format!(
        "INSERT INTO {} AS t SELECT * FROM unnest({names}::text[], {moved}::bigint[]) ON CONFLICT (application_name) \
         DO UPDATE SET notification_id = excluded.notification_id WHERE t.notification_id < excluded.notification_id",
        tables.tracking
    )
}

/// A group's positions as the statements' columns: names, and where each moves to.
fn moves(tracking: &[Tracking]) -> (Vec<&str>, Vec<i64>) {
    tracking.iter().map(|t| (t.application_name.as_str(), int(t.notification_id))).unzip()
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
