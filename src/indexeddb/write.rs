//! One readwrite transaction's writes: every row is added as a request at once
//! (nothing else is awaited inside the transaction), and the first row the
//! browser refuses is named in the error. A refused row aborts the whole
//! transaction, so nothing of it is written.

use futures::future::join_all;
use js_sys::{Array, Promise};
use rexie::{Store, Transaction};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbDatabase;

use super::failure::{dom_error, storage, thrown};
use crate::error::{Error, Result};
use crate::persistence::{StoredEvent, Tracking};

#[wasm_bindgen(module = "/src/indexeddb/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = appendAtOnce)]
    fn append_at_once_js(db: &IdbDatabase, events: &Array, counted: &JsValue, count: &JsValue) -> Promise;
}

/// Adds `events` and the row that counts the next removal (`counted`, keyed
/// `count`), deletes that row again, and commits at once, not waiting for the
/// requests' answers: for an append whose every precondition is a key the
/// browser checks (see [`removal_row`](super::newest::removal_row)). One crossing
/// into JavaScript and back. `Ok(false)`: the browser refused a row, and
/// nothing was written.
pub(crate) async fn append_at_once(db: &IdbDatabase, events: &Array, counted: &JsValue, count: &JsValue) -> Result<bool> {
    let committed = JsFuture::from(append_at_once_js(db, events, counted, count)).await;
    committed.map(|outcome| outcome.is_truthy()).map_err(|e| thrown("appending", e))
}

/// What a row is, to say which one the browser refused.
pub(crate) enum Row<'a> {
    Event(&'a StoredEvent),
    Snapshot(&'a StoredEvent),
    Tracking(&'a Tracking),
    View(&'a str),
}

/// One write of a transaction.
pub(crate) enum Write {
    Add(JsValue),
    Put(JsValue),
    Delete(JsValue),
}

impl Row<'_> {
    /// Roughly what the row takes in storage, in bytes.
    fn size(&self) -> usize {
        match self {
            Row::Event(e) | Row::Snapshot(e) => e.state.len() + e.topic.len() + 64,
            Row::Tracking(t) => t.application_name.len() + 16,
            Row::View(key) => key.len() + 256,
        }
    }
}

/// How to make a transaction's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every request at once, awaiting only the last of each store: fast, but a
    /// refused row cannot be named. Run again in `Diagnose` mode when refused.
    Fast,
    /// A handler on every request, to name the row the browser refuses.
    Diagnose,
}

/// Adds every row to its store and waits for the transaction to commit.
pub(crate) async fn add_all(transaction: Transaction, rows: Vec<(&Store, JsValue, Row<'_>)>) -> Result<()> {
    let rows = rows.into_iter().map(|(store, value, row)| (store, Write::Add(value), row)).collect();
    write_all(transaction, rows, Mode::Diagnose).await.map(drop)
}

/// Makes every write and waits for the transaction to commit. `Ok(false)`: in
/// `Fast` mode, a request was refused and nothing was written; run again in
/// `Diagnose` mode (events are never deleted, so it is refused again, by name).
pub(crate) async fn write_all(transaction: Transaction, rows: Vec<(&Store, Write, Row<'_>)>, mode: Mode) -> Result<bool> {
    if mode == Mode::Fast {
        if !issue_all(&rows).await {
            return Ok(false);
        }
        return committed(transaction, &rows).await.map(|()| true);
    }
    let requests = rows.iter().map(|(store, write, _)| async move {
        match write {
            Write::Add(value) => store.add(value, None).await.map(drop),
            Write::Put(value) => store.put(value, None).await.map(drop),
            Write::Delete(key) => store.delete(key.clone()).await,
        }
    });
    let outcomes = join_all(requests).await;
    if let Some((error, (_, _, row))) = outcomes.into_iter().zip(&rows).find_map(|(outcome, row)| outcome.err().map(|e| (e, row))) {
        return Err(refused(row, error));
    }
    committed(transaction, &rows).await.map(|()| true)
}

/// Like [`write_all`] in `Fast` mode, with reads made alongside that must
/// confirm what the writes assumed (issued first, they see the data as it was
/// before the writes). `Ok(false)`: refused, or not confirmed (the transaction
/// is then aborted): nothing was written.
pub(crate) async fn write_confirmed(
    transaction: Transaction,
    rows: Vec<(&Store, Write, Row<'_>)>,
    confirm: impl std::future::Future<Output = Result<bool>>,
) -> Result<bool> {
    let (confirmed, issued) = futures::future::join(confirm, issue_all(&rows)).await;
    if !issued {
        return Ok(false);
    }
    if !matches!(confirmed, Ok(true)) {
        transaction.abort().await.map_err(|e| storage("aborting a transaction", e))?;
        return confirmed.map(|_| false);
    }
    committed(transaction, &rows).await.map(|()| true)
}

/// Issues every write at once; awaits only the last request of each store and
/// kind (a refused request aborts the transaction, failing those too).
async fn issue_all(rows: &[(&Store, Write, Row<'_>)]) -> bool {
    let mut groups: Vec<(&Store, u8, Vec<JsValue>)> = Vec::new();
    for (store, write, _) in rows {
        let (kind, value) = match write {
            Write::Add(value) => (0, value),
            Write::Put(value) => (1, value),
            Write::Delete(key) => (2, key),
        };
        match groups.iter_mut().find(|(s, k, _)| std::ptr::eq(*s, *store) && *k == kind) {
            Some((_, _, values)) => values.push(value.clone()),
            None => groups.push((store, kind, vec![value.clone()])),
        }
    }
    let writes = groups.into_iter().map(|(store, kind, values)| async move {
        match kind {
            0 => store.add_all(values.into_iter().map(|v| (v, None))).await,
            1 => store.put_all(values.into_iter().map(|v| (v, None))).await,
            _ => join_all(values.into_iter().map(|key| store.delete(key))).await.into_iter().collect(),
        }
    });
    join_all(writes).await.iter().all(|outcome| outcome.is_ok())
}

/// Waits for the commit; an abort without a refused request is reported as such.
/// Commits at once (every request has its answer: nothing is left to wait for).
async fn committed(transaction: Transaction, rows: &[(&Store, Write, Row<'_>)]) -> Result<()> {
    match transaction.commit().await {
        Ok(()) => Ok(()),
        Err(rexie::Error::TransactioncommitFailed) => Err(aborted(rows.iter().map(|(_, _, row)| row.size()).sum()).await),
        Err(error) => Err(storage("committing a transaction", error)),
    }
}

/// A commit the browser aborted without a failed request. rexie does not expose
/// the transaction's own error, so ask the storage manager whether the write
/// could have fitted: the usual cause is the quota.
async fn aborted(bytes: usize) -> Error {
    let nothing = "nothing was written";
    match estimate().await {
        Some((usage, quota)) if usage + bytes as f64 >= quota => Error::Storage(format!(
            "the browser's storage quota is exceeded: this write needs about {} kB and {} of {} kB are used; {nothing}. Free space, or ask for persistent storage (navigator.storage.persist())",
            bytes / 1024,
            (usage / 1024.0) as u64,
            (quota / 1024.0) as u64
        )),
        _ => Error::Storage(format!(
            "the browser aborted the transaction without giving a reason (most often the storage quota is exceeded); {nothing}"
        )),
    }
}

/// `navigator.storage.estimate()` as (usage, quota) in bytes, in a page or a worker.
async fn estimate() -> Option<(f64, f64)> {
    let get = |target: &JsValue, key: &str| js_sys::Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined());
    let storage = get(&get(&js_sys::global(), "navigator")?, "storage")?;
    let estimate: js_sys::Function = get(&storage, "estimate")?.dyn_into().ok()?;
    let promise: js_sys::Promise = estimate.call0(&storage).ok()?.dyn_into().ok()?;
    let result = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    Some((get(&result, "usage")?.as_f64()?, get(&result, "quota")?.as_f64()?))
}

/// A `ConstraintError` on a row is a conflict (or a duplicate tracking record).
fn refused(row: &Row<'_>, error: rexie::Error) -> Error {
    let Some((name, message)) = dom_error(&error).filter(|(name, _)| name == "ConstraintError") else {
        return storage("writing", error);
    };
    let detail = format!("{name}: {message}");
    match row {
        Row::Event(e) | Row::Snapshot(e) => {
            Error::Conflict { originator_id: e.originator_id, originator_version: e.originator_version, detail }
        }
        Row::Tracking(t) => Error::DuplicateTracking { application_name: t.application_name.clone(), notification_id: t.notification_id },
        Row::View(_) => storage("writing a view", error),
    }
}
