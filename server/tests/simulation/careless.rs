//! A known bug to put back: a view store that commits a step whose view was
//! cleared meanwhile (by sync), so the rows of events sync took away stay.

use std::rc::Rc;

use async_trait::async_trait;
use serde_json::Value;
use tributary::persistence::{
    MemoryApplicationRecorder, Row, RowChanges, RowQuery, Tracking, TrackingRecorder, ViewDefinition, ViewRecorder, CLEARED,
};
use tributary::{Error, Result};

pub struct Careless(pub Rc<MemoryApplicationRecorder>);

#[async_trait(?Send)]
impl TrackingRecorder for Careless {
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()> {
        self.0.insert_tracking(tracking).await
    }

    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>> {
        self.0.max_tracking_id(application_name).await
    }
}

#[async_trait(?Send)]
impl ViewRecorder for Careless {
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()> {
        match self.0.commit_view(view, changes, from, tracking).await {
            // a clear came since the step began: commit it all the same, after the clear
            Err(Error::Stale { found, .. }) if found.unwrap_or(0) <= from.unwrap_or(0) => {
                let mut changes = changes.clone();
                changes.remove(CLEARED);
                self.0.commit_view(view, &changes, found, tracking).await
            }
            other => other,
        }
    }

    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>> {
        self.0.get_row(view, key).await
    }

    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>> {
        self.0.query_rows(view, query).await
    }

    async fn clear_view(&self, view: &str) -> Result<()> {
        self.0.clear_view(view).await
    }
}
