//! The application recorder over IndexedDB: events and their notification log,
//! tracking records, and (through [`IndexedDbSnapshots`]) the snapshots.

use std::cell::RefCell;
use std::rc::Rc;

use async_trait::async_trait;
use futures::future::{join, join_all};
use rexie::{KeyRange, Rexie, Transaction, TransactionMode};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbDatabase;

use super::codec::{event_row, key_number, number, pair, snapshot_row, tracking_row, MAX_SAFE};
use super::columns::{read_notifications, read_rows};
use super::failure::{storage, thrown};
use super::newest::{count_of_removals, newest_event, newest_id, newest_position, removal_row, Hints};
use super::query::{count, Positions};
use super::schema::{self, ALL_STORES, EVENTS, POSITION, SNAPSHOTS, TOPIC, TRACKING};
use super::snapshots::IndexedDbSnapshots;
use super::write::{append_at_once, write_all, write_confirmed, Mode, Row, Write};
use crate::error::{Error, Result};
use crate::persistence::{
    validate_batch, AggregateRecorder, ApplicationRecorder, EventQuery, Notification, NotificationQuery, Prepare, Recording,
    SnapshotRecorder, StoredEvent, Tracking, TrackingRecorder,
};

#[wasm_bindgen(module = "/src/indexeddb/glue.js")]
extern "C" {
    fn connect(name: &str, version: u32, ms: u32) -> js_sys::Promise;
}

/// An open database, shared by the recorders over it.
pub(crate) struct Connection {
    name: String,
    database: RefCell<Option<Rexie>>,
    /// The same database as the browser gives it, for an append made at once
    /// in one crossing (rexie keeps its own to itself).
    raw: RefCell<Option<IdbDatabase>>,
    hints: Hints,
}

impl Connection {
    /// A transaction over these stores; fails once the connection is closed.
    pub(crate) fn transaction(&self, stores: &[&str], mode: TransactionMode) -> Result<Transaction> {
        let database = self.database.borrow();
        let database = database.as_ref().ok_or_else(|| self.closed())?;
        database.transaction(stores, mode).map_err(|e| storage("starting a transaction", e))
    }

    /// The browser's own connection, for an append made at once; fails once closed.
    fn raw(&self) -> Result<IdbDatabase> {
        self.raw.borrow().clone().ok_or_else(|| self.closed())
    }

    fn closed(&self) -> Error {
        Error::Storage(format!("database {:?} is closed; open it again", self.name))
    }
}

/// Events, notifications and tracking records in one IndexedDB database.
/// Clones share the connection.
#[derive(Clone)]
pub struct IndexedDbRecorder {
    connection: Rc<Connection>,
}

/// What a write transaction inserts: a recording, or the events made once the
/// aggregates' newest events are read in the same transaction.
enum Source<'r, 'p> {
    Recording(Recording<'r>),
    Append(&'r [Uuid], Prepare<'p>),
}

impl IndexedDbRecorder {
    /// Writes in one transaction; `None` when refused in `Fast` mode.
    async fn write(&self, source: &mut Source<'_, '_>, mode: Mode) -> Result<Option<Vec<u64>>> {
        let transaction = self.connection.transaction(&ALL_STORES, TransactionMode::ReadWrite)?;
        let opened = |store| transaction.store(store).map_err(|e| storage("writing", e));
        let (events, snapshots, tracking) = (opened(EVENTS)?, opened(SNAPSHOTS)?, opened(TRACKING)?);
        // The next ids follow the newest in this transaction: transactions over
        // the same stores run one at a time, across tabs too, so ids never gap.
        let prepared;
        let hints = &self.connection.hints;
        let (last, recording) = match source {
            Source::Recording(recording) => (newest_id(&events, hints).await?, *recording),
            Source::Append(aggregates, prepare) => {
                let index = events.index(POSITION).map_err(|e| storage("reading events", e))?;
                let heads = join_all(aggregates.iter().map(|id| newest_event(&index, id, hints)));
                let (last, heads, removals) = futures::join!(newest_id(&events, hints), heads, count_of_removals(&tracking, hints));
                let heads = heads
                    .into_iter()
                    .map(|row| Ok(read_rows(&row?.into_iter().collect::<Vec<_>>())?.pop().map(|(_, e)| e)))
                    .collect::<Result<Vec<_>>>()?;
                let last = last?;
                let removals = removals?;
                hints.read(last.as_ref().map(notification_id).transpose()?.unwrap_or(0), heads.iter().flatten(), removals);
                prepared = prepare(&heads)?;
                validate_batch(&prepared)?;
                (last, Recording { events: &prepared, ..Recording::default() })
            }
        };
        let counted = hints.counted();
        let last = last.map(|key| notification_id(&key)).transpose()?.unwrap_or(0);
        let ids: Vec<u64> = (last + 1..).take(recording.events.len()).collect();
        let mut rows = Vec::with_capacity(recording.events.len() + recording.snapshots.len() + 1);
        for (id, event) in ids.iter().zip(recording.events) {
            rows.push((&events, Write::Add(event_row(*id, event)?), Row::Event(event)));
        }
        for snapshot in recording.snapshots {
            rows.push((&snapshots, Write::Add(snapshot_row(snapshot)?), Row::Snapshot(snapshot)));
        }
        if let Some(record) = recording.tracking {
            // Positions only move forward: the older ones of that name go.
            let name = wasm_bindgen::JsValue::from_str(&record.application_name);
            let older = range(pair(name.clone(), number(0)?), pair(name, number(record.notification_id - 1)?))?;
            rows.push((&tracking, Write::Delete(older.into()), Row::Tracking(record)));
            rows.push((&tracking, Write::Add(tracking_row(record)?), Row::Tracking(record)));
        }
        let ahead = std::cell::Cell::new(false);
        let not_behind = async {
            let Some(record) = recording.tracking else { return Ok(true) };
            let name = wasm_bindgen::JsValue::from_str(&record.application_name);
            let newer = range(pair(name.clone(), number(record.notification_id)?), pair(name, number(MAX_SAFE)?))?;
            let found = tracking.get_all_keys(Some(newer), Some(1)).await.map_err(|e| storage("reading a tracked position", e))?;
            ahead.set(!found.is_empty());
            Ok(found.is_empty())
        };
        let written = match mode {
            Mode::Fast => write_confirmed(transaction, rows, not_behind).await?,
            Mode::Diagnose => not_behind.await? && write_all(transaction, rows, mode).await?,
        };
        if let (true, Some(record)) = (ahead.get(), recording.tracking) {
            return Err(Error::DuplicateTracking {
                application_name: record.application_name.clone(),
                notification_id: record.notification_id,
            });
        }
        if written {
            hints.saw_under(counted, ids.last().copied().unwrap_or(last), recording.events);
            if let Some(tracking) = recording.tracking {
                hints.saw_position(&tracking.application_name, tracking.notification_id);
            }
        }
        Ok(written.then_some(ids))
    }

    /// Appends after the newest events this connection saw, in one request-free
    /// round trip (see [`removal_row`]). `None` when it cannot be done so (not all
    /// seen, or refused: another connection wrote or removed since): nothing
    /// was written.
    async fn append_seen(&self, aggregates: &[Uuid], prepare: Prepare<'_>) -> Result<Option<Vec<u64>>> {
        let hints = &self.connection.hints;
        let Some((last, heads, removals)) = hints.all(aggregates) else { return Ok(None) };
        // Made from what may be stale: any refusal is for the full path to judge.
        let Some(stored) = prepare(&heads).ok().filter(|stored| validate_batch(stored).is_ok()) else { return Ok(None) };
        let Some(last_new) = last.checked_add(stored.len() as u64).filter(|_| !stored.is_empty()) else { return Ok(None) };
        let ids: Vec<u64> = (last + 1..=last_new).collect();
        let rows = ids.iter().zip(&stored).map(|(id, event)| event_row(*id, event)).collect::<Result<js_sys::Array>>()?;
        let (key, next_removal) = removal_row(removals + 1)?;
        if !append_at_once(&self.connection.raw()?, &rows, &next_removal, &key).await? {
            return Ok(None);
        }
        hints.saw_under(Some(removals), last_new, &stored);
        Ok(Some(ids))
    }

    /// Writes fast; if the browser refuses, again with a handler per request to say which row.
    async fn write_twice(&self, source: &mut Source<'_, '_>) -> Result<Vec<u64>> {
        match self.write(source, Mode::Fast).await? {
            Some(ids) => Ok(ids),
            None => self.write(source, Mode::Diagnose).await?.ok_or_else(|| Error::Storage("the browser refused a write".into())),
        }
    }

    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<Self> {
        let database = schema::open(name).await?;
        let raw = match JsFuture::from(connect(name, schema::SCHEMA_VERSION, schema::BLOCKED_AFTER_MS as u32)).await {
            Ok(raw) => raw.unchecked_into::<IdbDatabase>(),
            Err(error) => {
                database.close();
                return Err(thrown(&format!("opening database {name:?}"), error));
            }
        };
        let connection = Connection {
            name: name.to_owned(),
            database: RefCell::new(Some(database)),
            raw: RefCell::new(Some(raw)),
            hints: Hints::default(),
        };
        Ok(IndexedDbRecorder { connection: Rc::new(connection) })
    }

    pub fn name(&self) -> &str {
        &self.connection.name
    }

    pub(crate) fn hints(&self) -> &Hints {
        &self.connection.hints
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Closes the connection; later calls fail with a storage error.
    pub fn close(&self) {
        if let Some(database) = self.connection.database.borrow_mut().take() {
            database.close();
        }
        if let Some(raw) = self.connection.raw.borrow_mut().take() {
            raw.close();
        }
    }
}

#[async_trait(?Send)]
impl AggregateRecorder for IndexedDbRecorder {
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>> {
        self.record(Recording { events, ..Recording::default() }).await
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        let transaction = self.connection.transaction(&[EVENTS], TransactionMode::ReadOnly)?;
        let index = transaction.store(EVENTS).and_then(|s| s.index(POSITION)).map_err(|e| storage("reading events", e))?;
        Ok(read_rows(&Positions::Index(index).select(&originator_id, &query).await?)?.into_iter().map(|(_, event)| event).collect())
    }
}

#[async_trait(?Send)]
impl ApplicationRecorder for IndexedDbRecorder {
    async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>> {
        validate_batch(recording.events)?;
        validate_batch(recording.snapshots)?;
        recording.tracking.map(Tracking::validate).transpose()?;
        self.write_twice(&mut Source::Recording(recording)).await
    }

    async fn append(&self, aggregates: &[Uuid], prepare: Prepare<'_>) -> Result<Vec<u64>> {
        if let Some(ids) = self.append_seen(aggregates, prepare).await? {
            return Ok(ids);
        }
        self.write_twice(&mut Source::Append(aggregates, prepare)).await
    }

    fn snapshots(&self) -> Rc<dyn SnapshotRecorder> {
        Rc::new(IndexedDbSnapshots::new(self.connection.clone()))
    }

    async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
        let transaction = self.connection.transaction(&[EVENTS], TransactionMode::ReadOnly)?;
        let store = transaction.store(EVENTS).map_err(|e| storage("reading the log", e))?;
        select_in(&store, query).await
    }

    async fn select_notifications_with_head(&self, query: &NotificationQuery) -> Result<(Vec<Notification>, u64)> {
        let transaction = self.connection.transaction(&[EVENTS], TransactionMode::ReadOnly)?;
        let store = transaction.store(EVENTS).map_err(|e| storage("reading the log", e))?;
        // One transaction sees one state of the log: every notification read is at or below the head.
        let (notifications, head) = join(select_in(&store, query), newest_id(&store, &self.connection.hints)).await;
        let head = head?.map(|key| notification_id(&key)).transpose()?.unwrap_or(0);
        Ok((notifications?, head))
    }

    async fn max_notification_id(&self) -> Result<Option<u64>> {
        let transaction = self.connection.transaction(&[EVENTS], TransactionMode::ReadOnly)?;
        let store = transaction.store(EVENTS).map_err(|e| storage("reading the log", e))?;
        newest_id(&store, &self.connection.hints).await?.map(|key| notification_id(&key)).transpose()
    }
}

#[async_trait(?Send)]
impl TrackingRecorder for IndexedDbRecorder {
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
        self.record(Recording { tracking: Some(tracking), ..Recording::default() }).await.map(drop)
    }

    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
        let transaction = self.connection.transaction(&[TRACKING], TransactionMode::ReadOnly)?;
        let store = transaction.store(TRACKING).map_err(|e| storage("reading tracking", e))?;
        let position = newest_position(&store, application_name, &self.connection.hints).await?.map(|key| key_number(&key)).transpose()?;
        if let Some(position) = position {
            self.connection.hints.saw_position(application_name, position);
        }
        Ok(position)
    }
}

pub(crate) fn range(lower: wasm_bindgen::JsValue, upper: wasm_bindgen::JsValue) -> Result<KeyRange> {
    KeyRange::bound(&lower, &upper, None, None).map_err(|e| storage("making a key range", e.into()))
}

/// The notifications a query selects, read from the `events` store of a transaction.
async fn select_in(store: &rexie::Store, query: &NotificationQuery) -> Result<Vec<Notification>> {
    let (lower, upper) = (query.start.max(1), query.stop.unwrap_or(MAX_SAFE).min(MAX_SAFE));
    // No id is above MAX_SAFE: a range starting there is empty, not an error.
    if query.limit == 0 || lower > upper {
        return Ok(vec![]);
    }
    let failed = |e| storage("reading the log", e);
    let limit = count(Some(query.limit));
    let rows = if query.topics.is_empty() {
        store.get_all(Some(range(number(lower)?, number(upper)?)?), limit).await.map_err(failed)?
    } else {
        // One getAll per topic, all in flight at once, merged by id.
        let index = store.index(TOPIC).map_err(failed)?;
        let mut ranges = Vec::with_capacity(query.topics.len());
        for topic in &query.topics {
            let topic = wasm_bindgen::JsValue::from_str(topic);
            ranges.push(range(pair(topic.clone(), number(lower)?), pair(topic, number(upper)?))?);
        }
        let reads = join_all(ranges.into_iter().map(|r| index.get_all(Some(r), limit))).await;
        reads.into_iter().collect::<std::result::Result<Vec<_>, _>>().map_err(failed)?.concat()
    };
    let mut notifications = read_notifications(&rows)?;
    notifications.sort_by_key(|n| n.id);
    notifications.truncate(query.limit);
    Ok(notifications)
}

/// A key of the `events` store: a notification id, or the record is corrupt.
pub(crate) fn notification_id(key: &wasm_bindgen::JsValue) -> Result<u64> {
    key.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= MAX_SAFE as f64)
        .map(|n| n as u64)
        .ok_or_else(|| Error::corrupt(format!("the events store holds a key {key:?} that is not a notification id")))
}
