//! The projection runner: follows the log from a view's tracked position, a
//! batch at a time, committing each batch's row changes with its tracking
//! record. A crash between batches loses nothing and repeats nothing: the next
//! step resumes after the last committed position.

use std::rc::Rc;

use async_trait::async_trait;

use crate::application::Application;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::persistence::{NotificationQuery, RowChanges, Tracking, ViewDefinition, ViewRecorder};

/// An event with its place in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Notified {
    pub notification_id: u64,
    pub event: DomainEvent,
}

/// What a projection made of a batch: the row changes of the events it
/// processed, and, if it stopped at one, that event's index and the error.
#[derive(Debug, Default)]
pub struct Projected {
    pub changes: RowChanges,
    pub failed: Option<(usize, Error)>,
}

/// Turns batches of events into row changes. `view` reads the committed rows
/// of the view being projected.
#[async_trait(?Send)]
pub trait Projection {
    async fn project(&self, events: &[Notified], view: &ViewRows<'_>) -> Projected;
}

/// Read access to a view's committed rows, for projections.
pub struct ViewRows<'a> {
    pub(crate) recorder: &'a dyn ViewRecorder,
    pub(crate) view: &'a str,
}

impl ViewRows<'_> {
    pub async fn get(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.recorder.get_row(self.view, key).await
    }
}

/// Where a projection stopped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub notification_id: u64,
    pub error: Error,
}

/// The outcome of one step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    /// The view's position after the step.
    pub position: u64,
    /// The log's newest notification id when the step began.
    pub head: u64,
    /// Events applied by this step.
    pub applied: usize,
    /// Row keys this step changed.
    pub changed: Vec<String>,
    /// Set when a handler failed: the view stays at the last good position.
    pub failed: Option<Failure>,
}

impl Step {
    pub fn caught_up(&self) -> bool {
        self.position >= self.head
    }
}

/// Runs one projection into one view.
pub struct ProjectionRunner {
    app: Application,
    views: Rc<dyn ViewRecorder>,
    definition: ViewDefinition,
    projection: Rc<dyn Projection>,
    batch_size: usize,
}

/// Events per batch (and per transaction) by default.
pub const DEFAULT_BATCH_SIZE: usize = 2_000;

impl ProjectionRunner {
    pub fn new(app: Application, views: Rc<dyn ViewRecorder>, definition: ViewDefinition, projection: Rc<dyn Projection>) -> Self {
        ProjectionRunner { app, views, definition, projection, batch_size: DEFAULT_BATCH_SIZE }
    }

    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn definition(&self) -> &ViewDefinition {
        &self.definition
    }

    /// The id of the last notification the view has processed (0: none).
    pub async fn position(&self) -> Result<u64> {
        Ok(self.views.max_tracking_id(&self.definition.name).await?.unwrap_or(0))
    }

    /// Processes the next batch after the view's position.
    pub async fn step(&self) -> Result<Step> {
        let from = self.views.max_tracking_id(&self.definition.name).await?;
        let position = from.unwrap_or(0);
        let head = self.app.max_notification_id().await?;
        if head <= position {
            return Ok(Step { position, head, ..Step::default() });
        }
        let query =
            NotificationQuery { start: position + 1, limit: self.batch_size, stop: Some(head), topics: self.definition.topics.clone() };
        let notifications = self.app.notifications(&query).await?;
        // A short batch holds every wanted event up to `head`: the view has then
        // considered the log up to `head`, even if the last wanted event is older.
        let end = if notifications.len() == self.batch_size { notifications.last().map_or(head, |n| n.id) } else { head };
        let mut events = Vec::with_capacity(notifications.len());
        let mut undecodable = None;
        for notification in &notifications {
            match self.app.mapper().to_domain_event(&notification.stored_event()) {
                Ok(event) => events.push(Notified { notification_id: notification.id, event }),
                Err(error) => {
                    undecodable = Some((events.len(), error));
                    break;
                }
            }
        }
        let rows = ViewRows { recorder: self.views.as_ref(), view: &self.definition.name };
        let mut projected = self.projection.project(&events, &rows).await;
        if projected.failed.is_none() {
            projected.failed = undecodable;
        }
        let (applied, reached) = match &projected.failed {
            None => (events.len(), end),
            Some((index, _)) => (*index, index.checked_sub(1).map_or(position, |last| events[last].notification_id)),
        };
        let changed: Vec<String> = projected.changes.keys().cloned().collect();
        if reached > position {
            let tracking = Tracking { application_name: self.definition.name.clone(), notification_id: reached };
            match self.views.commit_view(&self.definition, &projected.changes, from, &tracking).await {
                Ok(()) => {}
                // Another runner moved the view on first: nothing of ours was written.
                Err(Error::DuplicateTracking { .. }) => return Ok(Step { position: self.position().await?, head, ..Step::default() }),
                Err(error) => return Err(error),
            }
        }
        let failed = projected.failed.map(|(index, error)| Failure {
            notification_id: events.get(index).map_or(notifications[index].id, |e| e.notification_id),
            error,
        });
        Ok(Step { position: reached, head, applied, changed, failed })
    }

    /// Steps until the view has processed the whole log as it was when called,
    /// reporting (position, head) after each step. A handler failure is an error.
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
        self.views.clear_view(&self.definition.name).await?;
        self.catch_up(progress).await
    }
}
