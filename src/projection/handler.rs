//! What a projection is: a [`Handler`] that turns one event at a time into
//! row changes, staged in [`Staged`] until the runner commits the batch.

use async_trait::async_trait;

use super::runner::Notified;
use super::staged::Staged;
use crate::error::Result;

/// Handles the events of a view's topics, one at a time. An error stops the
/// view before this event: its changes are taken back, the batch's earlier
/// events are committed.
#[async_trait(?Send)]
pub trait Handler {
    /// Called once per batch before its events are handled, so that a handler
    /// living across a boundary (JavaScript) can take the whole batch in one crossing.
    fn batch(&self, _events: &[Notified], _view: &Staged) -> Result<()> {
        Ok(())
    }

    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()>;
}
