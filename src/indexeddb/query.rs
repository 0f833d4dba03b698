//! Reading an aggregate's rows by key range: `getAll` for oldest-first reads, a
//! cursor only for newest-first reads, stepped no further than their limit.

use rexie::{Direction, KeyRange, Store, StoreIndex};
use uuid::Uuid;
use wasm_bindgen::JsValue;

use super::codec::{id, number, pair, MAX_SAFE};
use super::failure::storage;
use crate::error::Result;
use crate::persistence::EventQuery;

/// Where an aggregate's rows are keyed by `[originator_id, originator_version]`.
pub(crate) enum Positions {
    Store(Store),
    Index(StoreIndex),
}

/// The range of one aggregate's versions in `(gt, lte]`; `None` when empty.
pub(crate) fn versions(originator_id: &Uuid, query: &EventQuery) -> Result<Option<KeyRange>> {
    let lower = query.gt.map_or(0, |gt| gt.saturating_add(1));
    let upper = query.lte.unwrap_or(MAX_SAFE).min(MAX_SAFE);
    if lower > upper {
        return Ok(None);
    }
    let range = KeyRange::bound(&pair(id(originator_id), number(lower)?), &pair(id(originator_id), number(upper)?), None, None)
        .map_err(|e| storage("making a key range", e.into()))?;
    Ok(Some(range))
}

/// A JS `getAll` count: at most `u32::MAX`.
pub(crate) fn count(limit: Option<usize>) -> Option<u32> {
    limit.map(|l| u32::try_from(l).unwrap_or(u32::MAX))
}

impl Positions {
    /// The rows of one aggregate that the query selects, in its order.
    pub(crate) async fn select(&self, originator_id: &Uuid, query: &EventQuery) -> Result<Vec<JsValue>> {
        let Some(range) = versions(originator_id, query)? else { return Ok(vec![]) };
        let failed = |e| storage("reading an aggregate's rows", e);
        if query.limit == Some(0) {
            return Ok(vec![]);
        }
        if query.desc && query.limit.is_some() {
            let rows = match self {
                Positions::Store(store) => store.scan(Some(range), count(query.limit), None, Some(Direction::Prev)).await,
                Positions::Index(index) => index.scan(Some(range), count(query.limit), None, Some(Direction::Prev)).await,
            };
            return Ok(rows.map_err(failed)?.into_iter().map(|(_, row)| row).collect());
        }
        let limit = if query.desc { None } else { count(query.limit) };
        let mut rows = match self {
            Positions::Store(store) => store.get_all(Some(range), limit).await,
            Positions::Index(index) => index.get_all(Some(range), limit).await,
        }
        .map_err(failed)?;
        if query.desc {
            rows.reverse();
        }
        Ok(rows)
    }
}
