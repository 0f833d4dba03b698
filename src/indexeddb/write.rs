//! One readwrite transaction's writes: every row is added as a request at once
//! (nothing else is awaited inside the transaction), and the first row the
//! browser refuses is named in the error. A refused row aborts the whole
//! transaction, so nothing of it is written.

use futures::future::join_all;
use rexie::{Store, Transaction};
use wasm_bindgen::JsValue;

use super::failure::{dom_error, storage};
use crate::error::{Error, Result};
use crate::persistence::{StoredEvent, Tracking};

/// What a row is, to say which one the browser refused.
pub(crate) enum Row<'a> {
    Event(&'a StoredEvent),
    Snapshot(&'a StoredEvent),
    Tracking(&'a Tracking),
}

/// Adds every row to its store and waits for the transaction to commit.
pub(crate) async fn add_all(transaction: Transaction, rows: Vec<(&Store, JsValue, Row<'_>)>) -> Result<()> {
    let requests = rows.iter().map(|(store, value, _)| store.add(value, None));
    let outcomes = join_all(requests).await;
    if let Some((error, (_, _, row))) = outcomes.into_iter().zip(&rows).find_map(|(outcome, row)| outcome.err().map(|e| (e, row))) {
        return Err(refused(row, error));
    }
    match transaction.done().await {
        Ok(result) if result.is_committed() => Ok(()),
        Ok(_) => Err(Error::Storage("the transaction was aborted by the browser; nothing was written".into())),
        Err(error) => Err(storage("committing a transaction", error)),
    }
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
    }
}
