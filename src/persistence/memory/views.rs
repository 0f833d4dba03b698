//! Views in memory, beside the tracking records they commit with.

use async_trait::async_trait;
use serde_json::Value;

use super::{check_tracking, MemoryApplicationRecorder};
use crate::error::{Error, Result};
use crate::persistence::{
    cleared_since, is_private, text_order, IndexKey, Row, RowChanges, RowQuery, Tracking, ViewDefinition, ViewRecorder, CLEARED,
};

#[async_trait(?Send)]
impl ViewRecorder for MemoryApplicationRecorder {
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
        tracking.validate_after(from)?;
        let mut log = self.inner.borrow_mut();
        let found = log.tracking.get(&tracking.application_name).copied();
        if found != from || cleared_since(changes, log.views.get(&view.name).and_then(|rows| rows.get(CLEARED))) {
            return Err(Error::Stale { application_name: tracking.application_name.clone(), expected: from, found });
        }
        check_tracking(tracking, found.as_ref())?;
        log.tracking.insert(tracking.application_name.clone(), tracking.notification_id);
        let rows = log.views.entry(view.name.clone()).or_default();
        for (key, change) in changes {
            match change {
                Some(value) => rows.insert(key.clone(), value.clone()),
                None => rows.remove(key),
            };
        }
        Ok(())
    }

    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
        Ok(self.inner.borrow().views.get(view).and_then(|rows| rows.get(key)).cloned())
    }

    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
        let log = self.inner.borrow();
        let Some(rows) = log.views.get(view) else { return Ok(vec![]) };
        let all = rows.iter().filter(|(key, _)| !is_private(key)).map(|(key, value)| Row { key: key.clone(), value: value.clone() });
        let mut selected: Vec<Row> = match &query.index {
            None => {
                let mut rows: Vec<Row> = all.collect();
                rows.sort_by(|a, b| text_order(&a.key, &b.key));
                rows
            }
            Some(index) => {
                let mut keyed: Vec<(IndexKey, Row)> =
                    all.filter_map(|row| IndexKey::of(&row.value, index).filter(|k| query.contains(k)).map(|k| (k, row))).collect();
                keyed.sort_by(|(a, ra), (b, rb)| {
                    a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal).then_with(|| text_order(&ra.key, &rb.key))
                });
                keyed.into_iter().map(|(_, row)| row).collect()
            }
        };
        selected.truncate(query.limit.unwrap_or(usize::MAX));
        Ok(selected)
    }

    async fn clear_view(&self, view: &str) -> Result<()> {
        let mut log = self.inner.borrow_mut();
        log.views.remove(view);
        log.tracking.remove(view);
        Ok(())
    }
}
