//! Views in IndexedDB: the `rows` store, committed with the view's tracking
//! record in one readwrite transaction that first checks the view's position.

use async_trait::async_trait;
use js_sys::Array;
use rexie::{KeyRange, TransactionMode};
use serde_json::Value;
use wasm_bindgen::JsValue;

use super::codec::{number, pair, tracking_row, MAX_SAFE};
use super::failure::storage;
use super::recorder::{range, IndexedDbRecorder};
use super::schema::{ROWS, ROW_INDEX, TRACKING};
use super::write::{write_all, write_confirmed, Mode, Row as Written, Write};
use crate::error::{Error, Result};
use crate::persistence::{
    cleared_since, is_private, Bound, IndexKey, Row, RowChanges, RowQuery, Tracking, ViewDefinition, ViewRecorder, CLEARED,
};

#[async_trait(?Send)]
impl ViewRecorder for IndexedDbRecorder {
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
        tracking.validate_after(from)?;
        let committed = match self.commit_in(view, changes, from, tracking, Mode::Fast).await? {
            Committed::Refused => self.commit_in(view, changes, from, tracking, Mode::Diagnose).await?,
            other => other,
        };
        match committed {
            Committed::Yes => {
                self.hints().saw_position(&tracking.application_name, tracking.notification_id);
                Ok(())
            }
            Committed::Moved(found) => Err(Error::Stale { application_name: tracking.application_name.clone(), expected: from, found }),
            Committed::Refused => Err(Error::Storage("the browser refused a view's write".into())),
        }
    }

    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
        let transaction = self.connection().transaction(&[ROWS], TransactionMode::ReadOnly)?;
        let store = transaction.store(ROWS).map_err(|e| storage("reading a view", e))?;
        let found = store.get(pair(JsValue::from_str(view), JsValue::from_str(key))).await.map_err(|e| storage("reading a view", e))?;
        found.map(|row| read_value(&row)).transpose()
    }

    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
        let transaction = self.connection().transaction(&[ROWS], TransactionMode::ReadOnly)?;
        let store = transaction.store(ROWS).map_err(|e| storage("reading a view", e))?;
        // The browser reads a count of 0 as no limit at all.
        if query.limit == Some(0) {
            return Ok(Vec::new());
        }
        let limit = query.limit.map(|l| u32::try_from(l).unwrap_or(u32::MAX));
        let failed = |e| storage("reading a view", e);
        let found = match &query.index {
            None => {
                // Listed keys: "" (before the private ones), then those from "\u{1}" on.
                let empty = store.get(pair(JsValue::from_str(view), JsValue::from_str("")));
                let (empty, rest) = futures::future::join(empty, store.get_all(Some(listed(view)?), limit)).await;
                let mut found: Vec<JsValue> = empty.map_err(failed)?.into_iter().collect();
                found.extend(rest.map_err(failed)?);
                found.truncate(query.limit.unwrap_or(usize::MAX));
                found
            }
            Some(field) => {
                // A range no key is in is empty (the browser would refuse it).
                let Some((lower, upper)) = query.range() else { return Ok(Vec::new()) };
                let index = store.index(ROW_INDEX).map_err(failed)?;
                index.get_all(Some(index_range(view, field, lower, upper)?), limit).await.map_err(failed)?
            }
        };
        found.iter().map(|row| Ok(Row { key: read_key(row)?, value: read_value(row)? })).collect()
    }

    async fn clear_view(&self, view: &str) -> Result<()> {
        let transaction = self.connection().transaction(&[ROWS, TRACKING], TransactionMode::ReadWrite)?;
        let opened = |store| transaction.store(store).map_err(|e| storage("clearing a view", e));
        let (rows, tracked) = (opened(ROWS)?, opened(TRACKING)?);
        let name = JsValue::from_str(view);
        let positions = range(pair(name.clone(), number(1)?), pair(name, number(MAX_SAFE)?))?;
        let writes = vec![
            (&rows, Write::Delete(whole(view)?.into()), Written::View(view)),
            (&tracked, Write::Delete(positions.into()), Written::View(view)),
        ];
        write_all(transaction, writes, Mode::Diagnose).await.map(drop)
    }
}

/// How a view's commit went.
enum Committed {
    Yes,
    /// Another runner had moved the view to this position: nothing written.
    Moved(Option<u64>),
    /// The browser refused a write (in `Fast` mode: run again to name it).
    Refused,
}

impl IndexedDbRecorder {
    /// `commit_view`'s transaction: the rows, the new position, and the older
    /// positions deleted (a view needs only its newest), written at once with a
    /// read alongside that confirms the view was still at `from`.
    async fn commit_in(
        &self,
        view: &ViewDefinition,
        changes: &RowChanges,
        from: Option<u64>,
        tracking: &Tracking,
        mode: Mode,
    ) -> Result<Committed> {
        let transaction = self.connection().transaction(&[ROWS, TRACKING], TransactionMode::ReadWrite)?;
        let opened = |store| transaction.store(store).map_err(|e| storage("writing a view", e));
        let (rows, tracked) = (opened(ROWS)?, opened(TRACKING)?);
        let name = JsValue::from_str(&tracking.application_name);
        let positions = range(pair(name.clone(), number(0)?), pair(name.clone(), number(MAX_SAFE)?))?;
        let mut writes = Vec::with_capacity(changes.len() + 2);
        // The clear's row is what the view must hold, checked below, not a write:
        // in a fast commit the writes go before that read.
        for (key, change) in changes.iter().filter(|(key, _)| key.as_str() != CLEARED) {
            let write = match change {
                Some(value) => Write::Put(row(view, key, value)),
                None => Write::Delete(pair(JsValue::from_str(&view.name), JsValue::from_str(key))),
            };
            writes.push((&rows, write, Written::View(key)));
        }
        if let Some(from) = from {
            writes.push((
                &tracked,
                Write::Delete(range(pair(name.clone(), number(0)?), pair(name, number(from)?))?.into()),
                Written::View(view.name.as_str()),
            ));
        }
        writes.push((&tracked, Write::Add(tracking_row(tracking)?), Written::Tracking(tracking)));
        let found = std::cell::Cell::new(None);
        let at_from = async {
            let keys = tracked.get_all_keys(Some(positions), None).await.map_err(|e| storage("reading a view's position", e))?;
            let at = keys.last().map(super::codec::key_number).transpose()?;
            found.set(at);
            if at != from || !changes.contains_key(CLEARED) {
                return Ok(at == from);
            }
            let cleared = rows.get(pair(JsValue::from_str(&view.name), JsValue::from_str(CLEARED))).await;
            let cleared = cleared.map_err(|e| storage("reading a view's clear", e))?.map(|row| read_value(&row)).transpose()?;
            Ok(!cleared_since(changes, cleared.as_ref()))
        };
        if mode == Mode::Fast {
            return Ok(match write_confirmed(transaction, writes, at_from).await? {
                true => Committed::Yes,
                false if found.get() != from => Committed::Moved(found.get()),
                false => Committed::Refused,
            });
        }
        if !at_from.await? {
            return Ok(Committed::Moved(found.get()));
        }
        write_all(transaction, writes, mode).await.map(|_| Committed::Yes)
    }
}

/// A stored row: `{view, key, value (JSON text), idx: [[view, field, value], ...]}`.
pub(crate) fn row(view: &ViewDefinition, key: &str, value: &Value) -> JsValue {
    let idx = Array::new();
    for field in view.indexes.iter().filter(|_| !is_private(key)) {
        if let Some(index_key) = IndexKey::of(value, field) {
            idx.push(&Array::of3(&JsValue::from_str(&view.name), &JsValue::from_str(field), &key_value(&index_key)).into());
        }
    }
    let object = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&object, &JsValue::from_str(k), v).expect("setting a field of a fresh object");
    set("view", &JsValue::from_str(&view.name));
    set("key", &JsValue::from_str(key));
    set("value", &JsValue::from_str(&value.to_string()));
    set("idx", &idx.into());
    object.into()
}

fn key_value(key: &IndexKey) -> JsValue {
    match key {
        IndexKey::Number(n) => JsValue::from_f64(*n),
        IndexKey::Text(s) => JsValue::from_str(s),
    }
}

/// Every row of a view: keys `[view, ""]` up to `[view, []]` (arrays sort after strings).
pub(crate) fn whole(view: &str) -> Result<KeyRange> {
    let name = JsValue::from_str(view);
    range(pair(name.clone(), JsValue::from_str("")), pair(name, Array::new().into()))
}

/// The rows of a view that are listed, but for "": past the private keys ("\0...").
fn listed(view: &str) -> Result<KeyRange> {
    let name = JsValue::from_str(view);
    range(pair(name.clone(), JsValue::from_str("\u{1}")), pair(name, Array::new().into()))
}

/// The part of the row index for one view's field within a range (see [`RowQuery::range`]).
fn index_range(view: &str, field: &str, lower: Option<Bound>, upper: Option<Bound>) -> Result<KeyRange> {
    let entry = |value: JsValue| -> JsValue { Array::of3(&JsValue::from_str(view), &JsValue::from_str(field), &value).into() };
    let (lower, lower_open) = lower.map_or((JsValue::from_f64(f64::NEG_INFINITY), false), |(key, open)| (key_value(&key), open));
    let (upper, upper_open) = upper.map_or((Array::new().into(), false), |(key, open)| (key_value(&key), open));
    KeyRange::bound(&entry(lower), &entry(upper), Some(lower_open), Some(upper_open))
        .map_err(|_| Error::invalid(format!("the browser refused the range on {field:?}")))
}

fn read_key(row: &JsValue) -> Result<String> {
    js_sys::Reflect::get(row, &JsValue::from_str("key"))
        .ok()
        .and_then(|k| k.as_string())
        .ok_or_else(|| Error::corrupt("a view row has no key"))
}

fn read_value(row: &JsValue) -> Result<Value> {
    let text = js_sys::Reflect::get(row, &JsValue::from_str("value"))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| Error::corrupt("a view row has no value"))?;
    serde_json::from_str(&text).map_err(|e| Error::corrupt(format!("a view row is not JSON: {e}")))
}
