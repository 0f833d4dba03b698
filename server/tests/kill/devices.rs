//! The devices: each on a thread of its own, with its own log in memory and
//! the core's sync client to one server process, recording tricks and syncing
//! in rounds, resolving conflicts, until it has nothing left to push.

use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use serde_json::json;
use tributary::persistence::{MemoryApplicationRecorder, NotificationQuery};
use tributary::sync::{Resolution, SyncClient, SyncOptions};
use tributary::{Aggregate, Application, NewEvent, Root};
use uuid::Uuid;

use super::watch::{Watch, Watched};
use super::{Event, Random};
use crate::dog::Dog;
use crate::support::TOKEN;

/// Devices on each server process.
pub const DEVICES_PER_SERVER: usize = 4;

/// Rounds each device records and syncs at least (and on while the killer is
/// at work, up to four times as many), and the events it records per round.
pub const ROUNDS: usize = 30;

pub const EVENTS_PER_ROUND: usize = 10;

/// Dogs every device teaches tricks to (so conflicts happen), and each device's own.
pub const SHARED_DOGS: usize = 5;

pub const OWN_DOGS: usize = 2;

/// A device: its own log (in memory) and a sync client to one server process.
pub struct Device {
    pub app: Application,
    pub sync: SyncClient,
}

pub fn device(url: &str, on_a: bool, watch: &Arc<Watch>) -> Device {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    let options = SyncOptions { token: Some(TOKEN.into()), batch: 25, ..SyncOptions::new(url) };
    let sync = SyncClient::new(app.clone(), recorder, Rc::new(Watched { on_a, watch: watch.clone() }), options).unwrap();
    Device { app, sync }
}

pub async fn register(device: &Device, name: &str) -> Uuid {
    let mut dog = Root::<Dog>::create_with_id(Dog::create_id(name), "Registered", json!({ "name": name })).unwrap();
    device.app.save(&mut [&mut dog]).await.unwrap();
    dog.id()
}

/// What one device did, and its log at the end (in its own order).
#[derive(Default)]
pub struct DeviceRun {
    pub name: String,
    /// Labels of the events it recorded (rebased ones keep theirs).
    pub recorded: Vec<String>,
    /// Labels of the events it discarded in conflicts.
    pub discarded: Vec<String>,
    pub conflicts: u64,
    pub rebased: u64,
    pub rounds: u64,
    pub failed_rounds: u64,
    /// What went wrong that should not have: an error other than the server
    /// being away or busy, not getting quiet, a last round that pushed.
    pub problems: Vec<String>,
    pub log: Vec<Event>,
}

impl DeviceRun {
    /// One round; then every conflict is resolved (rebased three times in four,
    /// else discarded). Whether the round went through.
    async fn round(&mut self, device: &Device, random: &mut Random, watch: &Watch) -> bool {
        self.rounds += 1;
        let synced = match device.sync.round(&mut |_| {}).await {
            Ok(_) => true,
            Err(error) => {
                // The server is down (SyncError), or other devices kept taking the versions (ConflictError).
                if !matches!(error.name(), "SyncError" | "ConflictError") {
                    self.problems.push(format!("a round failed: {error}"));
                }
                let why: String = error.to_string().chars().take(90).collect();
                *watch.failures.lock().unwrap().entry(format!("{}: {why}", error.name())).or_default() += 1;
                self.failed_rounds += 1;
                false
            }
        };
        for conflict in device.sync.conflicts().await.unwrap() {
            self.conflicts += 1;
            let labels: Vec<String> = conflict.local.iter().map(|e| e.payload["trick"].as_str().unwrap().to_owned()).collect();
            if random.below(4) > 0 && device.sync.resolve(conflict.id, Resolution::Rebase).await.is_ok() {
                self.rebased += labels.len() as u64;
            } else {
                device.sync.resolve(conflict.id, Resolution::Discard).await.unwrap();
                self.discarded.extend(labels);
            }
        }
        synced
    }
}

/// A device's life: its own dogs, the shared ones pulled; rounds of recording
/// tricks and syncing; then syncing until it has nothing left to push; then,
/// once every device is there, one last pull.
pub fn run_device(k: usize, url: String, on_a: bool, watch: Arc<Watch>, shared: Vec<Uuid>, seed: u64, quiet: Arc<Barrier>) -> DeviceRun {
    block_on(async move {
        let device = device(&url, on_a, &watch);
        let mut random = Random::new(seed ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let name = format!("d{k}{}", if on_a { "a" } else { "b" });
        let mut run = DeviceRun { name: name.clone(), ..DeviceRun::default() };
        let mut own = Vec::new();
        for i in 0..OWN_DOGS {
            let dog = format!("{name} dog {i}");
            own.push(register(&device, &dog).await);
            run.recorded.push(dog);
        }
        while !run.round(&device, &mut random, &watch).await {
            thread::sleep(Duration::from_millis(30));
        }
        let mut n = 0;
        for round in 0..4 * ROUNDS {
            if round >= ROUNDS && !watch.killing.load(SeqCst) {
                break;
            }
            for _ in 0..EVENTS_PER_ROUND {
                let dog = match random.below(10) < 3 {
                    true => shared[random.below(shared.len() as u64) as usize],
                    false => own[random.below(own.len() as u64) as usize],
                };
                let trick = format!("{name}-{n}");
                n += 1;
                device.app.record(&[NewEvent { payload: json!({ "trick": trick }), ..new_trick(dog) }]).await.unwrap();
                run.recorded.push(trick);
            }
            if !run.round(&device, &mut random, &watch).await {
                thread::sleep(Duration::from_millis(30));
            }
        }
        watch.recording.fetch_sub(1, SeqCst);
        let patience = Instant::now() + Duration::from_secs(20);
        loop {
            let synced = run.round(&device, &mut random, &watch).await;
            if synced && device.sync.pending_count().await.unwrap() == 0 && device.sync.conflicts().await.unwrap().is_empty() {
                break;
            }
            if Instant::now() > patience {
                let pending = device.sync.pending_count().await.unwrap();
                run.problems.push(format!("not quiet after 20 s: {pending} events to push"));
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        // Nobody has anything left to push: one round only pulls.
        quiet.wait();
        match device.sync.round(&mut |_| {}).await {
            Ok(last) if (last.pushed, last.conflicts) == (0, 0) => {}
            Ok(last) => run.problems.push(format!("the last round pushed {} and found {} conflicts", last.pushed, last.conflicts)),
            Err(error) => run.problems.push(format!("the last round failed: {error}")),
        }
        let log = device.app.notifications(&NotificationQuery::new(1, 100_000)).await.unwrap();
        run.log = log.into_iter().map(|n| (n.originator_id, n.originator_version, n.topic, n.state)).collect();
        run
    })
}

fn new_trick(dog: Uuid) -> NewEvent {
    NewEvent { aggregate_type: "Dog".into(), id: Some(dog), event: "TrickAdded".into(), payload: json!({}), expected_version: None }
}
