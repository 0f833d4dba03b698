//! The projection runner: follows the log from a view's tracked position, a
//! batch at a time, committing each batch's row changes with its tracking
//! record (compare-and-set on the position). A crash between batches loses
//! nothing and repeats nothing: the next step resumes after the last commit.

use std::rc::Rc;

use super::handler::Handler;
use super::staged::{RowCache, Staged};
use crate::application::Application;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::persistence::{is_private, poll, Notification, NotificationQuery, Tracking, ViewDefinition, ViewRecorder, CLEARED};

/// An event with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Notified {
    pub notification_id: u64,
    pub event: DomainEvent,
}

/// Where processing stopped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub notification_id: u64,
    pub error: Error,
}

/// The outcome of one step of a runner (of a view, or of a follower).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    /// The position after the step: the last notification processed.
    pub position: u64,
    /// The log's newest notification id when the step began.
    pub head: u64,
    /// Events applied by this step.
    pub applied: usize,
    /// Row keys this step changed (never private ones).
    pub changed: Vec<String>,
    /// Set when processing failed at an event: the position stays before it.
    pub failed: Option<Failure>,
}

impl Step {
    pub fn caught_up(&self) -> bool {
        self.position >= self.head
    }
}

/// Runs one handler into one view.
pub struct ProjectionRunner {
    app: Application,
    views: Rc<dyn ViewRecorder>,
    definition: ViewDefinition,
    handler: Rc<dyn Handler>,
    batch_size: usize,
    cache: RowCache,
}

/// Events per batch (and per transaction) by default.
pub const DEFAULT_BATCH_SIZE: usize = 2_000;

/// The private row of a view that says what built it: its topics and indexes.
const BUILT_BY: &str = "\u{0}built by";

impl ProjectionRunner {
    pub fn new(app: Application, views: Rc<dyn ViewRecorder>, definition: ViewDefinition, handler: Rc<dyn Handler>) -> Self {
        ProjectionRunner { app, views, definition, handler, batch_size: DEFAULT_BATCH_SIZE, cache: RowCache::default() }
    }

    /// Shares `cache` with earlier runners of the same view (a runner made per step).
    pub fn with_cache(mut self, cache: RowCache) -> Self {
        self.cache = cache;
        self
    }

    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn definition(&self) -> &ViewDefinition {
        &self.definition
    }

    /// Replaces the handler (after a fix); the view resumes from its position.
    pub fn set_handler(&mut self, handler: Rc<dyn Handler>) {
        self.handler = handler;
        self.cache.clear();
    }

    /// Forgets the rows kept from earlier batches. Call it when another runner
    /// may have committed the view since (a lock was let go and taken again).
    pub fn forget(&self) {
        self.cache.clear();
    }

    /// The id of the last notification the view has processed by this
    /// definition (0: none, or the view was built by another, to be built again).
    pub async fn position(&self) -> Result<u64> {
        let name = &self.definition.name;
        // Both read to the end (as in `join`, unlike `try_join`): a read dropped
        // while its request is out leaves IndexedDB calling dropped callbacks.
        let (built_by, position) = futures::future::join(self.views.get_row(name, BUILT_BY), self.views.max_tracking_id(name)).await;
        let (built_by, position) = (built_by?, position?);
        Ok(if built_by.is_some_and(|stored| stored != self.definition.built_by()) { 0 } else { position.unwrap_or(0) })
    }

    /// Resolves once the view has processed `notification_id` (by this
    /// definition), whoever runs it; [`Error::Timeout`] after `timeout_ms`.
    pub async fn wait(&self, notification_id: u64, timeout_ms: u64) -> Result<()> {
        self.wait_while(notification_id, timeout_ms, || true).await
    }

    /// [`wait`](Self::wait), ending at once (with `Ok`) when `wanted` says
    /// nobody waits for it any more, rather than reading on to the timeout.
    pub async fn wait_while(&self, notification_id: u64, timeout_ms: u64, wanted: impl Fn() -> bool) -> Result<()> {
        let what = || format!("{:?} to reach notification {notification_id}", self.definition.name);
        poll(timeout_ms, what, || async { Ok(!wanted() || self.position().await? >= notification_id) }).await
    }

    /// Processes the next batch after the view's position.
    pub async fn step(&self) -> Result<Step> {
        let from = match self.cache.position() {
            Some(known) => known,
            None => self.start().await?,
        };
        let position = from.unwrap_or(0);
        let (notifications, head) = match self.cache.take_ahead(position) {
            Some(read) if self.still_true(&read).await? => read,
            _ => self.app.notifications_with_head(&self.batch_after(position)).await?,
        };
        if head <= position {
            return Ok(Step { position, head, ..Step::default() });
        }
        // A short batch holds every wanted event up to `head`: the view has then
        // considered the log up to `head`, even if the last wanted event is older.
        let full = notifications.len() == self.batch_size;
        let end = if full { notifications.last().map_or(head, |n| n.id) } else { head };
        if end >= head {
            return self.process(from, head, end, &notifications).await;
        }
        // More follow: the next batch is read while this one is handled and
        // committed (a read of the log, in a transaction of its own), and kept
        // for the next step if this one moved the view to `end`.
        let (next, step) =
            futures::future::join(self.app.notifications_with_head(&self.batch_after(end)), self.process(from, head, end, &notifications))
                .await;
        if let (Ok(step), Ok(next)) = (&step, next) {
            if step.failed.is_none() && step.position == end {
                self.cache.keep_ahead(end, next);
            }
        }
        step
    }

    /// The position a session starts from. A view built by other topics or
    /// indexes (its definition changed between sessions) is dropped first, to
    /// be built again: its rows, and their index entries, are not this
    /// definition's. (One built before views said what built them is trusted.)
    /// But if this definition built it and another rebuilt it since (a tab
    /// still running the code of before), the newer one keeps it: this runner
    /// fails, rather than the two rebuilding it in turn.
    async fn start(&self) -> Result<Option<u64>> {
        let name = &self.definition.name;
        let built_by = self.views.get_row(name, BUILT_BY).await?;
        let wanted = self.definition.built_by();
        let position = match &built_by {
            Some(stored) if *stored != wanted && self.cache.built() => {
                return Err(Error::Storage(format!(
                    "view {name:?} was built again by other topics or indexes ({stored}) since this page defined it as {wanted}: \
                     another tab runs other code; reload this page"
                )))
            }
            Some(stored) if *stored != wanted => {
                self.views.clear_view(name).await?;
                self.cache.set_row(BUILT_BY, None);
                None
            }
            _ => {
                if built_by.is_some() {
                    self.cache.set_built(); // this definition's build: if another takes it over, this runner stops
                }
                self.cache.set_row(BUILT_BY, built_by.clone());
                let (cleared, position) = futures::future::join(self.views.get_row(name, CLEARED), self.views.max_tracking_id(name)).await;
                let (cleared, position) = (cleared?, position?);
                self.cache.set_row(CLEARED, cleared);
                position
            }
        };
        self.cache.set_position(position);
        Ok(position)
    }

    /// Whether a batch read ahead is still what a read now would give. One
    /// that is not the log's last (full, with newer events) is: the step that
    /// uses it does not end the catch-up, the next reads again. The last one
    /// is only while the log's head has not moved since: else a step would
    /// report the view caught up at the old head, and a runner woken by the
    /// newer events would go back to sleep before them.
    async fn still_true(&self, (notifications, head): &(Vec<Notification>, u64)) -> Result<bool> {
        let last = notifications.len() < self.batch_size || notifications.last().is_none_or(|n| n.id >= *head);
        Ok(!last || self.app.max_notification_id().await? == *head)
    }

    /// The query of the batch after `position`.
    fn batch_after(&self, position: u64) -> NotificationQuery {
        NotificationQuery { start: position + 1, limit: self.batch_size, stop: None, topics: self.definition.topics.clone() }
    }

    /// Handles a batch read after `from` and commits it, moving the view to `end`
    /// (or to just before the event that failed).
    async fn process(&self, from: Option<u64>, head: u64, end: u64, notifications: &[Notification]) -> Result<Step> {
        let position = from.unwrap_or(0);
        let mut events = Vec::with_capacity(notifications.len());
        let mut failed = None;
        for notification in notifications {
            match self.app.mapper().to_domain_event(&notification.stored_event()) {
                Ok(event) => events.push(Notified { notification_id: notification.id, event }),
                Err(error) => {
                    failed = Some(Failure { notification_id: notification.id, error });
                    break;
                }
            }
        }
        let staged = Staged::new(self.views.clone(), &self.definition.name, self.cache.clone(), from.is_none());
        let applied = match self.handler.handle_all(&events, &staged).await {
            Some((index, error)) if index < events.len() => {
                failed = Some(Failure { notification_id: events[index].notification_id, error });
                index
            }
            Some((_, error)) => {
                return Err(Error::invalid(format!("a handler of view {:?} failed outside its batch: {error}", self.definition.name)))
            }
            None => events.len(),
        };
        let reached = match (&failed, applied) {
            (None, _) => end,
            (Some(_), 0) => position,
            (Some(_), n) => events[n - 1].notification_id,
        };
        let mut changes = staged.changes();
        if reached > position {
            let tracking = Tracking { application_name: self.definition.name.clone(), notification_id: reached };
            // Said with every build's first commit, and whenever the view does not say it yet.
            let built_by = Some(self.definition.built_by());
            if from.is_none() || self.cache.get(BUILT_BY).is_none_or(|known| known != built_by) {
                changes.insert(BUILT_BY.to_owned(), built_by.clone());
            }
            // The clear it started after, if any: a clear since makes this commit stale.
            changes.insert(CLEARED.to_owned(), self.cache.get(CLEARED).flatten());
            match self.views.commit_view(&self.definition, &changes, from, &tracking).await {
                Ok(()) => {
                    self.cache.keep(&staged, reached);
                    self.cache.set_row(BUILT_BY, built_by);
                    self.cache.set_built();
                }
                Err(Error::Stale { .. }) => {
                    // Another runner moved the view on first: nothing of ours was written.
                    self.cache.clear();
                    return Ok(Step { position: self.position().await?, head, ..Step::default() });
                }
                Err(error) => {
                    self.cache.clear();
                    return Err(error);
                }
            }
        }
        let changed = changes.into_keys().filter(|key| !is_private(key)).collect();
        Ok(Step { position: reached, head, applied, changed, failed })
    }

    /// Steps until the view has processed the whole log as it was when called,
    /// reporting each step. A failure at an event is an error.
    pub async fn catch_up(&self, mut progress: impl FnMut(&Step)) -> Result<u64> {
        loop {
            let step = self.step().await?;
            progress(&step);
            if let Some(failure) = step.failed {
                return Err(failure.error);
            }
            if step.caught_up() {
                return Ok(step.position);
            }
        }
    }

    /// Drops the view's rows and position, then projects the whole log again.
    pub async fn rebuild(&self, progress: impl FnMut(&Step)) -> Result<u64> {
        self.clear().await?;
        self.catch_up(progress).await
    }

    /// Drops the view's rows and position (the first half of a rebuild).
    pub async fn clear(&self) -> Result<()> {
        self.cache.clear();
        self.views.clear_view(&self.definition.name).await
    }
}
