//! The sync client: pulls a server's notifications into the local log and
//! pushes the local events the server does not have, exactly once each, over
//! the [`Http`] port. Everything a step learns is written in one transaction
//! with the position it reached (the [`SyncRecorder`] port), so a crash or a
//! lost reply at any point loses nothing and doubles nothing: the next step
//! starts from what was written.

use std::collections::HashMap;
use std::rc::Rc;

use uuid::Uuid;

mod conflicts;

use super::conflict::Kept;
use super::http::{Http, Method, Request, Response};
use super::limits::{BATCH, MAX_PAGE};
use super::protocol::{malformed, read_notifications, WaitReply};
use super::pull::{self, Refused, Sorted};
use super::push::Batch;
use super::round::{Next, Page, Round};
use super::state::State;
use crate::application::Application;
use crate::error::{Error, Result};
use crate::persistence::{Notification, NotificationQuery, Removal, RowChanges, SyncRecorder, SyncWrite, Tracking, ViewDefinition};

/// How often a server with no `wait` route is asked for news.
pub const POLL_MS: u64 = 1_000;

/// How a client syncs with one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// The base URL of one application on the server: `http://host:port/{tenant}/{app}`.
    pub url: String,
    pub token: Option<String>,
    /// `false` follows the server (pull only), as from a Python server.
    pub push: bool,
    /// Events per request.
    pub batch: usize,
    /// Resolve every conflict by rebasing, as it happens.
    pub rebase_conflicts: bool,
}

impl SyncOptions {
    pub fn new(url: impl Into<String>) -> Self {
        SyncOptions { url: url.into(), token: None, push: true, batch: BATCH, rebase_conflicts: false }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Events pulled into the local log (not counting this client's own).
    pub pulled: u64,
    /// Local events the server acknowledged.
    pub pushed: u64,
    /// Conflicts found.
    pub conflicts: u64,
    /// The server position reached.
    pub position: u64,
}

/// What the tracking names of sync clients' positions start with (then the server's URL).
pub const TRACKING_PREFIX: &str = "sync:";

pub struct SyncClient {
    app: Application,
    recorder: Rc<dyn SyncRecorder>,
    http: Rc<dyn Http>,
    options: SyncOptions,
    /// Views to clear when a conflict removes events they may have seen.
    views: Vec<ViewDefinition>,
}

impl SyncClient {
    pub fn new(app: Application, recorder: Rc<dyn SyncRecorder>, http: Rc<dyn Http>, mut options: SyncOptions) -> Result<Self> {
        let url = options.url.trim_end_matches('/');
        let parsed = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        if parsed.is_none_or(|rest| rest.is_empty() || rest.contains(['?', '#', ' '])) {
            return Err(Error::invalid(format!("sync url {:?} must be http(s)://host/tenant/app, without query or fragment", options.url)));
        }
        options.url = url.to_owned();
        // Sent in a header: fetch (and any HTTP client) refuses NUL, CR, LF and what is not Latin-1.
        if let Some(c) = options.token.as_deref().and_then(|t| t.chars().find(|c| matches!(c, '\0' | '\r' | '\n') || *c > '\u{ff}')) {
            return Err(Error::invalid(format!("the sync token holds {c:?}, which an HTTP header cannot carry")));
        }
        if options.batch == 0 || options.batch > MAX_PAGE {
            return Err(Error::invalid(format!("a sync batch holds 1 to {MAX_PAGE} events, not {}", options.batch)));
        }
        Ok(SyncClient { app, recorder, http, options, views: Vec::new() })
    }

    /// The views to clear (to be rebuilt) when a conflict removes events.
    pub fn set_views(&mut self, views: Vec<ViewDefinition>) {
        self.views = views;
    }

    pub fn options(&self) -> &SyncOptions {
        &self.options
    }

    /// The tracking name of the server's log in the local one.
    pub fn upstream(&self) -> String {
        format!("{TRACKING_PREFIX}{}", self.options.url)
    }

    fn private_view(&self) -> String {
        format!("\u{0}sync:{}", self.options.url)
    }

    /// The server position reached (its newest notification pulled).
    pub async fn position(&self) -> Result<u64> {
        Ok(self.recorder.max_tracking_id(&self.upstream()).await?.unwrap_or(0))
    }

    /// One round: pulls everything new, pushes every pending local event (pulling
    /// again when the server refuses some for conflicts), then pulls what came
    /// meanwhile. The [`Round`] decides each step; this performs it.
    pub async fn round(&self, progress: &mut dyn FnMut(Progress)) -> Result<Progress> {
        self.rebase_held().await?;
        let mut round = Round::new(self.options.push, self.options.batch);
        loop {
            match round.next() {
                Next::Pull => {
                    let (step, page) = self.pull_batch().await?;
                    if page.received > 0 {
                        progress(step);
                    }
                    round.pulled(step, page);
                }
                Next::Push => {
                    let step = self.push().await;
                    if let Some(step) = step.as_ref().ok().filter(|step| step.pushed > 0) {
                        progress(*step);
                    }
                    round.pushed(step)?;
                }
                Next::Done => return Ok(Progress { position: self.position().await?, ..round.total() }),
            }
        }
    }

    /// Pulls one batch of the server's notifications into the local log.
    pub async fn pull(&self) -> Result<Progress> {
        Ok(self.pull_batch().await?.0)
    }

    /// One batch, and what the server's page said of the rest.
    async fn pull_batch(&self) -> Result<(Progress, Page)> {
        let position = self.position().await?;
        let request = pull::request(&self.options.url, self.options.token.as_deref(), position, self.options.batch);
        let (notifications, page) = pull::read(self.send(request, "pulling").await?, position, self.options.batch)?;
        let Some(last) = notifications.last().map(|n| n.id) else { return Ok((Progress { position, ..Progress::default() }, page)) };
        // State this application cannot read (another cipher key, or none) is refused before anything is written.
        for notification in &notifications {
            self.app.mapper().readable(&notification.stored_event())?;
        }
        let mut attempt = 1;
        let (pulled, kept) = loop {
            match self.record_pulled(&notifications, last).await {
                Ok(written) => break written,
                Err(error) => match pull::refused(error, attempt) {
                    Refused::Again => attempt += 1,
                    Refused::ReadOn => return Ok((Progress { position: self.position().await?, ..Progress::default() }, page)),
                    Refused::Fail(error) => return Err(error),
                },
            }
        };
        let progress = Progress { pulled, conflicts: kept.len() as u64, position: last, ..Progress::default() };
        if !kept.is_empty() {
            self.rebase_held().await?;
        }
        Ok((progress, page))
    }

    /// Records a pulled batch with the server position it reaches, in one write,
    /// as [`pull::sort`] sorts it against what is pending now. How many were new, and the conflicts.
    async fn record_pulled(&self, notifications: &[Notification], last: u64) -> Result<(u64, Vec<Kept>)> {
        let mut state = self.state().await?;
        let pending = self.pending(&mut state).await?;
        let Sorted { pulled, removed, kept } = pull::sort(&mut state, pending, notifications, last);
        let cleared = self.views_seeing(&removed, &kept);
        let mut rows = RowChanges::new();
        rows.insert("state".into(), Some(state.row()?));
        for conflict in &kept {
            rows.insert(conflict.key(), Some(conflict.row()?));
        }
        let view = self.private_view();
        let tracking = Tracking { application_name: self.upstream(), notification_id: last };
        let write = SyncWrite { events: &pulled, removed: &removed, tracking: Some(&tracking), rows: &[(&view, &rows)], cleared: &cleared };
        self.recorder.write_sync(write).await?;
        Ok((pulled.len() as u64, kept))
    }

    /// Pushes one batch of pending local events (as [`Batch::plan`] makes it); a
    /// refusal for conflicts is [`Error::Conflict`] (nothing was written on the
    /// server: pull, then push again).
    pub async fn push(&self) -> Result<Progress> {
        let mut state = self.state().await?;
        // Read first: every local event up to it is in the pending read after, or settled, or gone.
        let head = self.app.max_notification_id().await?;
        let pending = self.pending_in_order(&mut state, self.options.batch + 1).await?;
        let Some(batch) = Batch::plan(state.client_id, &pending, head, self.options.batch) else {
            self.save_state(&state).await?;
            return Ok(Progress { position: self.position().await?, ..Progress::default() });
        };
        let request = batch.request(&self.options.url, self.options.token.as_deref())?;
        let ids = batch.acknowledged(self.send(request, "pushing").await?)?;
        let position = self.position().await?;
        let reached = batch.settle(&mut state, &ids, position);
        let tracking = reached.map(|id| Tracking { application_name: self.upstream(), notification_id: id });
        let mut rows = RowChanges::new();
        rows.insert("state".into(), Some(state.row()?));
        let write = SyncWrite { tracking: tracking.as_ref(), rows: &[(&self.private_view(), &rows)], ..SyncWrite::default() };
        self.recorder.write_sync(write).await?;
        Ok(Progress { pushed: batch.events.len() as u64, position: reached.unwrap_or(position), ..Progress::default() })
    }

    /// How many local events wait to be pushed.
    pub async fn pending_count(&self) -> Result<u64> {
        let mut state = self.state().await?;
        Ok(self.pending(&mut state).await?.len() as u64)
    }

    /// Waits (on the server, bounded) until its log has more than `after`; its newest id.
    /// A server with no `wait` route (a Python one) is polled instead.
    pub async fn wait_for_server(&self, after: u64, timeout_ms: u64) -> Result<u64> {
        let url = format!("{}/wait?after={after}&timeout_ms={timeout_ms}", self.options.url);
        let response = self.send(self.get(url), "waiting for the server").await?;
        if response.status == 404 {
            return self.poll_server(after, timeout_ms).await;
        }
        let reply: WaitReply =
            serde_json::from_slice(&response.ok("waiting for the server")?).map_err(|e| malformed(format!("the wait reply: {e}")))?;
        Ok(reply.max_notification_id)
    }

    /// Asks for the notification after `after` every [`POLL_MS`] until there is
    /// one or `timeout_ms` passed: the newest id known then (at least `after`).
    async fn poll_server(&self, after: u64, timeout_ms: u64) -> Result<u64> {
        let mut waited = 0;
        loop {
            let url = format!("{}/notifications?start={}&limit=1", self.options.url, after + 1);
            let body = self.send(self.get(url), "polling the server").await?.ok("polling the server")?;
            if let Some(next) = read_notifications(&body, after + 1, 1)?.first() {
                return Ok(next.id);
            }
            if waited >= timeout_ms {
                return Ok(after);
            }
            let step = POLL_MS.min(timeout_ms - waited);
            futures_timer::Delay::new(std::time::Duration::from_millis(step)).await;
            waited += step;
        }
    }

    /// The sync state, made (and kept) on first use: the client's id must be
    /// stored before anything is pushed under it.
    async fn state(&self) -> Result<State> {
        match self.recorder.get_row(&self.private_view(), "state").await? {
            Some(row) => State::read(row),
            None => {
                let state = State::new();
                self.save_state(&state).await?;
                Ok(state)
            }
        }
    }

    async fn save_state(&self, state: &State) -> Result<()> {
        let mut rows = RowChanges::new();
        rows.insert("state".into(), Some(state.row()?));
        self.recorder.write_sync(SyncWrite { rows: &[(&self.private_view(), &rows)], ..SyncWrite::default() }).await.map(drop)
    }

    /// Every pending local event by position; moves the watermark up to the first.
    async fn pending(&self, state: &mut State) -> Result<HashMap<(Uuid, u64), Notification>> {
        let pending = self.pending_in_order(state, usize::MAX).await?;
        Ok(pending.into_iter().map(|n| ((n.originator_id, n.originator_version), n)).collect())
    }

    /// Pending local events in log order, at most `limit`: those above the
    /// watermark not settled. The watermark moves up to just below the first.
    async fn pending_in_order(&self, state: &mut State, limit: usize) -> Result<Vec<Notification>> {
        const PAGE: usize = 2_000;
        let mut pending = Vec::new();
        let mut start = state.watermark + 1;
        let mut first_pending = None;
        loop {
            let page = self.recorder.select_notifications(&NotificationQuery::new(start, PAGE)).await?;
            for notification in &page {
                if state.settled.contains(&(notification.originator_id, notification.originator_version)) {
                    if first_pending.is_none() {
                        state.settled.remove(&(notification.originator_id, notification.originator_version));
                        state.watermark = notification.id;
                    }
                    continue;
                }
                first_pending.get_or_insert(notification.id);
                if pending.len() < limit {
                    pending.push(notification.clone());
                }
            }
            match page.last() {
                Some(last) if page.len() == PAGE && pending.len() < limit => start = last.id + 1,
                Some(last) if first_pending.is_none() => {
                    state.watermark = last.id;
                    break;
                }
                _ => break,
            }
        }
        Ok(pending)
    }

    /// The views that may have seen removed events: those of their topics, or of all.
    fn views_seeing(&self, removed: &[Removal], kept: &[Kept]) -> Vec<String> {
        if removed.is_empty() {
            return Vec::new();
        }
        let topics: Vec<String> = kept
            .iter()
            .flat_map(|k| k.lost.iter().map(|(topic, _, _)| topic.clone()))
            .map(|topic| self.app.registry().resolve(&topic).map(|r| r.topic.to_owned()).unwrap_or(topic))
            .collect();
        self.views.iter().filter(|v| v.topics.is_empty() || v.topics.iter().any(|t| topics.contains(t))).map(|v| v.name.clone()).collect()
    }

    async fn send(&self, request: Request, doing: &str) -> Result<Response> {
        self.http.send(request).await.map_err(|why| Error::Sync(format!("{doing}: {why}")))
    }

    fn get(&self, url: String) -> Request {
        Request { method: Method::Get, url, token: self.options.token.clone(), body: None }
    }
}
