//! A batch's row changes, staged over the committed rows until the runner
//! commits them. The one place where a projection reads and changes rows: Rust
//! handlers and the JavaScript boundary's view writer both go through it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::persistence::{RowChanges, ViewRecorder};

/// Rows known to be committed as they are here, kept across batches of one
/// view (share it between runners made for the same view). The runner drops it
/// whenever a commit finds the view moved; callers drop it ([`clear`](Self::clear))
/// when another runner may have committed the view since.
#[derive(Clone, Default)]
pub struct RowCache(Rc<RefCell<HashMap<String, Option<Value>>>>);

impl RowCache {
    fn get(&self, key: &str) -> Option<Option<Value>> {
        self.0.borrow().get(key).cloned()
    }

    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }

    /// Keeps what a committed batch read and wrote.
    pub(crate) fn keep(&self, staged: &Staged) {
        let batch = staged.inner.borrow();
        let mut rows = self.0.borrow_mut();
        rows.extend(batch.read.iter().map(|(k, v)| (k.clone(), v.clone())));
        rows.extend(batch.changes.iter().map(|(k, v)| (k.clone(), v.clone())));
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
    inner: Rc<RefCell<Batch>>,
}

impl Staged {
    pub(crate) fn new(recorder: Rc<dyn ViewRecorder>, view: &str, cache: RowCache) -> Self {
        Staged { recorder, view: view.into(), cache, inner: Rc::default() }
    }

    /// The view's name.
    pub fn view(&self) -> &str {
        &self.view
    }

    /// The row as this batch has left it so far.
    pub async fn get(&self, key: &str) -> Result<Option<Value>> {
        {
            let batch = self.inner.borrow();
            if let Some(row) = batch.changes.get(key).or_else(|| batch.read.get(key)) {
                return Ok(row.clone());
            }
        }
        let row = match self.cache.get(key) {
            Some(row) => row,
            None => self.recorder.get_row(&self.view, key).await?,
        };
        self.inner.borrow_mut().read.insert(key.to_owned(), row.clone());
        Ok(row)
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
    pub(crate) fn begin_event(&self) {
        self.inner.borrow_mut().undo.clear();
    }

    /// Takes back the current event's changes, newest first.
    pub(crate) fn roll_back_event(&self) {
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
