//! The newest notification id and each aggregate's newest event: what every
//! append needs. rexie's cursor scan always steps once more than asked, a round
//! trip to the browser's storage process per read. Ids and versions only grow,
//! so what this connection saw last is a lower bound, and a `getAll` from there
//! returns the newest in one request (usually one row). Better still, when the
//! connection saw the newest of everything an append touches, the append is
//! written at once with reads alongside that confirm nothing moved.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use rexie::{Direction, KeyRange, Store, StoreIndex};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::codec::{id, number, pair, MAX_SAFE};
use super::failure::storage;
use crate::error::Result;
use crate::persistence::StoredEvent;

/// How many aggregates' newest events a connection remembers...
const REMEMBERED: usize = 1_000;
/// ...and only those this small.
const SMALL: usize = 16 << 10;

/// What a connection saw last: the newest id and events, lower bounds of what is stored.
#[derive(Default)]
pub(crate) struct Hints {
    last_id: Cell<u64>,
    heads: RefCell<HashMap<Uuid, StoredEvent>>,
    /// Tracked positions, by the name they are tracked for.
    positions: RefCell<HashMap<String, u64>>,
}

impl Hints {
    /// Remembers the newest id and events known to exist (read, or written and committed).
    pub(crate) fn saw<'a>(&self, last_id: u64, events: impl IntoIterator<Item = &'a StoredEvent>) {
        self.last_id.set(self.last_id.get().max(last_id));
        let mut heads = self.heads.borrow_mut();
        if heads.len() > REMEMBERED {
            heads.clear();
        }
        for event in events {
            if heads.get(&event.originator_id).is_some_and(|known| known.originator_version >= event.originator_version) {
                continue;
            }
            if event.state.len() > SMALL {
                heads.remove(&event.originator_id);
            } else {
                heads.insert(event.originator_id, event.clone());
            }
        }
    }

    /// Remembers a tracked position known to exist.
    pub(crate) fn saw_position(&self, name: &str, position: u64) {
        let mut positions = self.positions.borrow_mut();
        if positions.len() > REMEMBERED {
            positions.clear();
        }
        let entry = positions.entry(name.to_owned()).or_insert(position);
        *entry = (*entry).max(position);
    }

    /// The newest id and the newest event of each aggregate, if all were seen.
    pub(crate) fn all(&self, aggregates: &[Uuid]) -> Option<(u64, Vec<Option<StoredEvent>>)> {
        let heads = self.heads.borrow();
        let last = self.last_id.get();
        let seen = aggregates.iter().map(|id| heads.get(id).cloned().map(Some)).collect::<Option<Vec<_>>>()?;
        (last > 0).then_some((last, seen))
    }
}

/// The greatest key of the `events` store (the newest notification id).
pub(crate) async fn newest_id(events: &Store, hints: &Hints) -> Result<Option<JsValue>> {
    let failed = |e| storage("reading the newest notification id", e);
    let hint = hints.last_id.get();
    if hint > 0 {
        if let Some(key) = events.get_all_keys(Some(from(hint)?), None).await.map_err(failed)?.pop() {
            return Ok(Some(key));
        }
    }
    let rows = events.scan(None, Some(1), None, Some(Direction::Prev)).await.map_err(failed)?;
    Ok(rows.into_iter().next().map(|(key, _)| key))
}

/// The row of an aggregate's newest event, from the `position` index.
pub(crate) async fn newest_event(index: &StoreIndex, originator_id: &Uuid, hints: &Hints) -> Result<Option<JsValue>> {
    let failed = |e| storage("reading an aggregate's newest event", e);
    let hint = hints.heads.borrow().get(originator_id).map(|e| e.originator_version);
    if let Some(version) = hint {
        if let Some(row) = index.get_all(Some(versions(originator_id, version)?), None).await.map_err(failed)?.pop() {
            return Ok(Some(row));
        }
    }
    let rows = index.scan(Some(versions(originator_id, 0)?), Some(1), None, Some(Direction::Prev)).await.map_err(failed)?;
    Ok(rows.into_iter().next().map(|(_, row)| row))
}

/// The newest tracked position of `name` (the last key of its range in `tracking`).
pub(crate) async fn newest_position(tracking: &Store, name: &str, hints: &Hints) -> Result<Option<JsValue>> {
    let failed = |e| storage("reading a tracked position", e);
    let positions = |from: u64| -> Result<KeyRange> {
        let name = JsValue::from_str(name);
        KeyRange::bound(&pair(name.clone(), number(from)?), &pair(name, number(MAX_SAFE)?), None, None).map_err(|e| failed(e.into()))
    };
    let hint = hints.positions.borrow().get(name).copied();
    if let Some(position) = hint {
        if let Some(key) = tracking.get_all_keys(Some(positions(position)?), None).await.map_err(failed)?.pop() {
            return Ok(Some(key));
        }
    }
    let rows = tracking.scan(Some(positions(0)?), Some(1), None, Some(Direction::Prev)).await.map_err(failed)?;
    Ok(rows.into_iter().next().map(|(key, _)| key))
}

/// Whether nothing moved since `heads` were seen: no id after `last_new`, and
/// each head still stored (an append of the next versions then cannot gap).
pub(crate) async fn unmoved(events: &Store, index: &StoreIndex, last_new: u64, heads: &[Option<StoredEvent>]) -> Result<bool> {
    let failed = |e| storage("confirming an append", e);
    let later = events.get_all_keys(Some(from(last_new + 1)?), Some(1));
    let stored = heads.iter().flatten().map(|head| async move {
        let only = KeyRange::only(&pair(id(&head.originator_id), number(head.originator_version)?)).map_err(|e| failed(e.into()))?;
        Ok::<_, crate::Error>(index.count(Some(only)).await.map_err(failed)? == 1)
    });
    let (later, stored) = futures::future::join(later, futures::future::join_all(stored)).await;
    let mut all_stored = true;
    for one in stored {
        all_stored &= one?;
    }
    Ok(later.map_err(failed)?.is_empty() && all_stored)
}

/// Keys from `id` on.
fn from(id: u64) -> Result<KeyRange> {
    KeyRange::lower_bound(&number(id)?, None).map_err(|e| storage("making a key range", e.into()))
}

/// An aggregate's versions from `version` on.
fn versions(originator_id: &Uuid, version: u64) -> Result<KeyRange> {
    KeyRange::bound(&pair(id(originator_id), number(version)?), &pair(id(originator_id), number(MAX_SAFE)?), None, None)
        .map_err(|e| storage("making a key range", e.into()))
}
