//! Events, the notification log and tracking records over PostgreSQL.

use std::collections::HashMap;
use std::rc::Rc;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::IsolationLevel;
use tributary::persistence::{
    validate_batch, AggregateRecorder, ApplicationRecorder, EventQuery, Notification, NotificationQuery, Prepare, Recording,
    SnapshotRecorder, StoredEvent, Tracking, TrackingRecorder,
};
use tributary::{Error, Result};
use uuid::Uuid;

pub(super) use crate::integers::int;
use crate::integers::whole;

use super::schema::{Tables, MIGRATION};
use super::snapshots::PostgresSnapshots;
use super::{column, execute, failed, query, taken, PostgresRecorder};

/// A stored event's row: `originator_id, originator_version, topic, state` from column `first`.
pub(super) fn stored(row: &tokio_postgres::Row, first: usize) -> Result<StoredEvent> {
    let topic: Option<String> = column(row, first + 2)?;
    let state: Option<Vec<u8>> = column(row, first + 3)?;
    Ok(StoredEvent {
        originator_id: column(row, first)?,
        originator_version: whole(column(row, first + 1)?, "version")?,
        topic: topic.ok_or_else(|| Error::corrupt("a stored event has no topic"))?,
        state: state.unwrap_or_default(),
    })
}

/// Rows of `originator_id, originator_version, notification_id`, by position.
fn given_ids(rows: &[tokio_postgres::Row]) -> Result<HashMap<(Uuid, i64), i64>> {
    rows.iter().map(|row| Ok(((column(row, 0)?, column(row, 1)?), column(row, 2)?))).collect()
}

/// Checks that a write's numbers fit PostgreSQL's bigint.
pub(super) fn fits(events: &[StoredEvent]) -> Result<()> {
    match events.iter().find(|e| i64::try_from(e.originator_version).is_err()) {
        Some(e) => Err(Error::invalid(format!("version {} of {} is too large to store", e.originator_version, e.originator_id))),
        None => Ok(()),
    }
}

/// The columns of a batch, for `unnest`: one statement whatever its size.
pub(super) struct Columns {
    pub ids: Vec<Uuid>,
    pub versions: Vec<i64>,
    pub topics: Vec<String>,
    pub states: Vec<Vec<u8>>,
}

impl Columns {
    pub fn of(events: &[StoredEvent]) -> Columns {
        Columns {
            ids: events.iter().map(|e| e.originator_id).collect(),
            versions: events.iter().map(|e| int(e.originator_version)).collect(),
            topics: events.iter().map(|e| e.topic.clone()).collect(),
            states: events.iter().map(|e| e.state.clone()).collect(),
        }
    }

    /// The columns of events no longer needed whole: their text and bytes move.
    pub fn of_owned(events: Vec<StoredEvent>) -> Columns {
        let mut columns = Columns {
            ids: Vec::with_capacity(events.len()),
            versions: Vec::with_capacity(events.len()),
            topics: Vec::with_capacity(events.len()),
            states: Vec::with_capacity(events.len()),
        };
        for event in events {
            columns.ids.push(event.originator_id);
            columns.versions.push(int(event.originator_version));
            columns.topics.push(event.topic);
            columns.states.push(event.state);
        }
        columns
    }
}

/// A conflict at an event's position.
pub(super) fn conflict(event: &StoredEvent, detail: String) -> Error {
    Error::Conflict { originator_id: event.originator_id, originator_version: event.originator_version, detail }
}

/// Takes the events table's EXCLUSIVE lock until the transaction ends, as
/// Python does before it inserts. A `bigserial` gives ids in insert order, not
/// commit order: without the lock, a reader could see id 8 committed while 7
/// is still to come, move its position past 7 and never read it. With it,
/// inserters queue, so ids are committed in order. Readers take no lock that
/// conflicts with it: reads are never blocked, but writers of one application
/// are serialised (its throughput is one insert transaction at a time).
pub(super) async fn lock(tx: &Transaction<'_>, tables: &Tables) -> Result<()> {
    tx.batch_execute(&format!("LOCK TABLE {} IN EXCLUSIVE MODE", tables.events)).await.map_err(failed("locking the log"))
}

/// Where the notification ids of new events start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ids {
    /// Right after the log's newest id: ids that a writer took and never
    /// committed are given again (see [`reclaim`]), so the log has no gaps.
    AfterNewest,
    /// After every id the sequence ever gave, for sync's writes: a removed
    /// event's id is never given again.
    AfterEveryIdGiven,
}

/// Sets the log's sequence back to just after its newest id, so that the ids
/// writers took and never committed are given again. A sequence is not rolled
/// back with its transaction: a writer killed between its insert and its
/// commit (a server process killed mid-push, say) leaves the ids it took spent,
/// and without this the log would keep a gap there for ever. Under the lock
/// nobody else is taking ids and every committed id is at or below the newest,
/// so exactly the uncommitted ones are given again, as SQLite gives rowids.
/// The sequence is only set when it is ahead of the log: `setval` writes to
/// the WAL, and after a committed insert the two agree.
pub(super) async fn reclaim(tx: &Transaction<'_>, tables: &Tables) -> Result<()> {
    let sql = format!(
        "SELECT setval(s.seq, m.newest + 1, false) \
         FROM (SELECT pg_get_serial_sequence($1, 'notification_id') AS seq) s, \
              (SELECT COALESCE(MAX(notification_id), 0) AS newest FROM {}) m \
         WHERE COALESCE(pg_sequence_last_value(s.seq::regclass), 0) <> m.newest",
        tables.events
    );
    execute(tx, &sql, &[&tables.events]).await.map_err(failed("giving back ids nobody committed")).map(drop)
}

/// Inserts events, each taking the next notification id (from where `from`
/// says), and announces the new head on the application's channel (delivered
/// when the transaction commits). Under the lock, a taken position is found
/// before anything is inserted: a failed insert would spend sequence numbers.
pub(super) async fn insert_events(tx: &Transaction<'_>, tables: &Tables, events: &[StoredEvent], from: Ids) -> Result<Vec<u64>> {
    if events.is_empty() {
        return Ok(vec![]);
    }
    lock(tx, tables).await?;
    if from == Ids::AfterNewest {
        reclaim(tx, tables).await?;
    }
    let columns = Columns::of(events);
    let found = query(
        tx,
        &format!(
            "SELECT n.i FROM unnest($1::uuid[], $2::bigint[]) WITH ORDINALITY AS n(id, version, i) \
             CROSS JOIN LATERAL (SELECT 1 FROM {} e WHERE e.originator_id = n.id AND e.originator_version = n.version LIMIT 1) e \
             ORDER BY n.i LIMIT 1",
            tables.events
        ),
        &[&columns.ids, &columns.versions],
    )
    .await
    .map_err(failed("checking events' positions"))?;
    if let Some(row) = found.first() {
        let i: i64 = column(row, 0)?;
        let event = usize::try_from(i - 1).ok().and_then(|i| events.get(i)).unwrap_or(&events[0]);
        return Err(conflict(event, "PostgreSQL: this position is taken".into()));
    }
    let ids = insert_rows(tx, tables, &columns).await?;
    notify(tx, tables, ids.iter().copied().max().unwrap_or(0)).await?;
    Ok(ids)
}

/// Inserts events, in order, each taking the sequence's next id. The lock
/// must be held and their positions known free: only a writer that skips the
/// lock makes this fail with a conflict.
pub(super) async fn insert_rows(tx: &Transaction<'_>, tables: &Tables, columns: &Columns) -> Result<Vec<u64>> {
    if columns.ids.is_empty() {
        return Ok(vec![]);
    }
    let inserted = query(
        tx,
        &format!(
            "INSERT INTO {} (originator_id, originator_version, topic, state) \
             SELECT id, version, topic, state FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[]) \
             WITH ORDINALITY AS n(id, version, topic, state, i) ORDER BY i \
             RETURNING originator_id, originator_version, notification_id",
            tables.events
        ),
        &[&columns.ids, &columns.versions, &columns.topics, &columns.states],
    )
    .await;
    let inserted = match inserted {
        Ok(rows) => rows,
        Err(error) if taken(&error) => {
            return Err(Error::Conflict {
                originator_id: columns.ids[0],
                originator_version: whole(columns.versions[0], "version")?,
                detail: format!("PostgreSQL: {}", super::explain(&error)),
            })
        }
        Err(error) => return Err(failed("inserting events")(error)),
    };
    let given = given_ids(&inserted)?;
    columns
        .ids
        .iter()
        .zip(&columns.versions)
        .map(|(id, version)| {
            let given = given.get(&(*id, *version)).ok_or_else(|| Error::Storage("PostgreSQL returned no id for an event".into()))?;
            whole(*given, "notification id")
        })
        .collect()
}

/// Announces the log's head on Python's channel, with `"{schema} {head}"` as
/// the payload (Python's listeners ignore payloads; ours read them).
pub(super) async fn notify(tx: &Transaction<'_>, tables: &Tables, head: u64) -> Result<()> {
    execute(tx, "SELECT pg_notify($1, $2)", &[&tables.channel, &format!("{} {head}", tables.schema)])
        .await
        .map_err(failed("announcing new events"))
        .map(drop)
}

/// Names the tracking table refuses: Python's layout marker, and NUL (PostgreSQL's text cannot hold it).
pub(super) fn check_name(name: &str) -> Result<()> {
    if name == MIGRATION {
        return Err(Error::invalid(format!("{MIGRATION:?} is the tracking table's own name")));
    }
    if name.contains('\0') {
        return Err(Error::invalid(format!("tracking name {name:?}: PostgreSQL cannot store a NUL in it")));
    }
    Ok(())
}

/// Records a position, only forward: one at or below the newest is a duplicate.
pub(super) async fn insert_tracking(tx: &Transaction<'_>, tables: &Tables, tracking: &Tracking) -> Result<()> {
    tracking.validate()?;
    check_name(&tracking.application_name)?;
    let moved = query(
        tx,
        &format!(
            "INSERT INTO {} AS t VALUES ($1, $2) ON CONFLICT (application_name) DO UPDATE SET notification_id = $2 \
             WHERE t.notification_id < $2 RETURNING notification_id",
            tables.tracking
        ),
        &[&tracking.application_name, &int(tracking.notification_id)],
    )
    .await
    .map_err(failed("recording a position"))?;
    match moved.is_empty() {
        false => Ok(()),
        true => {
            Err(Error::DuplicateTracking { application_name: tracking.application_name.clone(), notification_id: tracking.notification_id })
        }
    }
}

/// The newest position of a name (none for a name that cannot be stored).
pub(super) async fn tracked<C: GenericClient>(client: &C, tables: &Tables, name: &str) -> Result<Option<u64>> {
    if check_name(name).is_err() {
        return Ok(None);
    }
    let found = query(client, &format!("SELECT notification_id FROM {} WHERE application_name = $1", tables.tracking), &[&name])
        .await
        .map_err(failed("reading a position"))?;
    let position: Option<i64> = found.first().map(|row| column(row, 0)).transpose()?.flatten();
    position.map(|n| whole(n, "position")).transpose()
}

/// The newest notification id, 0 while the log is empty.
pub(super) async fn newest<C: GenericClient>(client: &C, tables: &Tables) -> Result<u64> {
    let found =
        query(client, &format!("SELECT MAX(notification_id) FROM {}", tables.events), &[]).await.map_err(failed("reading the log"))?;
    let max: Option<i64> = found.first().map(|row| column(row, 0)).transpose()?.flatten();
    max.map_or(Ok(0), |n| whole(n, "notification id"))
}

/// One aggregate's events (or snapshots) from `table`, as the query says.
pub(super) async fn select<C: GenericClient>(
    client: &C,
    table: &str,
    originator_id: &Uuid,
    query: &EventQuery,
) -> Result<Vec<StoredEvent>> {
    let order = if query.desc { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT originator_id, originator_version, topic, state FROM {table} WHERE originator_id = $1 \
         AND originator_version > $2 AND originator_version <= $3 ORDER BY originator_version {order} LIMIT $4"
    );
    let gt = query.gt.map_or(-1, int);
    let lte = query.lte.map_or(i64::MAX, int);
    let limit: Option<i64> = query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    let rows = super::query(client, &sql, &[originator_id, &gt, &lte, &limit]).await.map_err(failed("reading events"))?;
    rows.iter().map(|row| stored(row, 0)).collect()
}

/// A page of the log. Planned for its own bounds each time (an unnamed
/// statement, still one round trip): a plan made for any bounds may read the
/// whole range from `start` and sort it before the limit, so that a reader far
/// behind would read more the further behind it is.
async fn notifications<C: tokio_postgres::GenericClient>(
    client: &C,
    tables: &Tables,
    query: &NotificationQuery,
) -> Result<Vec<Notification>> {
    if query.limit == 0 {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} \
         WHERE notification_id >= $1 AND notification_id <= $2 AND (cardinality($3::text[]) = 0 OR topic = ANY($3)) \
         ORDER BY notification_id LIMIT $4",
        tables.events
    );
    let (start, stop) = (int(query.start), query.stop.map_or(i64::MAX, int));
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let params: [(&(dyn ToSql + Sync), Type); 4] =
        [(&start, Type::INT8), (&stop, Type::INT8), (&query.topics, Type::TEXT_ARRAY), (&limit, Type::INT8)];
    let rows = client.query_typed(&sql, &params).await.map_err(failed("reading the log"))?;
    rows.iter().map(|row| Ok(Notification::new(whole(column(row, 0)?, "notification id")?, stored(row, 1)?))).collect()
}

#[async_trait(?Send)]
impl AggregateRecorder for PostgresRecorder {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
        self.record(Recording { events, ..Recording::default() }).await
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        select(&self.client().await?, &self.tables.events, &originator_id, &query).await
    }
}

#[async_trait(?Send)]
impl ApplicationRecorder for PostgresRecorder {
    /// The tracking record and snapshots go first, the events last: every
    /// refusal then comes before the events take sequence numbers, and every
    /// writer takes row locks before the table lock (no deadlock between them).
    async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>> {
        validate_batch(recording.events)?;
        validate_batch(recording.snapshots)?;
        fits(recording.events)?;
        fits(recording.snapshots)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        if let Some(tracking) = recording.tracking {
            insert_tracking(&tx, &self.tables, tracking).await?;
        }
        super::snapshots::insert(&tx, &self.tables, recording.snapshots).await?;
        let ids = insert_events(&tx, &self.tables, recording.events, Ids::AfterNewest).await?;
        tx.commit().await.map_err(failed("committing"))?;
        Ok(ids)
    }

    /// Takes the lock before reading the heads: appenders queue, none conflicts.
    async fn append(&self, aggregates: &[Uuid], prepare: Prepare<'_>) -> Result<Vec<u64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(failed("starting a transaction"))?;
        lock(&tx, &self.tables).await?;
        let mut heads = Vec::with_capacity(aggregates.len());
        for id in aggregates {
            heads.push(select(&tx, &self.tables.events, id, &EventQuery::last(None)).await?.pop());
        }
        let events = prepare(&heads)?;
        validate_batch(&events)?;
        fits(&events)?;
        let ids = insert_events(&tx, &self.tables, &events, Ids::AfterNewest).await?;
        tx.commit().await.map_err(failed("committing"))?;
        Ok(ids)
    }

    fn snapshots(&self) -> Rc<dyn SnapshotRecorder> {
        Rc::new(PostgresSnapshots::new(self.clone()))
    }

    async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
        notifications(&**self.client().await?, &self.tables, query).await
    }

    /// Both reads in one REPEATABLE READ snapshot.
    async fn select_notifications_with_head(&self, query: &NotificationQuery) -> Result<(Vec<Notification>, u64)> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(failed("starting a transaction"))?;
        let head = newest(&tx, &self.tables).await?;
        let bounded = NotificationQuery { stop: Some(query.stop.map_or(head, |s| s.min(head))), ..query.clone() };
        let found = notifications(&*tx, &self.tables, &bounded).await?;
        tx.commit().await.map_err(failed("reading the log"))?;
        Ok((found, head))
    }

    async fn max_notification_id(&self) -> Result<Option<u64>> {
        Ok(Some(newest(&self.client().await?, &self.tables).await?).filter(|id| *id > 0))
    }
}

#[async_trait(?Send)]
impl TrackingRecorder for PostgresRecorder {
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
        self.record(Recording { tracking: Some(tracking), ..Recording::default() }).await.map(drop)
    }

    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
        tracked(&self.client().await?, &self.tables, application_name).await
    }
}

/// The notification ids of events at these positions (`None` where there is none).
/// One index probe per position, whatever the planner thinks of the table's
/// size: a join (or a LATERAL it may flatten into one; LIMIT keeps it apart)
/// lets it choose a hash join over a scan of the whole log.
pub(super) async fn ids_at<C: GenericClient>(client: &C, tables: &Tables, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>> {
    if positions.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<Uuid> = positions.iter().map(|(id, _)| *id).collect();
    let versions: Vec<i64> = positions.iter().map(|(_, v)| int(*v)).collect();
    let rows = query(
        client,
        &format!(
            "SELECT n.id, n.version, e.notification_id FROM unnest($1::uuid[], $2::bigint[]) AS n(id, version) \
             CROSS JOIN LATERAL (SELECT notification_id FROM {} e WHERE e.originator_id = n.id AND e.originator_version = n.version LIMIT 1) e",
            tables.events
        ),
        &[&ids, &versions],
    )
    .await
    .map_err(failed("finding events"))?;
    let found = given_ids(&rows)?;
    positions.iter().map(|(id, version)| found.get(&(*id, int(*version))).map(|n| whole(*n, "notification id")).transpose()).collect()
}
