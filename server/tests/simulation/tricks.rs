//! The view each device keeps, and its handler.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use serde_json::json;
use tributary::projection::{Handler, Notified, Staged};

/// The view each device keeps: tricks per dog.
pub const VIEW: &str = "tricks";

/// Counts each dog's tricks, pausing once per event (as a handler that awaits
/// does), so that the scheduler can run a sync between a step's read and its commit.
pub struct Tricks;

#[async_trait(?Send)]
impl Handler for Tricks {
    async fn handle(&self, event: &Notified, view: &Staged) -> tributary::Result<()> {
        if event.event.name() != "TrickAdded" {
            return Ok(());
        }
        let key = event.event.originator_id.simple().to_string();
        let count = view.get(&key).await?.and_then(|row| row["tricks"].as_u64()).unwrap_or(0);
        Paused(false).await;
        view.put(key, json!({ "tricks": count + 1 }));
        Ok(())
    }
}

/// Pending once.
struct Paused(bool);

impl Future for Paused {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        Poll::Pending
    }
}
