//! Process applications and systems: a follower application processes a
//! leader's log with a policy that records events of its own. Each upstream
//! notification's new events are saved with its tracking record, atomically,
//! so it is processed exactly once.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use async_trait::async_trait;

use crate::application::Application;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::persistence::{Notification, NotificationQuery, Tracking};
use crate::projection::{Failure, Notified, Step};
use crate::runtime::{Effect, Failure as RunFailure, Runner, Stepped, Then};

/// What a follower does about one of its leader's events: the new events it
/// records (of its own aggregates, which it may read through `follower`).
#[async_trait(?Send)]
pub trait Policy {
    async fn process(&self, event: &Notified, follower: &Application) -> Result<Vec<DomainEvent>>;
}

/// An application that follows other applications' logs.
#[derive(Clone)]
pub struct ProcessApplication {
    pub app: Application,
    policy: Rc<dyn Policy>,
    /// The leaders' topics it wants (all when empty).
    topics: Vec<String>,
}

impl ProcessApplication {
    pub fn new(app: Application, policy: Rc<dyn Policy>, topics: &[&str]) -> Self {
        ProcessApplication { app, policy, topics: topics.iter().map(|t| t.to_string()).collect() }
    }

    /// The id of the last of `leader`'s notifications processed here (0: none).
    pub async fn position(&self, leader: &str) -> Result<u64> {
        Ok(self.app.recorder().max_tracking_id(leader).await?.unwrap_or(0))
    }

    /// Processes up to `limit` of the leader's notifications after the tracked
    /// position, each one's new events saved with its tracking record. Stops at
    /// the first notification it cannot process (the step says where and why).
    pub async fn step(&self, leader: &Application, limit: usize) -> Result<Step> {
        let mut position = self.position(leader.name()).await?;
        let head = leader.max_notification_id().await?;
        if head <= position {
            return Ok(Step { position, head, ..Step::default() });
        }
        let query = NotificationQuery { start: position + 1, limit: limit.max(1), stop: Some(head), topics: self.topics.clone() };
        let notifications = leader.notifications(&query).await?;
        let short = notifications.len() < query.limit;
        let mut applied = 0;
        for notification in &notifications {
            let tracking = Tracking { application_name: leader.name().to_owned(), notification_id: notification.id };
            match self.process(leader, notification, &tracking).await {
                // Processed already (by another runner): its effects exist.
                Ok(()) | Err(Error::DuplicateTracking { .. }) => {}
                Err(error) if !self.processed_elsewhere(&error, leader.name(), notification.id).await? => {
                    let failed = Some(Failure { notification_id: notification.id, error });
                    return Ok(Step { position, head, applied, failed, ..Step::default() });
                }
                Err(_) => {}
            }
            position = notification.id;
            applied += 1;
        }
        // A short batch holds every wanted notification up to `head`: record
        // that the others were considered too, so that the position reaches it.
        if short && position < head {
            let tracking = Tracking { application_name: leader.name().to_owned(), notification_id: head };
            match self.app.save_tracked(&[], Some(&tracking)).await {
                Ok(_) | Err(Error::DuplicateTracking { .. }) => position = head,
                Err(error) => return Err(error),
            }
        }
        Ok(Step { position, head, applied, ..Step::default() })
    }

    /// Whether `error` is a conflict with what another runner recorded for the
    /// same notification meanwhile (tabs without Web Locks run at once): the
    /// policy read the follower before that runner's save, which also tracked it.
    async fn processed_elsewhere(&self, error: &Error, leader: &str, notification_id: u64) -> Result<bool> {
        Ok(matches!(error, Error::Conflict { .. }) && self.position(leader).await? >= notification_id)
    }

    /// One upstream notification: the policy's events, saved with its tracking record.
    async fn process(&self, leader: &Application, notification: &Notification, tracking: &Tracking) -> Result<()> {
        let event = leader.mapper().to_domain_event(&notification.stored_event())?;
        let notified = Notified { notification_id: notification.id, event };
        let new_events = self.policy.process(&notified, &self.app).await?;
        self.app.save_tracked(&new_events, Some(tracking)).await.map(drop)
    }
}

/// Applications wired as pipes of leaders and followers, run together.
pub struct System {
    apps: HashMap<String, Application>,
    followers: HashMap<String, ProcessApplication>,
    edges: Vec<(String, String)>,
}

/// Notifications a follower takes from a leader in one pull.
const PULL_SIZE: usize = 500;

impl System {
    /// Pipes like `[["DogSchool", "Counters"]]`: each pipe's applications, in
    /// order, lead the next. Name every application with [`System::leader`] or
    /// [`System::follower`] before running.
    pub fn new(pipes: &[&[&str]]) -> Self {
        let edges = pipes.iter().flat_map(|pipe| pipe.windows(2).map(|pair| (pair[0].to_owned(), pair[1].to_owned()))).collect();
        System { apps: HashMap::new(), followers: HashMap::new(), edges }
    }

    pub fn leader(mut self, app: Application) -> Self {
        self.apps.insert(app.name().to_owned(), app);
        self
    }

    pub fn follower(mut self, process: ProcessApplication) -> Self {
        self.apps.insert(process.app.name().to_owned(), process.app.clone());
        self.followers.insert(process.app.name().to_owned(), process);
        self
    }

    /// The application of this name.
    pub fn get(&self, name: &str) -> Result<&Application> {
        self.apps.get(name).ok_or_else(|| Error::invalid(format!("the system has no application {name:?}")))
    }

    /// Runs every pipe until every follower has caught up with its leader;
    /// returns how many notifications were processed. A failure is an error.
    /// Each pipe is driven by the runtime's [`Runner`] rules, as the browser's
    /// followers are: a follower that recorded events pokes its own followers.
    pub async fn run(&self) -> Result<usize> {
        let mut runners: Vec<Runner<Error>> = vec![Runner::default(); self.edges.len()];
        let mut due = VecDeque::new();
        for (pipe, runner) in runners.iter_mut().enumerate() {
            queue(&mut due, pipe, runner.poke())?;
        }
        let mut total = 0;
        while let Some(pipe) = due.pop_front() {
            let (leader, follower) = &self.edges[pipe];
            let process = self.followers.get(follower).ok_or_else(|| Error::invalid(format!("{follower:?} is not a follower")))?;
            if !runners[pipe].turn() {
                continue;
            }
            let generation = runners[pipe].began();
            loop {
                let step = process.step(self.get(leader)?, PULL_SIZE).await?;
                total += step.applied;
                if step.applied > 0 {
                    for next in (0..self.edges.len()).filter(|next| self.edges[*next].0 == *follower) {
                        queue(&mut due, next, runners[next].poke())?;
                    }
                }
                let failed = step.failed.map(|f| RunFailure { error: f.error, at: f.notification_id });
                let (then, effects) = runners[pipe].stepped(generation, Stepped { position: step.position, head: step.head, failed });
                queue(&mut due, pipe, effects)?;
                if then == Then::Done {
                    break;
                }
            }
        }
        Ok(total)
    }
}

/// Performs a runner's effects here: a turn is queued; a failure ends the run.
fn queue(due: &mut VecDeque<usize>, pipe: usize, effects: Vec<Effect<Error>>) -> Result<()> {
    for effect in effects {
        match effect {
            Effect::Queue => due.push_back(pipe),
            Effect::Failed(failure) => return Err(failure.error),
            Effect::Settle { .. } => {}
        }
    }
    Ok(())
}
