//! Sync's writes over IndexedDB, in one transaction over every store: the
//! newest id and the tracked position are read first (new ids follow the
//! newest ever given, so a removed id is never given again), then the removals,
//! the pulled events, the position, sync's rows and the cleared views go in.

use async_trait::async_trait;
use futures::future::join_all;
use rexie::TransactionMode;
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::codec::{event_row, number, pair, tracked_row, tracking_row, MAX_SAFE};
use super::columns::read_rows;
use super::failure::storage;
use super::newest::{count_of_removals, newest_event, newest_id, removal_row};
use super::recorder::{notification_id, range, IndexedDbRecorder};
use super::schema::{ALL_STORES, EVENTS, POSITION, ROWS, SNAPSHOTS, TRACKING};
use super::views::{row, whole};
use super::write::{write_all, Mode, Row, Write};
use crate::error::{Error, Result};
use crate::persistence::{cleared_row, validate_batch, Removal, SyncRecorder, SyncWrite, ViewDefinition};

#[async_trait(?Send)]
impl SyncRecorder for IndexedDbRecorder {
    async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>> {
        validate_batch(write.events)?;
        write.tracking.map(|t| t.validate()).transpose()?;
        let counted = self.hints().counted();
        let transaction = self.connection().transaction(&ALL_STORES, TransactionMode::ReadWrite)?;
        let opened = |store| transaction.store(store).map_err(|e| storage("writing what sync brought", e));
        let (events, snapshots, tracking, rows) = (opened(EVENTS)?, opened(SNAPSHOTS)?, opened(TRACKING)?, opened(ROWS)?);
        // Read first: the newest id, the removed rows, and whether the position moves forward.
        let removed = join_all(write.removed.iter().map(|r| events.get(JsValue::from_f64(r.notification_id as f64))));
        let ahead = async {
            let Some(record) = write.tracking else { return Ok(false) };
            let name = JsValue::from_str(&record.application_name);
            let newer = range(pair(name.clone(), number(record.notification_id)?), pair(name, number(MAX_SAFE)?))?;
            Ok::<_, Error>(
                !tracking.get_all_keys(Some(newer), Some(1)).await.map_err(|e| storage("reading a tracked position", e))?.is_empty(),
            )
        };
        let removals = async {
            match write.removed.is_empty() {
                true => Ok(None),
                false => count_of_removals(&tracking, self.hints()).await.map(Some),
            }
        };
        // Each aggregate losing events: its newest, which must go with them.
        let mut losing: Vec<Uuid> = write.removed.iter().map(|r| r.originator_id).collect();
        losing.sort_unstable();
        losing.dedup();
        let index = events.index(POSITION).map_err(|e| storage("reading events", e))?;
        let heads = join_all(losing.iter().map(|id| newest_event(&index, id, self.hints())));
        let (last, removed, ahead, removals, heads) = futures::join!(newest_id(&events, self.hints()), removed, ahead, removals, heads);
        if let (true, Some(record)) = (ahead?, write.tracking) {
            return Err(Error::DuplicateTracking {
                application_name: record.application_name.clone(),
                notification_id: record.notification_id,
            });
        }
        for (removal, found) in write.removed.iter().zip(removed) {
            let found = found.map_err(|e| storage("reading an event to remove", e))?;
            let found = read_rows(&found.into_iter().collect::<Vec<_>>())?.pop().map(|(_, event)| event);
            if found.is_none_or(|e| e.originator_id != removal.originator_id || e.originator_version != removal.originator_version) {
                return Err(removal.absent());
            }
        }
        let mut newest = Vec::with_capacity(losing.len());
        for (id, head) in losing.iter().zip(heads) {
            let head = read_rows(&head?.into_iter().collect::<Vec<_>>())?.pop().map(|(_, event)| event.originator_version);
            newest.push((*id, head));
        }
        Removal::check_tails(write.removed, |id| newest.iter().find(|(n, _)| n == id).and_then(|(_, head)| *head))?;
        let last = last?.map(|key| notification_id(&key)).transpose()?.unwrap_or(0);
        let ids: Vec<u64> = (last + 1..).take(write.events.len()).collect();
        // Removals first: a pulled event may take a removed one's version. They
        // are counted, so that appends made from what was seen before fail.
        let mut writes = Vec::new();
        if let Some(count) = removals? {
            let (_, counted) = removal_row(count + 1)?;
            writes.push((&tracking, Write::Add(counted), Row::View("the count of removals")));
        }
        for removal in write.removed {
            writes.push((&events, Write::Delete(JsValue::from_f64(removal.notification_id as f64)), Row::View("a removed event")));
            let id = JsValue::from_str(&removal.originator_id.hyphenated().to_string());
            let later = range(pair(id.clone(), number(removal.originator_version)?), pair(id, number(MAX_SAFE)?))?;
            writes.push((&snapshots, Write::Delete(later.into()), Row::View("a removed event's snapshots")));
        }
        for view in write.cleared {
            let name = JsValue::from_str(view);
            writes.push((&rows, Write::Delete(whole(view)?.into()), Row::View(view)));
            writes.push((
                &tracking,
                Write::Delete(range(pair(name.clone(), number(0)?), pair(name.clone(), number(MAX_SAFE)?))?.into()),
                Row::View(view),
            ));
            writes.push((&tracking, Write::Add(tracked_row(name, 0)?), Row::View(view)));
            let definition = ViewDefinition::new(view.as_str(), &[], &[])?;
            for (key, value) in cleared_row() {
                writes.extend(value.map(|value| (&rows, Write::Put(row(&definition, &key, &value)), Row::View(view.as_str()))));
            }
        }
        for (id, event) in ids.iter().zip(write.events) {
            writes.push((&events, Write::Add(event_row(*id, event)?), Row::Event(event)));
        }
        if let Some(record) = write.tracking {
            let name = JsValue::from_str(&record.application_name);
            let older = range(pair(name.clone(), number(0)?), pair(name, number(record.notification_id - 1)?))?;
            writes.push((&tracking, Write::Delete(older.into()), Row::Tracking(record)));
            writes.push((&tracking, Write::Add(tracking_row(record)?), Row::Tracking(record)));
        }
        let private_views: Vec<ViewDefinition> =
            write.rows.iter().map(|(view, _)| ViewDefinition::new(*view, &[], &[])).collect::<Result<_>>()?;
        for ((view, changes), definition) in write.rows.iter().zip(&private_views) {
            for (key, change) in changes.iter() {
                let write = match change {
                    Some(value) => Write::Put(row(definition, key, value)),
                    None => Write::Delete(pair(JsValue::from_str(view), JsValue::from_str(key))),
                };
                writes.push((&rows, write, Row::View(key)));
            }
        }
        write_all(transaction, writes, Mode::Diagnose).await?;
        self.hints().saw_under(counted, ids.last().copied().unwrap_or(last), write.events);
        if let Some(record) = write.tracking {
            self.hints().saw_position(&record.application_name, record.notification_id);
        }
        Ok(ids)
    }
}
