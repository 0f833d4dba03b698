//! Reading many stored rows in one crossing: a small JavaScript function packs
//! a page of `getAll` rows into columns (all state bytes in one buffer, numbers
//! in one array, each distinct id or topic once), where reading them field by
//! field would cross into JavaScript five times a row.

use js_sys::{Array, Float64Array, Uint32Array, Uint8Array};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::codec::MAX_SAFE;
use crate::error::{Error, Result};
use crate::persistence::{Notification, StoredEvent};

#[wasm_bindgen(module = "/src/indexeddb/glue.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn columns(rows: &Array) -> std::result::Result<Array, JsValue>;
}

/// Rows of `events` or `snapshots`, with their notification ids (0 for snapshots).
pub(crate) fn read_rows(rows: &[JsValue]) -> Result<Vec<(u64, StoredEvent)>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let packed = columns(&rows.iter().collect())
        .map_err(|id| Error::corrupt(format!("IndexedDB row {}: its state is not bytes", id.as_string().unwrap_or_default())))?;
    let states = packed.get(0).unchecked_into::<Uint8Array>().to_vec();
    let numbers = packed.get(1).unchecked_into::<Float64Array>().to_vec();
    let refs = packed.get(2).unchecked_into::<Uint32Array>().to_vec();
    let table: Vec<Option<String>> = packed.get(3).unchecked_into::<Array>().iter().map(|v| v.as_string()).collect();
    let text = |at: u32, what: &str| -> Result<&str> {
        table
            .get(at as usize)
            .and_then(Option::as_deref)
            .ok_or_else(|| Error::corrupt(format!("an IndexedDB row's {what} is not a string")))
    };
    let mut ids: Vec<Option<Uuid>> = vec![None; table.len()];
    let mut out = Vec::with_capacity(rows.len());
    let mut start = 0;
    for (numbers, refs) in numbers.chunks_exact(3).zip(refs.chunks_exact(2)) {
        let end = numbers[0] as usize;
        let originator_id = match ids[refs[0] as usize] {
            Some(id) => id,
            None => {
                let written = text(refs[0], "originator_id")?;
                let id = written.parse().map_err(|_| Error::corrupt(format!("IndexedDB row: originator_id {written:?} is not a UUID")))?;
                ids[refs[0] as usize] = Some(id);
                id
            }
        };
        let corrupt = |why: &str| Error::corrupt(format!("IndexedDB row {originator_id}: {why}"));
        let version = whole(numbers[1]).ok_or_else(|| corrupt("originator_version is not a whole number"))?;
        let event = StoredEvent {
            originator_id,
            originator_version: version,
            topic: text(refs[1], "topic")?.to_owned(),
            state: states.get(start..end).ok_or_else(|| corrupt("state bytes out of place"))?.to_vec(),
        };
        start = end;
        out.push((whole(numbers[2]).unwrap_or(0), event));
    }
    Ok(out)
}

/// Rows of `events` as notifications.
pub(crate) fn read_notifications(rows: &[JsValue]) -> Result<Vec<Notification>> {
    read_rows(rows)?
        .into_iter()
        .map(|(id, event)| match id {
            0 => Err(Error::corrupt(format!("IndexedDB row {}: its notification id is not a whole number from 1", event.originator_id))),
            id => Ok(Notification::new(id, event)),
        })
        .collect()
}

fn whole(n: f64) -> Option<u64> {
    (n.fract() == 0.0 && (0.0..=MAX_SAFE as f64).contains(&n)).then_some(n as u64)
}
