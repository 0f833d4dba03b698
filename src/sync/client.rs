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
mod push;

use super::conflict::Kept;
use super::http::{Http, Method, Request};
use super::limits::{BATCH, MAX_PAGE};
use super::protocol::{malformed, read_notifications, WaitReply};
use super::state::State;
use crate::application::Application;
use crate::error::{Error, Result};
use crate::persistence::{Notification, NotificationQuery, Removal, RowChanges, SyncRecorder, SyncWrite, Tracking, ViewDefinition};

/// How often a server with no `wait` route is asked for news.
pub const POLL_MS: u64 = 1_000;

/// What a pulled page said of the rest of the log: a full page, or one the
/// server cut short for its size, may leave more.
struct Page {
    received: usize,
    more: bool,
}

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

/// A push the server refused: another client took these versions first.
const REFUSED_ROUNDS: usize = 8;
/// How many times a pulled batch is decided again when a save made meanwhile refuses its write.
const PULL_ATTEMPTS: usize = 3;

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
    /// again when the server refuses some for conflicts), then pulls what came meanwhile.
    pub async fn round(&self, progress: &mut dyn FnMut(Progress)) -> Result<Progress> {
        self.rebase_held().await?;
        let mut total = self.pull_all(progress).await?;
        if self.options.push {
            let mut refused = 0;
            loop {
                match self.push_all(progress).await {
                    Ok(pushed) => {
                        total.pushed += pushed;
                        break;
                    }
                    Err(Error::Conflict { .. }) if refused < REFUSED_ROUNDS => {
                        refused += 1;
                        let pulled = self.pull_all(progress).await?;
                        total.pulled += pulled.pulled;
                        total.conflicts += pulled.conflicts;
                    }
                    Err(error) => return Err(error),
                }
            }
            let after = self.pull_all(progress).await?;
            total.pulled += after.pulled;
            total.conflicts += after.conflicts;
        }
        total.position = self.position().await?;
        Ok(total)
    }

    async fn pull_all(&self, progress: &mut dyn FnMut(Progress)) -> Result<Progress> {
        let mut total = Progress::default();
        loop {
            let (step, page) = self.pull_batch().await?;
            total.pulled += step.pulled;
            total.conflicts += step.conflicts;
            total.position = step.position;
            if page.received > 0 {
                progress(step);
            }
            if page.received < self.options.batch && !page.more {
                return Ok(total);
            }
        }
    }

    async fn push_all(&self, progress: &mut dyn FnMut(Progress)) -> Result<u64> {
        let mut pushed = 0;
        loop {
            let step = self.push().await?;
            if step.pushed == 0 {
                return Ok(pushed);
            }
            pushed += step.pushed;
            progress(step);
        }
    }

    /// Pulls one batch of the server's notifications into the local log.
    pub async fn pull(&self) -> Result<Progress> {
        Ok(self.pull_batch().await?.0)
    }

    /// One batch, and what the server's page said of the rest.
    async fn pull_batch(&self) -> Result<(Progress, Page)> {
        let position = self.position().await?;
        let url = format!("{}/notifications?start={}&limit={}", self.options.url, position + 1, self.options.batch);
        let response = self.send(Method::Get, url, None, "pulling").await?;
        let more = response.more;
        let body = response.ok("pulling")?;
        let notifications = read_notifications(&body, position + 1, self.options.batch)?;
        let page = Page { received: notifications.len(), more };
        let Some(last) = notifications.last().map(|n| n.id) else { return Ok((Progress { position, ..Progress::default() }, page)) };
        // State this application cannot read (another cipher key, or none) is refused before anything is written.
        for notification in &notifications {
            self.app.mapper().readable(&notification.stored_event())?;
        }
        // A save made meanwhile on an aggregate losing events refuses the write
        // (a conflict): what is pending is read again, and the batch decided again.
        let mut attempt = 1;
        let (pulled, kept) = loop {
            match self.record_pulled(&notifications, last).await {
                Err(Error::Conflict { .. }) if attempt < PULL_ATTEMPTS => attempt += 1,
                // Recorded meanwhile by another runner (tabs without Web Locks sync at once): read on from there.
                Err(Error::DuplicateTracking { .. }) => return Ok((Progress { position: self.position().await?, ..Progress::default() }, page)),
                // Still taken: a position the server served before, or saves racing every attempt.
                // Not a conflict to resolve: the next round sees it.
                Err(Error::Conflict { originator_id, originator_version, .. }) => {
                    return Err(Error::Sync(format!(
                        "pulling: {originator_id} v{originator_version} is in the local log already (recorded meanwhile, or served before by the server); nothing of the page was written"
                    )))
                }
                written => break written?,
            }
        };
        let progress = Progress { pulled, conflicts: kept.len() as u64, position: last, ..Progress::default() };
        if !kept.is_empty() {
            self.rebase_held().await?;
        }
        Ok((progress, page))
    }

    /// Records a pulled batch with the server position it reaches, in one
    /// write: each notification is this client's own coming back, a pending
    /// event whose acknowledgement was lost, the server's winning over local
    /// ones (kept aside as a conflict), or new. How many were new, and the conflicts.
    async fn record_pulled(&self, notifications: &[Notification], last: u64) -> Result<(u64, Vec<Kept>)> {
        let mut state = self.state().await?;
        let mut pending = self.pending(&mut state).await?;
        let mut pulled = Vec::new();
        let mut removed = Vec::new();
        let mut kept = Vec::new();
        for notification in notifications {
            let (id, version) = (notification.originator_id, notification.originator_version);
            if state.returning.remove(notification.id).is_some() {
                continue; // this client's own event, already in the log
            }
            match pending.get(&(id, version)) {
                Some(local) if local.topic == notification.topic && local.state == notification.state => {
                    state.settled.insert((id, version)); // ours, whose acknowledgement was lost
                    pending.remove(&(id, version));
                    continue;
                }
                Some(_) => {
                    // The server's event wins; the local ones from that version on are kept aside.
                    let mut lost: Vec<Notification> =
                        pending.values().filter(|n| n.originator_id == id && n.originator_version >= version).cloned().collect();
                    lost.sort_by_key(|n| n.originator_version);
                    for n in &lost {
                        pending.remove(&(id, n.originator_version));
                        removed.push(Removal { notification_id: n.id, originator_id: id, originator_version: n.originator_version });
                    }
                    kept.push(Kept::new(id, &lost.iter().map(Notification::stored_event).collect::<Vec<_>>()));
                }
                None => {}
            }
            // On the server already: never to be pushed.
            state.settled.insert((id, version));
            pulled.push(notification.stored_event());
        }
        state.returning.retain(|server_id| server_id > last);
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

    /// How many local events wait to be pushed.
    pub async fn pending_count(&self) -> Result<u64> {
        let mut state = self.state().await?;
        Ok(self.pending(&mut state).await?.len() as u64)
    }

    /// Waits (on the server, bounded) until its log has more than `after`; its newest id.
    /// A server with no `wait` route (a Python one) is polled instead.
    pub async fn wait_for_server(&self, after: u64, timeout_ms: u64) -> Result<u64> {
        let url = format!("{}/wait?after={after}&timeout_ms={timeout_ms}", self.options.url);
        let response = self.send(Method::Get, url, None, "waiting for the server").await?;
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
            let body = self.send(Method::Get, url, None, "polling the server").await?.ok("polling the server")?;
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

    async fn send(&self, method: Method, url: String, body: Option<Vec<u8>>, doing: &str) -> Result<super::http::Response> {
        let request = Request { method, url, token: self.options.token.clone(), body };
        self.http.send(request).await.map_err(|why| Error::Sync(format!("{doing}: {why}")))
    }
}
