//! Appending to the log: under the events table's lock, as Python's writer
//! does, new events take the ids after the newest, given by the writer itself
//! (one `bigint` per row from the row's place in the batch) rather than by the
//! sequence row by row; the sequence is then set to the last id given, so that
//! a writer using the column's default (Python's) goes on from there.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::ToSql;
use tributary::persistence::StoredEvent;
use tributary::{Error, Result};
use uuid::Uuid;

use super::events::{conflict, int, Columns};
use super::schema::Tables;
use super::{column, execute, failed, query, taken};
use crate::sql::whole;

/// Takes the events table's EXCLUSIVE lock until the transaction ends, as
/// Python does before it inserts. Ids are given in insert order, and so are
/// commits then: without the lock, a reader could see id 8 committed while 7
/// is still to come, move its position past 7 and never read it. Readers take
/// no lock that conflicts with it: reads are never blocked, but writers of one
/// application are serialised (its throughput is one insert transaction at a time).
pub(super) async fn lock(tx: &Transaction<'_>, tables: &Tables) -> Result<()> {
    tx.batch_execute(&lock_sql(tables)).await.map_err(failed("locking the log"))
}

/// The statement of [`lock`].
pub(super) fn lock_sql(tables: &Tables) -> String {
    format!("LOCK TABLE {} IN EXCLUSIVE MODE", tables.events)
}

/// Where the notification ids of new events start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ids {
    /// Right after the log's newest id, so that the log has no gaps: the ids
    /// of a writer killed before its commit (a server process killed
    /// mid-push, say) are given again, as SQLite gives rowids.
    AfterNewest,
    /// After every id ever given, for sync's writes: a removed event's id is
    /// never given again.
    AfterEveryIdGiven,
}

/// The id the next new event takes. The lock must be held: nobody else is
/// then giving ids, and every committed id is at or below the newest.
pub(super) async fn next_id<C: GenericClient>(tx: &C, tables: &Tables, from: Ids) -> Result<u64> {
    let rows = match from {
        Ids::AfterNewest => query(tx, &format!("SELECT COALESCE(MAX(notification_id), 0) FROM {}", tables.events), &[]).await,
        // The sequence's last value is NULL until it gives (or is set to give) an id.
        Ids::AfterEveryIdGiven => {
            let sql = format!(
                "SELECT GREATEST(COALESCE(MAX(notification_id), 0), \
                 COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, 'notification_id')::regclass), 0)) FROM {}",
                tables.events
            );
            query(tx, &sql, &[&tables.events]).await
        }
    };
    let rows = rows.map_err(failed("reading the log's newest id"))?;
    let newest: i64 = rows.first().map(|row| column(row, 0)).transpose()?.unwrap_or(0);
    Ok(whole(newest, "notification id")? + 1)
}

/// Inserts events, in order, with ids from `first` on, then sets the sequence
/// to the last (in the same round trip). The lock must be held and their
/// positions known free: only a writer that skips the lock makes this fail,
/// with a conflict.
pub(super) async fn insert_rows(tx: &Transaction<'_>, tables: &Tables, columns: &Columns<'_>, first: u64) -> Result<Vec<u64>> {
    let count = columns.ids.len() as u64;
    if count == 0 {
        return Ok(vec![]);
    }
    let last = last_id(first, count)?;
    let before = int(first - 1);
    let set = "SELECT setval(pg_get_serial_sequence($1, 'notification_id'), $2)";
    let (rows, sequence): ([&(dyn ToSql + Sync); 5], [&(dyn ToSql + Sync); 2]) =
        ([&columns.ids, &columns.versions, &columns.topics, &columns.states, &before], [&tables.events, &int(last)]);
    let insert = insert_sql(tables, "$5::bigint");
    let (inserted, set) = futures::join!(execute(tx, &insert, &rows), execute(tx, set, &sequence));
    inserted.map_err(refused(columns, "inserting events"))?;
    set.map_err(failed("moving the log's sequence on"))?;
    Ok((first..=last).collect())
}

/// The insert of a batch's rows: `$1` to `$4` its columns, each row's id
/// `before` (an SQL expression: the id before the first) plus its place.
pub(super) fn insert_sql(tables: &Tables, before: &str) -> String {
    format!(
        "INSERT INTO {} (originator_id, originator_version, topic, state, notification_id) \
         SELECT id, version, topic, state, {before} + i FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[]) \
         WITH ORDINALITY AS n(id, version, topic, state, i)",
        tables.events
    )
}

/// The last of `count` (at least one) ids from `first`, if it fits a bigint.
pub(super) fn last_id(first: u64, count: u64) -> Result<u64> {
    let last = first.checked_add(count.saturating_sub(1)).filter(|last| i64::try_from(*last).is_ok());
    last.ok_or_else(|| Error::invalid("the log has no notification ids left"))
}

/// A failed insert of `columns` as an error: a taken position is a conflict
/// (named by the batch's first event), anything else what `doing` failed.
pub(super) fn refused<'a>(columns: &'a Columns<'_>, doing: &'static str) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    move |error| match taken(&error) {
        true => Error::Conflict {
            originator_id: columns.ids.first().copied().unwrap_or_default(),
            originator_version: columns.versions.first().map_or(0, |v| u64::try_from(*v).unwrap_or(0)),
            detail: format!("PostgreSQL: {}", super::explain(&error)),
        },
        false => failed(doing)(error),
    }
}

/// Inserts events after the log's newest (see [`Ids`]) and announces the new
/// head on the application's channel (delivered when the transaction
/// commits). Under the lock, a taken position is found before anything is
/// inserted, and refused naming the first event that would take it.
pub(super) async fn insert_events(tx: &Transaction<'_>, tables: &Tables, events: &[StoredEvent], from: Ids) -> Result<Vec<u64>> {
    if events.is_empty() {
        return Ok(vec![]);
    }
    lock(tx, tables).await?;
    let positions: Vec<(Uuid, u64)> = events.iter().map(|e| (e.originator_id, e.originator_version)).collect();
    let (first, found) = futures::join!(next_id(tx, tables, from), ids_at(tx, tables, &positions));
    if let Some(i) = found?.iter().position(Option::is_some) {
        return Err(conflict(&events[i], "PostgreSQL: this position is taken".into()));
    }
    let ids = insert_rows(tx, tables, &Columns::of(events), first?).await?;
    notify(tx, tables, ids.last().copied().unwrap_or(0)).await?;
    Ok(ids)
}

/// The notification ids of events at these positions (`None` where there is
/// none). One index range probe per run of consecutive versions of an
/// aggregate (a push's events are mostly one run), not one per position; the
/// LIMIT keeps each probe apart, as the planner would otherwise be free to
/// flatten it into a hash join over a scan of the whole log.
pub(super) async fn ids_at<C: GenericClient>(client: &C, tables: &Tables, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>> {
    if positions.is_empty() {
        return Ok(vec![]);
    }
    let (ids, lows, highs) = runs(positions);
    let rows = query(
        client,
        &format!(
            "SELECT e.originator_id, e.originator_version, e.notification_id \
             FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS r(id, low, high) CROSS JOIN LATERAL \
             (SELECT originator_id, originator_version, notification_id FROM {} e \
              WHERE e.originator_id = r.id AND e.originator_version BETWEEN r.low AND r.high LIMIT r.high - r.low + 1) e",
            tables.events
        ),
        &[&ids, &lows, &highs],
    )
    .await
    .map_err(failed("finding events"))?;
    let found = super::events::given_ids(&rows)?;
    positions.iter().map(|(id, version)| found.get(&(*id, int(*version))).map(|n| whole(*n, "notification id")).transpose()).collect()
}

/// Positions as runs of consecutive versions of one aggregate: `(ids, lows, highs)`.
fn runs(positions: &[(Uuid, u64)]) -> (Vec<Uuid>, Vec<i64>, Vec<i64>) {
    let mut sorted: Vec<(Uuid, i64)> = positions.iter().map(|(id, version)| (*id, int(*version))).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let (mut ids, mut lows, mut highs) = (Vec::new(), Vec::new(), Vec::<i64>::new());
    for (id, version) in sorted {
        match (ids.last(), highs.last_mut()) {
            (Some(last), Some(high)) if *last == id && version == *high + 1 => *high = version,
            _ => {
                ids.push(id);
                lows.push(version);
                highs.push(version);
            }
        }
    }
    (ids, lows, highs)
}

/// Announces the log's head on Python's channel, with `"{events table} {head}"` as
/// the payload (Python's listeners ignore payloads; ours read them).
pub(super) async fn notify(tx: &Transaction<'_>, tables: &Tables, head: u64) -> Result<()> {
    execute(tx, "SELECT pg_notify($1, $2)", &[&tables.channel, &format!("{} {head}", tables.events)])
        .await
        .map_err(failed("announcing new events"))
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_make_runs_of_consecutive_versions_per_aggregate() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let positions = [(b, 1), (a, 3), (a, 1), (a, 2), (a, 5), (b, 2), (a, 2), (a, u64::MAX)];
        assert_eq!(runs(&positions), (vec![a, a, a, b], vec![1, 5, i64::MAX, 1], vec![3, 5, i64::MAX, 2]));
    }
}
