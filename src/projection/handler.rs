//! Projections written one event at a time: a [`Handler`] reads and changes
//! rows through [`Staged`], which holds a batch's changes until the runner
//! commits them, and lets later events of the batch read them.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use super::runner::{Notified, Projected, Projection, ViewRows};
use crate::error::Result;
use crate::persistence::RowChanges;

/// Handles one event of a view's topics.
#[async_trait(?Send)]
pub trait Handler {
    async fn handle(&self, event: &Notified, view: &mut Staged<'_, '_>) -> Result<()>;
}

/// A batch's row changes over the committed rows.
pub struct Staged<'a, 'b> {
    rows: &'a ViewRows<'b>,
    changes: RowChanges,
    read: HashMap<String, Option<Value>>,
    /// What the current event overwrote, to undo it if the handler fails.
    undo: Vec<(String, Option<Option<Value>>)>,
}

impl Staged<'_, '_> {
    /// The row as this batch has left it so far.
    pub async fn get(&mut self, key: &str) -> Result<Option<Value>> {
        if let Some(change) = self.changes.get(key) {
            return Ok(change.clone());
        }
        if let Some(read) = self.read.get(key) {
            return Ok(read.clone());
        }
        let row = self.rows.get(key).await?;
        self.read.insert(key.to_owned(), row.clone());
        Ok(row)
    }

    pub fn put(&mut self, key: impl Into<String>, value: Value) {
        self.change(key.into(), Some(value));
    }

    pub fn delete(&mut self, key: impl Into<String>) {
        self.change(key.into(), None);
    }

    fn change(&mut self, key: String, row: Option<Value>) {
        let previous = self.changes.insert(key.clone(), row);
        self.undo.push((key, previous));
    }

    /// Takes back the current event's changes, newest first.
    fn roll_back(&mut self) {
        while let Some((key, previous)) = self.undo.pop() {
            match previous {
                Some(change) => self.changes.insert(key, change),
                None => self.changes.remove(&key),
            };
        }
    }
}

#[async_trait(?Send)]
impl<H: Handler> Projection for H {
    async fn project(&self, events: &[Notified], view: &ViewRows<'_>) -> Projected {
        let mut staged = Staged { rows: view, changes: RowChanges::new(), read: HashMap::new(), undo: Vec::new() };
        for (index, event) in events.iter().enumerate() {
            staged.undo.clear();
            if let Err(error) = self.handle(event, &mut staged).await {
                staged.roll_back();
                return Projected { changes: staged.changes, failed: Some((index, error)) };
            }
        }
        Projected { changes: staged.changes, failed: None }
    }
}
