//! The port for views: rows and their tracking position, written together.

use async_trait::async_trait;
use serde_json::Value;

use super::rows::{Row, RowChanges, RowQuery, ViewDefinition};
use crate::error::Result;
use crate::persistence::{Tracking, TrackingRecorder};

/// Keeps views' rows beside the tracking records of how far each view has
/// processed the log. The tracking record of a view is keyed by its name.
#[async_trait(?Send)]
pub trait ViewRecorder: TrackingRecorder {
    /// Writes a view's row changes and its new position in one atomic step,
    /// only if the view is still at `from` (`None`: no position yet); otherwise
    /// [`Error::DuplicateTracking`](crate::Error::DuplicateTracking) and nothing is written.
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()>;

    /// One row, if there is one.
    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>>;

    /// Rows in key order, or in index order when the query names an index.
    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>>;

    /// Drops a view's rows and its tracking records, to rebuild it from the start.
    async fn clear_view(&self, view: &str) -> Result<()>;
}
