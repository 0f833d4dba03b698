//! The newest notification id and each aggregate's newest event: what every
//! append needs. rexie's cursor scan always steps once more than asked, a round
//! trip to the browser's storage process per read. Ids and versions only grow
//! (but for sync's removals, counted below), so what this connection saw last
//! is a lower bound, and a `getAll` from there returns the newest in one request
//! (usually one row). Better still, when the connection saw the newest of
//! everything an append touches, the append is written at once, without a read:
//! see [`removal_row`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use rexie::{Direction, KeyRange, Store, StoreIndex};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::codec::{id, key_number, number, pair, tracked_row, MAX_SAFE};
use super::failure::storage;
use crate::error::Result;
use crate::persistence::StoredEvent;

/// How many aggregates' newest events a connection remembers...
const REMEMBERED: usize = 1_000;
/// ...and only those this small.
const SMALL: usize = 16 << 10;

/// The first part of the keys that count sync's removals in `tracking`: a
/// number where every tracked name is a string, so that no name meets it.
const REMOVALS: f64 = 0.0;

/// The key and the row of the `n`-th removal from the log, in `tracking`.
///
/// Without removals, an append made from what a connection saw needs no read:
/// if another connection wrote since, an id or a version it takes is taken,
/// and the browser refuses the row. A removal is the one change that could
/// make such an append wrong (a gap after a removed version), so each removal
/// adds its row, and the append adds and deletes the row of the next one: if
/// that removal happened, the add is refused too, and the append is made again
/// from what is read.
pub(crate) fn removal_row(n: u64) -> Result<(JsValue, JsValue)> {
    Ok((pair(JsValue::from_f64(REMOVALS), number(n)?), tracked_row(JsValue::from_f64(REMOVALS), n)?))
}

/// How many removals there have been (read in the transaction of `tracking`).
pub(crate) async fn count_of_removals(tracking: &Store, hints: &Hints) -> Result<u64> {
    let failed = |e| storage("reading the count of removals", e);
    let from = |n: u64| -> Result<KeyRange> {
        let (lower, upper) = (pair(JsValue::from_f64(REMOVALS), number(n)?), pair(JsValue::from_f64(REMOVALS), number(MAX_SAFE)?));
        KeyRange::bound(&lower, &upper, None, None).map_err(|e| failed(e.into()))
    };
    // The count seen is a lower bound: usually the newest, in one request.
    if let Some(seen) = hints.removals.get().filter(|n| *n > 0) {
        if let Some(key) = tracking.get_all_keys(Some(from(seen)?), None).await.map_err(failed)?.pop() {
            return key_number(&key);
        }
    }
    let rows = tracking.scan(Some(from(1)?), Some(1), None, Some(Direction::Prev)).await.map_err(failed)?;
    rows.first().map_or(Ok(0), |(key, _)| key_number(key))
}

/// What a connection saw last: the newest id and events, lower bounds of what is
/// stored while no removal happens, and how many removals there had been.
#[derive(Default)]
pub(crate) struct Hints {
    last_id: Cell<u64>,
    heads: RefCell<HashMap<Uuid, StoredEvent>>,
    /// Tracked positions, by the name they are tracked for.
    positions: RefCell<HashMap<String, u64>>,
    /// The removals counted when heads were last read (`None`: not yet read).
    removals: Cell<Option<u64>>,
}

impl Hints {
    /// Takes what a write transaction read (the newest id, the newest events
    /// of some aggregates, the removals so far) as it is. After a removal
    /// since the last such read, anything else seen may be stale: forgotten.
    pub(crate) fn read<'a>(&self, last_id: u64, heads: impl IntoIterator<Item = &'a StoredEvent>, removals: u64) {
        if self.removals.get() != Some(removals) {
            self.heads.borrow_mut().clear();
            self.last_id.set(last_id);
            self.removals.set(Some(removals));
        }
        self.saw(last_id, heads);
    }

    /// The removals counted now: a write's [`saw_under`](Self::saw_under) afterwards.
    pub(crate) fn counted(&self) -> Option<u64> {
        self.removals.get()
    }

    /// [`saw`](Self::saw), unless the count of removals changed since `counted`
    /// (another task read a newer one meanwhile): what a write made may since
    /// have been removed.
    pub(crate) fn saw_under<'a>(&self, counted: Option<u64>, last_id: u64, events: impl IntoIterator<Item = &'a StoredEvent>) {
        if self.removals.get() == counted {
            self.saw(last_id, events);
        }
    }

    /// Remembers the newest id and events known to exist (read, or written and committed).
    fn saw<'a>(&self, last_id: u64, events: impl IntoIterator<Item = &'a StoredEvent>) {
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

    /// The newest id, the newest event of each aggregate and the removals
    /// counted, if all were seen.
    pub(crate) fn all(&self, aggregates: &[Uuid]) -> Option<(u64, Vec<Option<StoredEvent>>, u64)> {
        let heads = self.heads.borrow();
        let (last, removals) = (self.last_id.get(), self.removals.get()?);
        let seen = aggregates.iter().map(|id| heads.get(id).cloned().map(Some)).collect::<Option<Vec<_>>>()?;
        (last > 0).then_some((last, seen, removals))
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

/// Keys from `id` on.
fn from(id: u64) -> Result<KeyRange> {
    KeyRange::lower_bound(&number(id)?, None).map_err(|e| storage("making a key range", e.into()))
}

/// An aggregate's versions from `version` on.
fn versions(originator_id: &Uuid, version: u64) -> Result<KeyRange> {
    KeyRange::bound(&pair(id(originator_id), number(version)?), &pair(id(originator_id), number(MAX_SAFE)?), None, None)
        .map_err(|e| storage("making a key range", e.into()))
}
