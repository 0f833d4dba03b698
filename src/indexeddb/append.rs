//! The hot append: a save after the newest events this connection saw, made by
//! one JavaScript function over a connection of its own (rexie hides its own):
//! one crossing issues the confirming reads and the adds, commits once the
//! reads confirm (the adds need no answer first) or aborts, and settles one
//! promise. Through rexie the same transaction crossed some forty times and made
//! nine closures, which cost as much as the transaction's own work in the browser.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::failure::js_storage;
use crate::error::Result;
use web_sys::IdbDatabase;

#[wasm_bindgen(inline_js = "
export function openDatabase(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name);
    // The database was just opened at its version: it cannot need an upgrade (unless deleted since).
    request.onupgradeneeded = () => request.transaction.abort();
    // As rexie's does: another tab deleting or upgrading the database is not blocked.
    request.onsuccess = () => {
      request.result.onversionchange = () => request.result.close();
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
}
export function appendConfirmed(db, rows, last, heads) {
  return new Promise((resolve) => {
    let transaction;
    try {
      transaction = db.transaction('events', 'readwrite');
    } catch (error) {
      return resolve(['failed', error]);
    }
    let pending = 1 + heads.length, moved = false, refused = false, failed = null;
    transaction.oncomplete = () => resolve(['committed']);
    transaction.onabort = () => resolve(failed ? ['failed', failed] : refused ? ['refused'] : moved ? ['moved'] : ['aborted']);
    const read = (request, confirms) => {
      request.onsuccess = () => {
        moved ||= !confirms(request.result);
        if (--pending === 0) moved ? transaction.abort() : transaction.commit();
      };
      request.onerror = () => { failed = request.error; };
    };
    try {
      const events = transaction.objectStore('events');
      const position = events.index('position');
      // Reads first: they see the log as it was before the adds.
      read(events.getAllKeys(IDBKeyRange.lowerBound(last + 1), 1), (keys) => keys.length === 0);
      for (const head of heads) read(position.count(IDBKeyRange.only(head)), (count) => count === 1);
      for (const row of rows) events.add(row).onerror = () => { refused = true; };
    } catch (error) {
      refused = true;
      transaction.abort();
    }
  });
}")]
extern "C" {
    #[wasm_bindgen(js_name = openDatabase)]
    fn open_database(name: &str) -> Promise;
    #[wasm_bindgen(js_name = appendConfirmed)]
    fn append_confirmed(database: &JsValue, rows: &Array, last: f64, heads: &Array) -> Promise;
}

/// How an append went.
pub(crate) enum Appended {
    Committed,
    /// Not written: a row was refused, or the log moved. The full path judges.
    NotWritten,
    /// The browser aborted the commit without refusing a row (the quota, most often).
    Aborted,
}

/// A connection of our own to the database `name` (open already, at its version).
pub(crate) async fn open(name: &str) -> Result<IdbDatabase> {
    let database = JsFuture::from(open_database(name)).await.map_err(|e| js_storage(&format!("opening database {name:?}"), &e))?;
    Ok(database.unchecked_into())
}

/// Adds `rows` (events with ids up to `last`) to `events` if no id after `last`
/// is taken and each of `heads` (`[originator_id, version]` keys) is still stored.
pub(crate) async fn append(database: &JsValue, rows: &Array, last: u64, heads: &Array) -> Result<Appended> {
    let outcome: Array = JsFuture::from(append_confirmed(database, rows, last as f64, heads))
        .await
        .map_err(|e| js_storage("appending", &e))?
        .unchecked_into();
    match outcome.get(0).as_string().as_deref() {
        Some("committed") => Ok(Appended::Committed),
        Some("refused" | "moved") => Ok(Appended::NotWritten),
        Some("aborted") => Ok(Appended::Aborted),
        _ => Err(js_storage("appending", &outcome.get(1))),
    }
}
