//! The ports every storage adapter implements, after the Python library's
//! recorders. Async and `?Send` (browser futures are not `Send`); each call is one
//! storage transaction, so a call either happens whole or not at all.

use std::rc::Rc;

use async_trait::async_trait;
use uuid::Uuid;

use serde_json::Value;

use super::record::{EventQuery, Notification, StoredEvent, Tracking};
use super::rows::{Row, RowChanges, RowQuery, ViewDefinition};
use crate::error::{Error, Result};

/// Keeps aggregates' stored events, unique by `(originator_id, originator_version)`.
#[async_trait(?Send)]
pub trait AggregateRecorder {
    /// Inserts a batch atomically. A taken position anywhere in the batch fails
    /// it whole with [`Error::Conflict`]. Returns the notification ids given to
    /// the events, in order; empty where the recorder keeps no log (snapshots).
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<Vec<u64>>;

    /// One aggregate's events, as the query says.
    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>>;
}

/// Which notifications to select: ids from `start`, at most `limit`, none past
/// `stop`, and only these topics when `topics` is not empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationQuery {
    pub start: u64,
    pub limit: usize,
    pub stop: Option<u64>,
    pub topics: Vec<String>,
}

impl NotificationQuery {
    pub fn new(start: u64, limit: usize) -> Self {
        NotificationQuery { start, limit, ..Self::default() }
    }

    /// Whether a notification passes the filters (not counting `limit`).
    pub fn matches(&self, notification: &Notification) -> bool {
        notification.id >= self.start
            && self.stop.is_none_or(|stop| notification.id <= stop)
            && (self.topics.is_empty() || self.topics.contains(&notification.topic))
    }
}

/// What one atomic write holds: events, the snapshots taken at their versions,
/// and the tracking record of the upstream notification that caused them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recording<'a> {
    pub events: &'a [StoredEvent],
    pub snapshots: &'a [StoredEvent],
    pub tracking: Option<&'a Tracking>,
}

/// Makes the events to insert from the aggregates' newest stored events.
pub type Prepare<'a> = &'a mut dyn FnMut(&[Option<StoredEvent>]) -> Result<Vec<StoredEvent>>;

/// An aggregate recorder whose every event also gets the next notification id:
/// 1, 2, 3 ... in commit order, the application's log. It keeps the snapshots
/// and tracking records beside the events, so that one transaction can write all three.
#[async_trait(?Send)]
pub trait ApplicationRecorder: AggregateRecorder + TrackingRecorder {
    /// Writes a recording in one transaction: everything, or on any error
    /// (a taken position, a duplicate tracking record) nothing. Returns the
    /// events' notification ids.
    async fn record(&self, recording: Recording<'_>) -> Result<Vec<u64>>;

    /// Reads the newest event of each of `aggregates` (`None` for one with no
    /// events), then inserts the events `prepare` makes of them: in ONE
    /// transaction where the storage allows it, so that appenders queue instead
    /// of conflicting. This default reads, then records: a conflict is the
    /// caller's to retry. Returns the new events' notification ids.
    async fn append(&self, aggregates: &[Uuid], prepare: Prepare<'_>) -> Result<Vec<u64>> {
        let mut heads = Vec::with_capacity(aggregates.len());
        for id in aggregates {
            heads.push(self.select_events(*id, EventQuery::last(None)).await?.pop());
        }
        let events = prepare(&heads)?;
        self.record(Recording { events: &events, ..Recording::default() }).await
    }

    /// The snapshot store beside the events.
    fn snapshots(&self) -> Rc<dyn SnapshotRecorder>;

    async fn select_notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>>;

    /// The notifications a query selects, and the newest notification id when
    /// they were read (in one transaction where the storage allows): a reader
    /// then knows it has seen the whole log up to there. This default reads the
    /// head first and stops the query there.
    async fn select_notifications_with_head(&self, query: &NotificationQuery) -> Result<(Vec<Notification>, u64)> {
        let head = self.max_notification_id().await?.unwrap_or(0);
        let bounded = NotificationQuery { stop: Some(query.stop.map_or(head, |stop| stop.min(head))), ..query.clone() };
        Ok((self.select_notifications(&bounded).await?, head))
    }

    /// The id of the newest notification, `None` while the log is empty.
    async fn max_notification_id(&self) -> Result<Option<u64>>;
}

/// An aggregate recorder for snapshots, which, unlike events, may be pruned.
#[async_trait(?Send)]
pub trait SnapshotRecorder: AggregateRecorder {
    /// Deletes all but the newest `keep` snapshots of an aggregate; returns how many went.
    async fn prune(&self, originator_id: Uuid, keep: usize) -> Result<usize>;
}

/// Remembers how far downstream applications have processed upstream logs.
/// Positions only move forward (as the Python library's single-row tracking):
/// an adapter need keep only the newest per name.
#[async_trait(?Send)]
pub trait TrackingRecorder {
    /// Records a position; one at or below the newest recorded for that name is
    /// [`Error::DuplicateTracking`] (its effects exist: skip it).
    async fn insert_tracking(&self, tracking: &Tracking) -> Result<()>;

    /// The highest position recorded for an upstream application.
    async fn max_tracking_id(&self, application_name: &str) -> Result<Option<u64>>;

    /// Whether processing has reached `notification_id` (positions only grow).
    async fn has_tracking_id(&self, application_name: &str, notification_id: u64) -> Result<bool> {
        Ok(self.max_tracking_id(application_name).await?.is_some_and(|max| max >= notification_id))
    }

    /// Resolves once processing has reached `notification_id`, or fails with
    /// [`Error::Timeout`] after `timeout_ms`. Polls with a growing interval, so any
    /// adapter gets it, including ones written by other tabs or processes.
    async fn wait(&self, application_name: &str, notification_id: u64, timeout_ms: u64) -> Result<()> {
        self.wait_while(application_name, notification_id, timeout_ms, &|| true).await
    }

    /// [`wait`](Self::wait), ending at once (with `Ok`) when `wanted` says
    /// nobody waits for it any more, rather than reading on to the timeout.
    async fn wait_while(&self, application_name: &str, notification_id: u64, timeout_ms: u64, wanted: &dyn Fn() -> bool) -> Result<()> {
        let what = || format!("{application_name:?} to reach notification {notification_id}");
        poll(timeout_ms, what, || async { Ok(!wanted() || self.has_tracking_id(application_name, notification_id).await?) }).await
    }
}

/// Resolves once `reached` says so, asking with a growing interval (up to 50
/// ms), so that it sees what other tabs or processes write; [`Error::Timeout`]
/// (waiting for `what`) after `timeout_ms`.
pub async fn poll<F: std::future::Future<Output = Result<bool>>>(
    timeout_ms: u64,
    what: impl FnOnce() -> String,
    mut reached: impl FnMut() -> F,
) -> Result<()> {
    let mut waited = 0;
    let mut interval = 1;
    loop {
        if reached().await? {
            return Ok(());
        }
        if waited >= timeout_ms {
            return Err(Error::Timeout { waited_ms: waited, what: what() });
        }
        let step = interval.min(timeout_ms - waited);
        futures_timer::Delay::new(std::time::Duration::from_millis(step)).await;
        waited += step;
        interval = (interval * 2).min(50);
    }
}

/// Keeps views' rows beside the tracking records of how far each view has
/// processed the log. The tracking record of a view is keyed by its name. Rows
/// are only ever written with a position and cleared with it, so a view with no
/// position has no rows (a runner need not read any then).
#[async_trait(?Send)]
pub trait ViewRecorder: TrackingRecorder {
    /// Writes a view's row changes and its new position in one atomic step,
    /// only if the view is still at `from` (`None`: no position yet) and, when
    /// `changes` hold a [`CLEARED`](super::CLEARED) row, the view holds that
    /// same row (none, for `None`); otherwise [`Error::Stale`] and nothing is written.
    async fn commit_view(&self, view: &ViewDefinition, changes: &RowChanges, from: Option<u64>, tracking: &Tracking) -> Result<()>;

    /// One row, if there is one.
    async fn get_row(&self, view: &str, key: &str) -> Result<Option<Value>>;

    /// Rows in key order, or in index order when the query names an index.
    async fn query_rows(&self, view: &str, query: &RowQuery) -> Result<Vec<Row>>;

    /// Drops a view's rows and its tracking records, to rebuild it from the start.
    async fn clear_view(&self, view: &str) -> Result<()>;
}

/// A local event removed from the log by sync: a server's event took its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub notification_id: u64,
    pub originator_id: Uuid,
    pub originator_version: u64,
}

impl Removal {
    /// The error of a removal the log does not hold (no event there, or another one).
    pub fn absent(&self) -> Error {
        Error::invalid(format!(
            "notification {} is not {} v{}: nothing to remove",
            self.notification_id, self.originator_id, self.originator_version
        ))
    }

    /// Refuses removals that would leave a later version of their aggregate in
    /// the log (`newest`: its newest version there): an event saved on a lost
    /// one after sync read what was pending (in another tab, say) must go
    /// aside with it, not stay to be pushed on top of the server's.
    pub fn check_tails(removed: &[Removal], newest: impl Fn(&Uuid) -> Option<u64>) -> Result<()> {
        for removal in removed {
            let last = removed.iter().filter(|r| r.originator_id == removal.originator_id).map(|r| r.originator_version).max();
            match newest(&removal.originator_id) {
                Some(version) if Some(version) > last => {
                    return Err(Error::Conflict {
                        originator_id: removal.originator_id,
                        originator_version: version,
                        detail: format!("v{version} was saved after v{} was read as pending: read again", removal.originator_version),
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// One atomic change of the local log by sync.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncWrite<'a> {
    /// Events to append to the log (pulled from a server, or rebased).
    pub events: &'a [StoredEvent],
    /// Local events to remove, with their aggregates' snapshots from that version on.
    pub removed: &'a [Removal],
    /// The server position reached.
    pub tracking: Option<&'a Tracking>,
    /// Rows to write, by view: sync keeps its own state in a private one.
    pub rows: &'a [(&'a str, &'a RowChanges)],
    /// Views to clear (rows and position), to be rebuilt: they saw removed events.
    /// Each is left at position 0, not at none: a first batch read before the
    /// clear (from no position, perhaps of a removed event) is then stale.
    pub cleared: &'a [String],
}

/// The log as sync changes it: pulled events in, events lost to conflicts out,
/// and sync's own state, all at once.
#[async_trait(?Send)]
pub trait SyncRecorder: ApplicationRecorder + ViewRecorder {
    /// Writes all of it in one transaction, or nothing. Returns the appended
    /// events' notification ids: they follow every id ever given (a removed
    /// event's id is never given again, so no reader at a position misses one).
    async fn write_sync(&self, write: SyncWrite<'_>) -> Result<Vec<u64>>;
}
