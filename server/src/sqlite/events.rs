//! Events, the notification log and tracking records over SQLite.

use std::rc::Rc;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row, Transaction};
use tributary::persistence::{
    validate_batch, AggregateRecorder, ApplicationRecorder, EventQuery, Notification, NotificationQuery, Prepare, Recording,
    SnapshotRecorder, StoredEvent, Tracking, TrackingRecorder,
};
use tributary::{Error, Result};
use uuid::Uuid;

pub(super) use crate::sql::{fits, int};
use crate::sql::{not_migration, whole};

use super::schema::MIGRATION;
use super::snapshots::SqliteSnapshots;
use super::{storage, taken, SqliteRecorder};

/// A stored event's row: `originator_id, originator_version, topic, state`.
pub(super) fn read_event(row: &Row<'_>, first: usize) -> rusqlite::Result<(String, i64, String, Vec<u8>)> {
    Ok((row.get(first)?, row.get(first + 1)?, row.get(first + 2)?, row.get(first + 3)?))
}

pub(super) fn stored((id, version, topic, state): (String, i64, String, Vec<u8>)) -> Result<StoredEvent> {
    let originator_id = Uuid::parse_str(&id).map_err(|_| Error::corrupt(format!("a stored originator_id {id:?} is not a UUID")))?;
    Ok(StoredEvent { originator_id, originator_version: whole(version, "version")?, topic, state })
}

/// Inserts events, each taking the next rowid (its notification id), or explicit ones.
pub(super) fn insert_events<'a>(
    tx: &Transaction<'_>,
    events: impl IntoIterator<Item = &'a StoredEvent>,
    first_id: Option<u64>,
) -> Result<Vec<u64>> {
    let events = events.into_iter();
    let mut ids = Vec::with_capacity(events.size_hint().0);
    let mut insert = tx
        .prepare_cached("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(|e| storage("inserting events", e))?;
    for (i, event) in events.enumerate() {
        let rowid = first_id.map(|first| int(first + i as u64));
        let id = event.originator_id.simple().to_string();
        match insert.insert(params![rowid, id, int(event.originator_version), event.topic, event.state]) {
            Ok(rowid) => ids.push(whole(rowid, "notification id")?),
            Err(error) if taken(&error) => {
                return Err(Error::Conflict {
                    originator_id: event.originator_id,
                    originator_version: event.originator_version,
                    detail: format!("SQLite: {error}"),
                })
            }
            Err(error) => return Err(storage("inserting events", error)),
        }
    }
    Ok(ids)
}

/// Records a position, only forward: one at or below the newest is a duplicate.
pub(super) fn insert_tracking(tx: &Transaction<'_>, tracking: &Tracking) -> Result<()> {
    tracking.validate()?;
    not_migration(&tracking.application_name)?;
    let moved: Option<i64> = tx
        .query_row(
            "INSERT INTO tracking VALUES (?1, ?2) ON CONFLICT (application_name) DO UPDATE SET notification_id = ?2 \
             WHERE tracking.notification_id < ?2 RETURNING notification_id",
            params![tracking.application_name, int(tracking.notification_id)],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| storage("recording a position", e))?;
    match moved {
        Some(_) => Ok(()),
        None => {
            Err(Error::DuplicateTracking { application_name: tracking.application_name.clone(), notification_id: tracking.notification_id })
        }
    }
}

/// The newest position of a name.
pub(super) fn tracked(tx: &rusqlite::Connection, name: &str) -> Result<Option<u64>> {
    let found: Option<i64> = tx
        .query_row("SELECT notification_id FROM tracking WHERE application_name = ?1", [name], |row| row.get(0))
        .optional()
        .map_err(|e| storage("reading a position", e))?;
    found.map(|n| whole(n, "position")).transpose()
}

fn newest(tx: &rusqlite::Connection) -> Result<u64> {
    let max: Option<i64> =
        tx.query_row("SELECT MAX(rowid) FROM stored_events", [], |row| row.get(0)).map_err(|e| storage("reading the log", e))?;
    max.map_or(Ok(0), |n| whole(n, "notification id"))
}

fn select(tx: &rusqlite::Connection, originator_id: &Uuid, query: &EventQuery) -> Result<Vec<StoredEvent>> {
    let order = if query.desc { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE originator_id = ?1 \
         AND originator_version > ?2 AND originator_version <= ?3 ORDER BY originator_version {order} LIMIT ?4"
    );
    let gt = query.gt.map_or(-1, int);
    let lte = query.lte.map_or(i64::MAX, int);
    let limit = query.limit.map_or(-1, |l| i64::try_from(l).unwrap_or(-1));
    let mut statement = tx.prepare_cached(&sql).map_err(|e| storage("reading events", e))?;
    let rows = statement
        .query_map(params![originator_id.simple().to_string(), gt, lte, limit], |row| read_event(row, 0))
        .map_err(|e| storage("reading events", e))?;
    rows.map(|row| stored(row.map_err(|e| storage("reading events", e))?)).collect()
}

fn notifications(tx: &rusqlite::Connection, query: &NotificationQuery) -> Result<Vec<Notification>> {
    if query.limit == 0 {
        return Ok(vec![]);
    }
    let topics =
        if query.topics.is_empty() { String::new() } else { format!(" AND topic IN ({})", vec!["?"; query.topics.len()].join(",")) };
    let sql = format!(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events WHERE rowid >= ? AND rowid <= ?{topics} ORDER BY rowid LIMIT ?"
    );
    let mut values: Vec<rusqlite::types::Value> = vec![int(query.start).into(), query.stop.map_or(i64::MAX, int).into()];
    values.extend(query.topics.iter().map(|t| rusqlite::types::Value::from(t.clone())));
    values.push(i64::try_from(query.limit).unwrap_or(i64::MAX).into());
    let mut statement = tx.prepare_cached(&sql).map_err(|e| storage("reading the log", e))?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(values), |row| Ok((row.get::<_, i64>(0)?, read_event(row, 1)?)))
        .map_err(|e| storage("reading the log", e))?;
    rows.map(|row| {
        let (id, event) = row.map_err(|e| storage("reading the log", e))?;
        Ok(Notification::new(whole(id, "notification id")?, stored(event)?))
    })
    .collect()
}

#[async_trait(?Send)]
impl AggregateRecorder for SqliteRecorder {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
        self.record(Recording { events, ..Recording::default() }).await
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        self.with(|connection| select(connection, &originator_id, &query))
    }
}

#[async_trait(?Send)]
impl ApplicationRecorder for SqliteRecorder {
    async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>> {
        validate_batch(recording.events)?;
        validate_batch(recording.snapshots)?;
        fits(recording.events)?;
        fits(recording.snapshots)?;
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            let ids = insert_events(&tx, recording.events, None)?;
            super::snapshots::insert(&tx, recording.snapshots)?;
            if let Some(tracking) = recording.tracking {
                insert_tracking(&tx, tracking)?;
            }
            tx.commit().map_err(|e| storage("committing", e))?;
            Ok(ids)
        })
    }

    async fn append(&self, aggregates: &[Uuid], prepare: Prepare<'_>) -> Result<Vec<u64>> {
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            let heads = aggregates.iter().map(|id| Ok(select(&tx, id, &EventQuery::last(None))?.pop())).collect::<Result<Vec<_>>>()?;
            let events = prepare(&heads)?;
            validate_batch(&events)?;
            fits(&events)?;
            let ids = insert_events(&tx, &events, None)?;
            tx.commit().map_err(|e| storage("committing", e))?;
            Ok(ids)
        })
    }

    fn snapshots(&self) -> Rc<dyn SnapshotRecorder> {
        Rc::new(SqliteSnapshots::new(self.clone()))
    }

    async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
        self.with(|connection| notifications(connection, query))
    }

    async fn select_notifications_with_head(&self, query: &NotificationQuery) -> Result<(Vec<Notification>, u64)> {
        self.with(|connection| {
            let tx = connection.transaction().map_err(|e| storage("starting a transaction", e))?;
            let head = newest(&tx)?;
            let found = notifications(&tx, &NotificationQuery { stop: Some(query.stop.map_or(head, |s| s.min(head))), ..query.clone() })?;
            Ok((found, head))
        })
    }

    async fn max_notification_id(&self) -> Result<Option<u64>> {
        self.with(|connection| Ok(Some(newest(connection)?).filter(|id| *id > 0)))
    }
}

#[async_trait(?Send)]
impl TrackingRecorder for SqliteRecorder {
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
        self.record(Recording { tracking: Some(tracking), ..Recording::default() }).await.map(drop)
    }

    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
        if application_name == MIGRATION {
            return Ok(None);
        }
        self.with(|connection| tracked(connection, application_name))
    }
}

/// The notification ids of events at these positions (`None` where there is none).
pub(super) fn ids_at(tx: &rusqlite::Connection, positions: &[(Uuid, u64)]) -> Result<Vec<Option<u64>>> {
    let mut statement = tx
        .prepare_cached("SELECT rowid FROM stored_events WHERE originator_id = ?1 AND originator_version = ?2")
        .map_err(|e| storage("finding events", e))?;
    positions
        .iter()
        .map(|(id, version)| {
            let found: Option<i64> = statement
                .query_row(params![id.simple().to_string(), int(*version)], |row| row.get(0))
                .optional()
                .map_err(|e| storage("finding events", e))?;
            found.map(|n| whole(n, "notification id")).transpose()
        })
        .collect()
}
