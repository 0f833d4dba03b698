//! What the server needs of a recorder beyond the core's ports: recording a
//! group of pushes in one transaction (group commit). Pushes that arrive while
//! another group is being written wait and go together in the next one: one
//! lock, one commit and one fsync for all of them instead of one each.

use async_trait::async_trait;
use tributary::persistence::{ApplicationRecorder, StoredEvent, Tracking};
use tributary::Result;
use uuid::Uuid;

/// What a group finds in the database, with the log locked against other writers.
pub struct Found {
    /// The newest recorded position of each client, by the names asked for.
    pub tracked: Vec<Option<u64>>,
    /// The notification id of the event at each position asked for, if any.
    pub ids: Vec<Option<u64>>,
}

/// What a group then writes, in the same transaction: the pushes' own events,
/// borrowed (a group copies no event on its way to the database).
#[derive(Default)]
pub struct Write<'e> {
    /// Each client's new position (positions only move forward).
    pub tracking: Vec<Tracking>,
    /// New events, given notification ids in this order.
    pub events: Vec<&'e StoredEvent>,
}

/// A decision made under the lock: what to write, from what was found.
pub type Decide<'a, 'e> = &'a mut dyn FnMut(Found) -> Write<'e>;

#[async_trait(?Send)]
pub trait ServerRecorder: ApplicationRecorder {
    /// In one transaction holding the log's write lock: reads the positions
    /// of `names` and the ids of the events at `positions`, asks `decide` what
    /// to write, writes it and commits. Answers the new events' notification
    /// ids. A failure writes nothing. `firsts` holds the first position of
    /// each name's push: a recorder may first ask `decide` as if nothing were
    /// found, and write that if the database shows it so (every event new,
    /// every client before its push), which saves the reads' round trip.
    async fn record_pushes(&self, names: &[String], firsts: &[u64], positions: &[(Uuid, u64)], decide: Decide<'_, '_>) -> Result<Vec<u64>>;

    /// Lets go of what an idle thread need not hold (a database connection);
    /// taken again when next needed.
    fn rest(&self) {}

    /// Resolves once another thread waits for what this one holds (a place
    /// among the database's connections): an idle thread then rests at once.
    /// Never, unless a recorder's resources are shared so.
    async fn wanted(&self) {
        std::future::pending().await
    }
}
