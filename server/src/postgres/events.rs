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

pub(super) use crate::sql::{fits, int};
use crate::sql::{not_migration, whole};

use super::append::{insert_events, lock, Ids};
use super::schema::Tables;
use super::snapshots::PostgresSnapshots;
use super::{column, failed, query, PostgresRecorder};

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
pub(super) fn given_ids(rows: &[tokio_postgres::Row]) -> Result<HashMap<(Uuid, i64), i64>> {
    rows.iter().map(|row| Ok(((column(row, 0)?, column(row, 1)?), column(row, 2)?))).collect()
}

/// The columns of a batch, for `unnest`: one statement whatever its size.
/// Text and bytes are borrowed from the events, not copied.
pub(super) struct Columns<'a> {
    pub ids: Vec<Uuid>,
    pub versions: Vec<i64>,
    pub topics: Vec<&'a str>,
    pub states: Vec<&'a [u8]>,
}

impl<'a> Columns<'a> {
    pub fn of(events: impl IntoIterator<Item = &'a StoredEvent>) -> Columns<'a> {
        let events = events.into_iter();
        let capacity = events.size_hint().0;
        let mut columns = Columns {
            ids: Vec::with_capacity(capacity),
            versions: Vec::with_capacity(capacity),
            topics: Vec::with_capacity(capacity),
            states: Vec::with_capacity(capacity),
        };
        for event in events {
            columns.ids.push(event.originator_id);
            columns.versions.push(int(event.originator_version));
            columns.topics.push(&event.topic);
            columns.states.push(&event.state);
        }
        columns
    }
}

/// A conflict at an event's position.
pub(super) fn conflict(event: &StoredEvent, detail: String) -> Error {
    Error::Conflict { originator_id: event.originator_id, originator_version: event.originator_version, detail }
}

/// Names the tracking table refuses: Python's layout marker, and NUL (PostgreSQL's text cannot hold it).
pub(super) fn check_name(name: &str) -> Result<()> {
    not_migration(name)?;
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
    // No stored topic holds a NUL (PostgreSQL's text cannot): such a topic selects nothing.
    let topics: Vec<&str> = query.topics.iter().map(String::as_str).filter(|topic| !topic.contains('\0')).collect();
    if query.limit == 0 || topics.len() < query.topics.len() && topics.is_empty() {
        return Ok(vec![]);
    }
    let (start, stop) = (int(query.start), query.stop.map_or(i64::MAX, int));
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let params: [(&(dyn ToSql + Sync), Type); 4] =
        [(&start, Type::INT8), (&stop, Type::INT8), (&topics, Type::TEXT_ARRAY), (&limit, Type::INT8)];
    let rows = client.query_typed(&page_sql(tables, query.stop.is_some()), &params).await.map_err(failed("reading the log"))?;
    rows.iter().map(|row| Ok(Notification::new(whole(column(row, 0)?, "notification id")?, stored(row, 1)?))).collect()
}

/// A page's SQL: from `$1`, up to `$2` only if `bounded`, of the topics `$3`
/// (all if none), at most `$4`. No upper bound unless one is asked for: on a
/// table not yet analysed (a new application's first minute), the planner
/// guesses that a two-sided range holds few rows and reads all of them from
/// `$1` on to sort them (seen: 49 ms instead of 0.5 ms for 1,000 of 50,000,
/// and devices seconds behind under load), while a one-sided range is read in
/// order along the index.
fn page_sql(tables: &Tables, bounded: bool) -> String {
    let upper = if bounded { "notification_id <= $2" } else { "$2::bigint IS NOT NULL" };
    format!(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} \
         WHERE notification_id >= $1 AND {upper} AND (cardinality($3::text[]) = 0 OR topic = ANY($3)) \
         ORDER BY notification_id LIMIT $4",
        tables.events
    )
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

#[cfg(all(test, feature = "postgres-tests"))]
mod tests {
    use std::sync::Arc;

    use tokio_postgres::types::Type;
    use tributary::persistence::{AggregateRecorder, StoredEvent};

    use super::{page_sql, PostgresRecorder, Tables};

    /// On a table never analysed, a page from far behind is read along the
    /// index: its own rows, not every row from its start, sorted.
    #[tokio::test]
    async fn a_page_from_far_behind_is_read_along_the_index_on_a_table_never_analysed() {
        let url = std::env::var("TRIBUTARY_TEST_POSTGRES").expect("TRIBUTARY_TEST_POSTGRES: source scripts/postgres.sh");
        let pool = crate::postgres::connect(&url, 2).await.unwrap();
        let tables = Arc::new(Tables::new(&format!("plan_{}", uuid::Uuid::new_v4().simple()), "dogschool").unwrap());
        let recorder = PostgresRecorder::open(pool.clone(), tables.clone()).await.unwrap();
        let dog = uuid::Uuid::new_v4();
        let events: Vec<StoredEvent> = (1..=20_000)
            .map(|version| StoredEvent {
                originator_id: dog,
                originator_version: version,
                topic: "Dog.TrickAdded".into(),
                state: vec![7; 40],
            })
            .collect();
        recorder.insert_events(&events).await.unwrap();
        let client = pool.get().await.unwrap();
        let (start, stop, topics, limit) = (1i64, i64::MAX, Vec::<String>::new(), 1000i64);
        let params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 4] =
            [(&start, Type::INT8), (&stop, Type::INT8), (&topics, Type::TEXT_ARRAY), (&limit, Type::INT8)];
        let explain = format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {}", page_sql(&tables, false));
        let plan: Vec<String> = client.query_typed(&explain, &params).await.unwrap().iter().map(|row| row.get(0)).collect();
        let plan = plan.join("\n");
        assert!(plan.contains("Index Scan") && !plan.contains("Sort") && !plan.contains("rows=20000"), "{plan}");
    }
}
