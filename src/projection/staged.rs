//! A batch's row changes, staged over the committed rows until the runner
//! commits them. The one place where a projection reads and changes rows: Rust
//! handlers and the JavaScript boundary's view writer both go through it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::persistence::{Notification, RowChanges, ViewRecorder};

/// What a runner knows of a view as committed (its position, and rows as they
/// are), kept across batches (share it between runners made for the same view).
/// The runner drops it whenever a commit finds the view moved; callers drop it
/// ([`clear`](Self::clear)) when another runner may have committed the view since.
#[derive(Clone, Default)]
pub struct RowCache(Rc<RefCell<Known>>);

#[derive(Default)]
struct Known {
    /// `Some(position)` once known (`Some(None)`: no position yet).
    position: Option<Option<u64>>,
    rows: HashMap<String, Option<Value>>,
    /// The batch after a position, read ahead: `(position, (notifications, head))`.
    ahead: Option<(u64, (Vec<Notification>, u64))>,
    /// This runner's definition has built the view, or found it its own, since
    /// the cache was made: kept when the rest is forgotten.
    built: bool,
}

impl RowCache {
    /// A row as known (`Some(None)`: known absent).
    pub(crate) fn get(&self, key: &str) -> Option<Option<Value>> {
        self.0.borrow().rows.get(key).cloned()
    }

    /// Knows a row as it is stored (`None`: absent).
    pub(crate) fn set_row(&self, key: &str, value: Option<Value>) {
        self.0.borrow_mut().rows.insert(key.to_owned(), value);
    }

    pub fn clear(&self) {
        let mut known = self.0.borrow_mut();
        *known = Known { built: known.built, ..Known::default() };
    }

    /// Whether this runner's definition has built the view (see [`Known::built`]).
    pub(crate) fn built(&self) -> bool {
        self.0.borrow().built
    }

    pub(crate) fn set_built(&self) {
        self.0.borrow_mut().built = true;
    }

    /// The view's position, if known.
    pub(crate) fn position(&self) -> Option<Option<u64>> {
        self.0.borrow().position
    }

    pub(crate) fn set_position(&self, position: Option<u64>) {
        self.0.borrow_mut().position = Some(position);
    }

    /// The batch read ahead after `position`, if that is the one kept (taken: used once).
    pub(crate) fn take_ahead(&self, position: u64) -> Option<(Vec<Notification>, u64)> {
        let mut known = self.0.borrow_mut();
        known.ahead.take().filter(|(after, _)| *after == position).map(|(_, read)| read)
    }

    /// Keeps the batch read after `position`, while the view is known to be there.
    pub(crate) fn keep_ahead(&self, position: u64, read: (Vec<Notification>, u64)) {
        let mut known = self.0.borrow_mut();
        if known.position == Some(Some(position)) {
            known.ahead = Some((position, read));
        }
    }

    /// Keeps what a committed batch read and wrote, and where it left the view.
    pub(crate) fn keep(&self, staged: &Staged, position: u64) {
        let batch = staged.inner.borrow();
        let mut known = self.0.borrow_mut();
        known.position = Some(Some(position));
        known.rows.extend(batch.read.iter().map(|(k, v)| (k.clone(), v.clone())));
        known.rows.extend(batch.changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// The changes of one batch, and what the current event changed (to undo it).
#[derive(Default)]
struct Batch {
    changes: RowChanges,
    read: HashMap<String, Option<Value>>,
    undo: Vec<(String, Option<Option<Value>>)>,
}

/// A view as the batch has left it so far. Cloning shares it: the batch loop
/// and a handler (or the JavaScript writer) see the same changes.
#[derive(Clone)]
pub struct Staged {
    recorder: Rc<dyn ViewRecorder>,
    view: Rc<str>,
    cache: RowCache,
    /// The view has no position, so no rows (they are only ever written with
    /// one): a row not staged is absent, without asking storage.
    empty: bool,
    inner: Rc<RefCell<Batch>>,
}

impl Staged {
    pub(crate) fn new(recorder: Rc<dyn ViewRecorder>, view: &str, cache: RowCache, empty: bool) -> Self {
        Staged { recorder, view: view.into(), cache, empty, inner: Rc::default() }
    }

    /// The view's name.
    pub fn view(&self) -> &str {
        &self.view
    }

    /// The row as this batch has left it so far.
    pub async fn get(&self, key: &str) -> Result<Option<Value>> {
        if let Some(row) = self.known(key) {
            return Ok(row);
        }
        let row = self.recorder.get_row(&self.view, key).await?;
        self.inner.borrow_mut().read.insert(key.to_owned(), row.clone());
        Ok(row)
    }

    /// The row, if it is known without reading storage (changed or read in
    /// this batch, or kept from earlier ones): `Some(None)` when known absent.
    pub fn known(&self, key: &str) -> Option<Option<Value>> {
        let mut batch = self.inner.borrow_mut();
        if let Some(row) = batch.changes.get(key).or_else(|| batch.read.get(key)) {
            return Some(row.clone());
        }
        let row = if self.empty { None } else { self.cache.get(key)? };
        batch.read.insert(key.to_owned(), row.clone());
        Some(row)
    }

    /// Puts a row (replacing it). Keys starting with [`PRIVATE`](crate::persistence::PRIVATE)
    /// are the projection's own lookups: readable by key, never listed or indexed.
    pub fn put(&self, key: impl Into<String>, value: Value) {
        self.change(key.into(), Some(value));
    }

    pub fn delete(&self, key: impl Into<String>) {
        self.change(key.into(), None);
    }

    fn change(&self, key: String, row: Option<Value>) {
        let mut batch = self.inner.borrow_mut();
        let previous = batch.changes.insert(key.clone(), row);
        batch.undo.push((key, previous));
    }

    /// Starts an event: its changes can be taken back until the next one starts.
    pub fn begin_event(&self) {
        self.inner.borrow_mut().undo.clear();
    }

    /// Takes back the current event's changes, newest first.
    pub fn roll_back_event(&self) {
        let mut batch = self.inner.borrow_mut();
        while let Some((key, previous)) = batch.undo.pop() {
            match previous {
                Some(change) => batch.changes.insert(key, change),
                None => batch.changes.remove(&key),
            };
        }
    }

    /// The batch's changes so far.
    pub(crate) fn changes(&self) -> RowChanges {
        self.inner.borrow().changes.clone()
    }
}

/// Checks a row key a caller outside the core gave: a string that is not private.
pub fn check_public_key(key: &str) -> Result<()> {
    if crate::persistence::is_private(key) {
        return Err(Error::invalid(format!("row key {key:?} starts with \\u0000, which is reserved for a projection's own lookups")));
    }
    Ok(())
}
