//! What a projection is: a [`Handler`] that turns one event at a time into
//! row changes, staged in [`Staged`] until the runner commits the batch.

use async_trait::async_trait;

use super::runner::Notified;
use super::staged::Staged;
use crate::error::{Error, Result};

/// Handles the events of a view's topics, one at a time. An error stops the
/// view before this event: its changes are taken back, the batch's earlier
/// events are committed.
#[async_trait(?Send)]
pub trait Handler {
    async fn handle(&self, event: &Notified, view: &Staged) -> Result<()>;

    /// Handles a batch in order, stopping at the first event that fails (its
    /// index and error), whose changes are taken back. Override it only to
    /// cross a boundary once per batch (JavaScript), keeping this behaviour.
    async fn handle_all(&self, events: &[Notified], view: &Staged) -> Option<(usize, Error)> {
        for (index, event) in events.iter().enumerate() {
            view.begin_event();
            if let Err(error) = self.handle(event, view).await {
                view.roll_back_event();
                return Some((index, error));
            }
        }
        None
    }
}
