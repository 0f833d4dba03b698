//! One run of the simulation: devices (each a log in memory and two tabs'
//! sync clients over it), the simulated network and the real server, all
//! moved by one seeded scheduler; then convergence, and the invariants.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use base64::{engine::general_purpose::STANDARD, Engine};
use fastrand::Rng;
use futures::executor::block_on;
use futures::task::noop_waker_ref;
use serde_json::{json, Value};
use tributary::persistence::{MemoryApplicationRecorder, NotificationQuery, RowQuery, ViewDefinition, ViewRecorder};
use tributary::projection::{ProjectionRunner, Step};
use tributary::sync::{Method, Progress, Request, Resolution, SyncClient, SyncOptions};
use tributary::{Application, NewEvent};
use uuid::Uuid;

use super::careless::Careless;
pub use super::counts::Counts;
use super::net::{InFlight, Link, Net};
use super::server::{InProcess, BASE, TOKEN};
use super::tricks::{Tricks, VIEW};
use crate::dog::Dog;

/// A known bug the scheduler can put back, to show the invariants find it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bug {
    None,
    /// The server answers a push, then loses it (acknowledged before its commit was durable).
    AckBeforeCommit,
    /// A page of notifications leaves one out (a reader that saw a later commit before an earlier one).
    PageSkips,
    /// A view's step commits though sync cleared the view meanwhile (the race a fix once reverted).
    ViewCommitsAfterClear,
}

type Round = Pin<Box<dyn Future<Output = tributary::Result<Progress>>>>;
type ViewStep = Pin<Box<dyn Future<Output = tributary::Result<Step>>>>;

struct Device {
    app: Application,
    recorder: Rc<MemoryApplicationRecorder>,
    tabs: Vec<Rc<SyncClient>>,
    round: Option<Round>,
    /// Each tab's runner of the view; one step at a time (the view's Web Lock), and the tab that took it last.
    views: Vec<Rc<ProjectionRunner>>,
    view_step: Option<ViewStep>,
    view_tab: usize,
    /// Tricks recorded here (each a name no other event has).
    recorded: BTreeSet<String>,
    /// Tricks of conflicts resolved by discarding them.
    discarded: BTreeSet<String>,
    /// Conflicts kept, by id: none may go but by a resolve.
    conflicts: BTreeSet<Uuid>,
    dogs: usize,
}

/// An event as both sides store it.
type Event = (Uuid, u64, String, Vec<u8>);

pub struct World {
    rng: Rng,
    bug: Bug,
    net: Rc<Net>,
    server: InProcess,
    _data: tempfile::TempDir,
    devices: Vec<Device>,
    pub steps: usize,
    pub counts: Counts,
}

impl World {
    pub fn new(seed: u64, bug: Bug) -> World {
        let mut rng = Rng::with_seed(seed);
        let shm = std::path::Path::new("/dev/shm");
        let data = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
        let net = Rc::new(Net::default());
        let count = rng.usize(2..=4);
        let devices = (0..count).map(|_| device(&net, &mut rng, bug)).collect();
        World {
            rng,
            bug,
            net: net.clone(),
            server: InProcess::start(data.path().to_owned()),
            _data: data,
            devices,
            steps: 0,
            counts: Counts::default(),
        }
    }

    /// Runs `steps` random steps with faults, checking after each what must always hold.
    pub fn run(&mut self, steps: usize) -> Result<(), String> {
        for _ in 0..steps {
            self.step()?;
            self.steps += 1;
            self.check_conflicts_kept(None)?;
        }
        Ok(())
    }

    fn step(&mut self) -> Result<(), String> {
        let d = self.rng.usize(..self.devices.len());
        match self.rng.u32(..100) {
            0..=14 => self.record(d),
            15..=19 => self.step_view(d),
            20..=34 => {
                if self.devices[d].round.is_none() {
                    let tab = self.devices[d].tabs[self.rng.usize(..2)].clone();
                    self.devices[d].round = Some(Box::pin(async move { tab.round(&mut |_| {}).await }));
                }
                self.poll(d);
            }
            35..=54 => self.poll(d),
            55..=79 => self.deliver(false),
            80..=86 => {
                // dropped on the way: the server never sees it
                if let Some(lost) = self.take_request() {
                    self.counts.dropped += 1;
                    let _ = lost.answer.send(Err("unreachable".into()));
                }
            }
            87..=89 => {
                // a copy of an earlier push, late
                if !self.net.copies.borrow().is_empty() {
                    let i = self.rng.usize(..self.net.copies.borrow().len());
                    let copy = self.net.copies.borrow_mut().swap_remove(i);
                    self.counts.duplicates += 1;
                    self.server.answer(&copy);
                }
            }
            90..=92 => {
                // the tab closed mid-round, or mid-step of the view
                self.counts.tabs_closed += self.devices[d].round.take().is_some() as usize;
                self.devices[d].view_step = None;
            }
            93 => {
                self.counts.restarts += 1;
                self.server.restart();
            }
            _ => self.resolve(d, None)?,
        }
        Ok(())
    }

    fn record(&mut self, d: usize) {
        let device = &mut self.devices[d];
        let known = dogs(&device.app);
        let event = if known.is_empty() || (device.dogs < 2 && self.rng.u8(..4) == 0) {
            device.dogs += 1;
            NewEvent {
                aggregate_type: "Dog".into(),
                id: Some(Uuid::from_u128(self.rng.u128(..))),
                event: "Registered".into(),
                payload: json!({ "name": format!("dog {d}.{}", device.dogs) }),
                expected_version: None,
            }
        } else {
            let trick = format!("trick {d}.{}", device.recorded.len());
            device.recorded.insert(trick.clone());
            NewEvent {
                aggregate_type: "Dog".into(),
                id: Some(known[self.rng.usize(..known.len())]),
                event: "TrickAdded".into(),
                payload: json!({ "trick": trick }),
                expected_version: None,
            }
        };
        if let Err(error) = block_on(device.app.record(&[event])) {
            panic!("recording in memory failed: {error}");
        }
    }

    /// Polls the device's view step once, starting one (in a random tab) if none is under way.
    fn step_view(&mut self, d: usize) {
        let device = &mut self.devices[d];
        if device.view_step.is_none() {
            let tab = self.rng.usize(..2);
            if tab != device.view_tab {
                device.views[tab].forget(); // the lock changed hands: what the other tab committed is unknown here
                device.view_tab = tab;
            }
            let runner = device.views[tab].clone();
            device.view_step = Some(Box::pin(async move { runner.step().await }));
        }
        if let Some(step) = device.view_step.as_mut() {
            if step.as_mut().poll(&mut Context::from_waker(noop_waker_ref())).is_ready() {
                device.view_step = None;
            }
        }
    }

    /// Polls a device's round once: it runs until it waits for the network, or ends.
    fn poll(&mut self, d: usize) {
        let Some(round) = self.devices[d].round.as_mut() else { return };
        if let Poll::Ready(outcome) = round.as_mut().poll(&mut Context::from_waker(noop_waker_ref())) {
            self.counts.rounds += 1;
            self.counts.failed_rounds += outcome.is_err() as usize;
            self.devices[d].round = None; // a failed round is retried by a later one, as live sync does
        }
    }

    fn take_request(&mut self) -> Option<InFlight> {
        let mut queue = self.net.queue.borrow_mut();
        let len = queue.len();
        (len > 0).then(|| queue.swap_remove(self.rng.usize(..len)))
    }

    /// Delivers a queued request; its answer may be lost (the server did it all the same).
    fn deliver(&mut self, reliably: bool) {
        let Some(sent) = self.take_request() else { return };
        let push = sent.request.method == Method::Post;
        let mut answer = if push && self.bug == Bug::AckBeforeCommit && self.rng.u8(..4) == 0 {
            self.acknowledged_only(&sent.request)
        } else {
            self.server.answer(&sent.request)
        };
        if self.bug == Bug::PageSkips && !push && answer.status == 200 {
            answer.body = skipping_one(&answer.body, &mut self.rng);
        }
        if push && !reliably && self.rng.u8(..6) == 0 {
            self.net.copies.borrow_mut().push(sent.request.clone());
        }
        let lost = !reliably && self.rng.u8(..8) == 0;
        self.counts.answers_lost += lost as usize;
        let _ = sent.answer.send(if lost { Err("the connection was reset".into()) } else { Ok(answer) });
    }

    /// Resolves one of a device's conflicts (rebase or discard), or `how` for each.
    fn resolve(&mut self, d: usize, how: Option<Resolution>) -> Result<(), String> {
        if self.devices[d].round.is_some() {
            return Ok(());
        }
        let tab = self.devices[d].tabs[0].clone();
        let conflicts = block_on(tab.conflicts()).map_err(|e| format!("conflicts: {e}"))?;
        let chosen: Vec<_> = match how {
            Some(_) => conflicts,
            None => conflicts.into_iter().take(1).collect(),
        };
        for conflict in chosen {
            let resolution = how.unwrap_or(if self.rng.bool() { Resolution::Rebase } else { Resolution::Discard });
            if block_on(tab.resolve(conflict.id, resolution)).is_ok() {
                self.counts.resolved += 1;
                self.check_conflicts_kept(Some((d, conflict.id)))?;
                if resolution == Resolution::Discard {
                    let tricks = conflict.local.iter().filter_map(|e| e.field::<String>("trick").ok());
                    self.devices[d].discarded.extend(tricks);
                }
            }
        }
        Ok(())
    }

    /// No conflict goes but the one resolved.
    fn check_conflicts_kept(&mut self, resolved: Option<(usize, Uuid)>) -> Result<(), String> {
        for (d, device) in self.devices.iter_mut().enumerate() {
            let now: BTreeSet<Uuid> =
                block_on(device.tabs[0].conflicts()).map_err(|e| format!("conflicts: {e}"))?.into_iter().map(|c| c.id).collect();
            let gone: Vec<_> = device.conflicts.difference(&now).filter(|id| resolved != Some((d, **id))).collect();
            if !gone.is_empty() {
                return Err(format!("device {d}: conflicts {gone:?} went without being resolved"));
            }
            self.counts.conflicts += now.difference(&device.conflicts).count();
            device.conflicts = now;
        }
        Ok(())
    }

    /// Faults stop; every device resolves its conflicts by rebasing and syncs
    /// until a whole pass changes nothing.
    pub fn converge(&mut self) -> Result<(), String> {
        for device in &mut self.devices {
            device.round = None;
            device.view_step = None;
        }
        for lost in std::mem::take(&mut *self.net.queue.borrow_mut()) {
            let _ = lost.answer.send(Err("unreachable".into()));
        }
        for copy in std::mem::take(&mut *self.net.copies.borrow_mut()) {
            self.server.answer(&copy);
        }
        for _ in 0..20 {
            let mut moved = 0;
            for d in 0..self.devices.len() {
                self.resolve(d, Some(Resolution::Rebase))?;
                let tab = self.devices[d].tabs[0].clone();
                let mut round: Round = Box::pin(async move { tab.round(&mut |_| {}).await });
                let progress = loop {
                    if let Poll::Ready(done) = round.as_mut().poll(&mut Context::from_waker(noop_waker_ref())) {
                        break done.map_err(|e| format!("device {d}: a round on a perfect network failed: {e}"))?;
                    }
                    self.deliver(true);
                };
                moved += progress.pushed + progress.pulled;
            }
            if moved == 0 {
                return self.catch_up_views();
            }
        }
        Err("the devices did not converge in 20 passes".into())
    }

    /// Each device's view, caught up by the tab that took it last.
    fn catch_up_views(&mut self) -> Result<(), String> {
        for (d, device) in self.devices.iter().enumerate() {
            let runner = device.views[device.view_tab].clone();
            let mut catching: Pin<Box<dyn Future<Output = tributary::Result<u64>>>> =
                Box::pin(async move { runner.catch_up(|_| {}).await });
            loop {
                if let Poll::Ready(done) = catching.as_mut().poll(&mut Context::from_waker(noop_waker_ref())) {
                    done.map_err(|e| format!("device {d}: its view failed: {e}"))?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// What holds once converged: the server's log gap-free, each aggregate's
    /// versions gap-free, every recorded trick once (but those discarded, none
    /// of which is there), and every device holding exactly the server's log.
    pub fn check(&mut self) -> Result<(), String> {
        let server = self.server_log()?;
        let ids: Vec<u64> = server.iter().map(|(id, _)| *id).collect();
        if ids != (1..=ids.len() as u64).collect::<Vec<_>>() {
            return Err(format!("the server's ids are not 1..={}: {ids:?}", ids.len()));
        }
        let mut versions: BTreeMap<Uuid, Vec<u64>> = BTreeMap::new();
        for (_, (id, version, _, _)) in &server {
            versions.entry(*id).or_default().push(*version);
        }
        if let Some((id, v)) = versions.iter().find(|(_, v)| **v != (1..=v.len() as u64).collect::<Vec<_>>()) {
            return Err(format!("aggregate {id} has versions {v:?} on the server"));
        }
        let mut tricks = BTreeMap::<String, usize>::new();
        for (_, (_, _, _, state)) in &server {
            if let Some(trick) = serde_json::from_slice::<Value>(state).ok().and_then(|s| s["trick"].as_str().map(str::to_owned)) {
                *tricks.entry(trick).or_default() += 1;
            }
        }
        if let Some((trick, n)) = tricks.iter().find(|(_, n)| **n > 1) {
            return Err(format!("{trick:?} is {n} times on the server"));
        }
        let events: BTreeSet<Event> = server.into_iter().map(|(_, e)| e).collect();
        for (d, device) in self.devices.iter().enumerate() {
            for trick in &device.recorded {
                let there = tricks.contains_key(trick);
                if there == device.discarded.contains(trick) {
                    let why = if there { "discarded, yet on the server" } else { "recorded, neither discarded nor on the server" };
                    return Err(format!("device {d}: {trick:?} {why}"));
                }
            }
            let local = log(&device.app);
            let held: BTreeSet<Event> = local.iter().cloned().collect();
            if held.len() != local.len() {
                return Err(format!("device {d} holds an event twice"));
            }
            if held != events {
                let missing = events.difference(&held).count();
                let extra = held.difference(&events).count();
                return Err(format!("device {d} differs from the server: {missing} of its events missing, {extra} it alone holds"));
            }
            let mut expected = BTreeMap::<String, u64>::new();
            for (id, _, topic, _) in &local {
                if topic.ends_with("TrickAdded") {
                    *expected.entry(id.simple().to_string()).or_default() += 1;
                }
            }
            let rows = block_on(device.recorder.query_rows(VIEW, &RowQuery::default())).map_err(|e| e.to_string())?;
            let rows: BTreeMap<String, u64> =
                rows.into_iter().filter(|r| !r.key.starts_with('\0')).map(|r| (r.key, r.value["tricks"].as_u64().unwrap_or(0))).collect();
            if rows != expected {
                return Err(format!("device {d}: its view is not its rebuild: {rows:?}, not {expected:?}"));
            }
            if block_on(device.tabs[1].pending_count()).map_err(|e| e.to_string())? != 0 {
                return Err(format!("device {d} still has events to push"));
            }
        }
        Ok(())
    }

    /// The server's log, read as a client reads it.
    fn server_log(&mut self) -> Result<Vec<(u64, Event)>, String> {
        let mut all = Vec::new();
        loop {
            let url = format!("{BASE}/notifications?start={}&limit=10000", all.len() + 1);
            let answer = self.server.answer(&Request { method: Method::Get, url, token: Some(TOKEN.into()), body: None });
            let page: Vec<Value> = serde_json::from_slice(&answer.body).map_err(|e| format!("the server's page: {e}"))?;
            if page.is_empty() {
                return Ok(all);
            }
            for n in page {
                let id = Uuid::parse_str(n["originator_id"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
                let state = STANDARD.decode(n["state"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
                let event = (id, n["originator_version"].as_u64().unwrap_or(0), n["topic"].as_str().unwrap_or_default().to_owned(), state);
                all.push((n["id"].as_u64().unwrap_or(0), event));
            }
        }
    }

    /// What a server that answers before it commits says when the commit then fails:
    /// the push's events at the next ids, none of them written.
    fn acknowledged_only(&mut self, push: &Request) -> tributary::sync::Response {
        let url = format!("{BASE}/wait?after=0&timeout_ms=0");
        let head = self.server.answer(&Request { method: Method::Get, url, token: Some(TOKEN.into()), body: None });
        let head = serde_json::from_slice::<Value>(&head.body).ok().and_then(|h| h["max_notification_id"].as_u64()).unwrap_or(0);
        let events = serde_json::from_slice::<Value>(push.body.as_deref().unwrap_or_default()).ok().map(|p| p["events"].clone());
        let events = events.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
        let position = events.last().and_then(|e| e["position"].as_u64()).unwrap_or(0);
        let ids: Vec<u64> = (head + 1..=head + events.len() as u64).collect();
        let body = serde_json::to_vec(&json!({ "notification_ids": ids, "position": position })).unwrap();
        tributary::sync::Response { status: 200, body, more: false }
    }
}

fn device(net: &Rc<Net>, rng: &mut Rng, bug: Bug) -> Device {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    let options = SyncOptions { token: Some(TOKEN.into()), batch: rng.usize(1..=8), ..SyncOptions::new(BASE) };
    let view = ViewDefinition::new(VIEW, &[], &[]).unwrap();
    let tab = || {
        let mut sync = SyncClient::new(app.clone(), recorder.clone(), Rc::new(Link { net: net.clone() }), options.clone()).unwrap();
        sync.set_views(vec![view.clone()]);
        Rc::new(sync)
    };
    let batch = rng.usize(1..=5);
    let views: Rc<dyn ViewRecorder> =
        if bug == Bug::ViewCommitsAfterClear { Rc::new(Careless(recorder.clone())) } else { recorder.clone() };
    let runner = || Rc::new(ProjectionRunner::new(app.clone(), views.clone(), view.clone(), Rc::new(Tricks)).with_batch_size(batch));
    Device {
        tabs: vec![tab(), tab()],
        views: vec![runner(), runner()],
        view_step: None,
        view_tab: 0,
        recorder,
        app,
        round: None,
        recorded: BTreeSet::new(),
        discarded: BTreeSet::new(),
        conflicts: BTreeSet::new(),
        dogs: 0,
    }
}

fn log(app: &Application) -> Vec<Event> {
    let all = block_on(app.notifications(&NotificationQuery::new(1, 1_000_000))).unwrap();
    all.into_iter().map(|n| (n.originator_id, n.originator_version, n.topic, n.state)).collect()
}

fn dogs(app: &Application) -> Vec<Uuid> {
    log(app).into_iter().filter(|(_, _, topic, _)| topic.ends_with("Registered")).map(|(id, ..)| id).collect()
}

/// A page of notifications without one of its middle ones.
fn skipping_one(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    match serde_json::from_slice::<Vec<Value>>(body) {
        Ok(mut page) if page.len() >= 3 => {
            page.remove(rng.usize(1..page.len() - 1));
            serde_json::to_vec(&page).unwrap()
        }
        _ => body.to_vec(),
    }
}
