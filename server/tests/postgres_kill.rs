//! Devices syncing through two server processes on one PostgreSQL database
//! converge with every event once while one process is killed mid-push, again
//! and again. Built with `--features postgres-tests` only: start a throwaway
//! cluster first with `source scripts/postgres.sh`.

#[path = "../../tests/contract/dog.rs"]
mod dog;
mod support;

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use dog::Dog;
use futures::executor::block_on;
use serde_json::{json, Value};
use support::postgres::{fresh_database, start};
use support::{get, Server, Ureq, TOKEN};
use tributary::persistence::{MemoryApplicationRecorder, NotificationQuery};
use tributary::sync::protocol::{PushReply, PushRequest};
use tributary::sync::{Http, Method, Request, Resolution, Response, SyncClient, SyncOptions};
use tributary::{Aggregate, Application, NewEvent, Root};
use uuid::Uuid;

// Devices on two server processes on one database, one process killed with
// SIGKILL mid-push again and again, and restarted on its port.
//
// Why this fails when the server loses or doubles events (each was tried by
// breaking the code on purpose): every event a device records carries a label
// of its own (its trick, or its dog's name), so
// - an event the server acknowledged and then lost is missing at the id it was
//   acknowledged with (`not at their id`), and the devices' logs are not the
//   server's (a server answering a push and then rolling it back: hundreds
//   lost, dozens not at their id, six devices' logs not the server's);
// - an event recorded twice (a retried push written again, or a client that
//   takes its own event, recorded but never acknowledged, for someone else's
//   and rebases it) shows its label twice in the server's log (`duplicates`:
//   eleven, when the client's pull no longer recognises its own events);
// - an event nobody discarded that never reached the server is `lost`;
// - a transaction cut short by a kill after its insert leaves a `gap` in
//   PostgreSQL's log unless its ids are given again (25, one push, before
//   `events::reclaim` in the PostgreSQL adapter).

/// Devices on each server process.
const DEVICES_PER_SERVER: usize = 4;
/// Rounds each device records and syncs at least (and on while the killer is
/// at work, up to four times as many), and the events it records per round.
const ROUNDS: usize = 30;
const EVENTS_PER_ROUND: usize = 10;
/// Dogs every device teaches tricks to (so conflicts happen), and each device's own.
const SHARED_DOGS: usize = 5;
const OWN_DOGS: usize = 2;
/// Kills of server A that cut a push off the killer aims for, of each kind
/// (see [`Moment`]): at random, after the insert, during the commit; kills at most.
const KILLS_AIMED: [u64; 3] = [2, 1, 1];
const MAX_KILLS: u64 = 12;

/// An event as stored: (aggregate, version, topic, state bytes).
type Event = (Uuid, u64, String, Vec<u8>);

/// A small seeded generator (xorshift64*), so a failing run can be replayed by its seed.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Random(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the test sees of every device's traffic, across threads.
#[derive(Default)]
struct Watch {
    /// Kills of server A so far, counted just before each SIGKILL.
    kills: AtomicU64,
    /// Pushes to server A sent and not answered yet.
    pushing_to_a: AtomicU64,
    /// Pushes to server A that a kill cut off (sent before it, never answered): their events.
    cut: Mutex<Vec<Vec<Event>>>,
    /// Every event a server acknowledged, with the notification id it gave.
    acks: Mutex<Vec<(Event, u64)>>,
    /// Pushes refused for conflicts (409).
    refused: AtomicU64,
    /// Devices still recording (the killer stops when none is).
    recording: AtomicUsize,
    /// Whether the killer is still at work (devices record on meanwhile).
    killing: AtomicBool,
    /// Why rounds failed, and how often.
    failures: Mutex<HashMap<String, u64>>,
}

/// The core's HTTP port over ureq, telling the watch about every push.
struct Watched {
    on_a: bool,
    watch: Arc<Watch>,
}

#[async_trait::async_trait(?Send)]
impl Http for Watched {
    async fn send(&self, request: Request) -> Result<Response, String> {
        let pushed: Option<PushRequest> = match (request.method, &request.body) {
            (Method::Post, Some(body)) => Some(serde_json::from_slice(body).expect("a push request")),
            _ => None,
        };
        let to_a = pushed.is_some() && self.on_a;
        let kills = self.watch.kills.load(SeqCst);
        if to_a {
            self.watch.pushing_to_a.fetch_add(1, SeqCst);
        }
        let answer = Ureq.send(request).await;
        if to_a {
            self.watch.pushing_to_a.fetch_sub(1, SeqCst);
            if let (Some(pushed), Err(_)) = (&pushed, &answer) {
                if self.watch.kills.load(SeqCst) != kills {
                    self.watch.cut.lock().unwrap().push(pushed.events.iter().map(event).collect());
                }
            }
        }
        match (pushed, &answer) {
            (Some(pushed), Ok(response)) if response.status == 200 => {
                let reply: PushReply = serde_json::from_slice(&response.body).expect("a push reply");
                assert_eq!(reply.notification_ids.len(), pushed.events.len());
                let mut acks = self.watch.acks.lock().unwrap();
                acks.extend(pushed.events.iter().map(event).zip(reply.notification_ids));
            }
            (Some(_), Ok(response)) if response.status == 409 => {
                self.watch.refused.fetch_add(1, SeqCst);
            }
            _ => {}
        }
        answer
    }
}

/// A pushed event as stored.
fn event(pushed: &tributary::sync::protocol::PushedEvent) -> Event {
    let state = STANDARD.decode(&pushed.state).unwrap();
    (pushed.originator_id.parse().unwrap(), pushed.originator_version, pushed.topic.clone(), state)
}

/// A device: its own log (in memory) and a sync client to one server process.
struct Device {
    app: Application,
    sync: SyncClient,
}

fn device(url: &str, on_a: bool, watch: &Arc<Watch>) -> Device {
    let recorder = Rc::new(MemoryApplicationRecorder::new());
    let mut app = Application::new("dogschool", recorder.clone());
    app.register::<Dog>();
    let options = SyncOptions { token: Some(TOKEN.into()), batch: 25, ..SyncOptions::new(url) };
    let sync = SyncClient::new(app.clone(), recorder, Rc::new(Watched { on_a, watch: watch.clone() }), options).unwrap();
    Device { app, sync }
}

async fn register(device: &Device, name: &str) -> Uuid {
    let mut dog = Root::<Dog>::create_with_id(Dog::create_id(name), "Registered", json!({ "name": name })).unwrap();
    device.app.save(&mut [&mut dog]).await.unwrap();
    dog.id()
}

/// An event's label: its trick, or the name of the dog it registers.
fn label(state: &[u8]) -> String {
    let state: Value = serde_json::from_slice(state).expect("state is JSON");
    state.get("trick").or_else(|| state.get("name")).and_then(Value::as_str).expect("a trick or a name").to_owned()
}

/// An event for a message: its aggregate, version and label.
fn shown(event: &Event) -> String {
    format!("{} v{} {:?}", event.0, event.1, label(&event.3))
}

/// What one device did, and its log at the end (in its own order).
#[derive(Default)]
struct DeviceRun {
    name: String,
    /// Labels of the events it recorded (rebased ones keep theirs).
    recorded: Vec<String>,
    /// Labels of the events it discarded in conflicts.
    discarded: Vec<String>,
    conflicts: u64,
    rebased: u64,
    rounds: u64,
    failed_rounds: u64,
    /// What went wrong that should not have: an error other than the server
    /// being away or busy, not getting quiet, a last round that pushed.
    problems: Vec<String>,
    log: Vec<Event>,
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
fn run_device(k: usize, url: String, on_a: bool, watch: Arc<Watch>, shared: Vec<Uuid>, seed: u64, quiet: Arc<Barrier>) -> DeviceRun {
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

/// When in a push server A is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// A random few microseconds after a device began a push to it.
    AtRandom = 0,
    /// Inside PostgreSQL's transaction, the push's events inserted (their
    /// notification ids taken), nothing committed: it is rolled back.
    AfterInsert = 1,
    /// While PostgreSQL commits: the push is recorded, and never answered.
    DuringCommit = 2,
}

/// What the killer did.
#[derive(Default)]
struct Kills {
    kills: u64,
    /// Kills that cut a push off, by [`Moment`].
    cut_at: [u64; 3],
    /// Pushes cut off that PostgreSQL committed (their reply was lost), and
    /// those it did not (rolled back, or not begun), seen once PostgreSQL was
    /// done with the dead process's connections.
    committed: u64,
    not_committed: u64,
}

/// Server A's connections to PostgreSQL are named this (its URL says so), so
/// that the test can slow down its writes, and see when one is under way.
const SERVER_A: &str = "tributary-server-a";

/// Triggers that hold a write of server A in PostgreSQL for half a second
/// while the switch says so: after its insert (the events inserted, their
/// notification ids taken, nothing committed), or in its commit (a deferred
/// trigger, once per transaction: the commit goes through even when the
/// server is gone meanwhile, as PostgreSQL notices a lost client only when
/// it next talks to it).
const SLOW_WRITES: &str = "
    CREATE TABLE public.slow_writes (moment text);
    INSERT INTO public.slow_writes VALUES (NULL);
    CREATE FUNCTION public.slow_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('application_name') = 'tributary-server-a' AND (SELECT moment FROM public.slow_writes) = 'insert' THEN
            PERFORM pg_sleep(0.5);
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER slow_inserts AFTER INSERT ON acme.dogschool_events FOR EACH STATEMENT EXECUTE FUNCTION public.slow_inserts();
    CREATE FUNCTION public.slow_commits() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('application_name') = 'tributary-server-a' AND (SELECT moment FROM public.slow_writes) = 'commit'
           AND current_setting('slow_writes.slept', true) IS DISTINCT FROM 'yes' THEN
            PERFORM set_config('slow_writes.slept', 'yes', true);
            PERFORM pg_sleep(0.5);
        END IF;
        RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER slow_commits AFTER INSERT ON acme.dogschool_events DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION public.slow_commits();
";

/// The test's own connection to the database.
struct Postgres {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl Postgres {
    fn connect(database: &str) -> Postgres {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client
        });
        Postgres { runtime, client }
    }

    fn execute(&self, statements: &str) {
        self.runtime.block_on(self.client.batch_execute(statements)).unwrap();
    }

    fn query(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        self.runtime.block_on(self.client.query(sql, &[])).unwrap()
    }

    /// The application's log as PostgreSQL holds it.
    fn log(&self) -> Vec<(u64, Event)> {
        let sql =
            "SELECT notification_id, originator_id, originator_version, topic, state FROM acme.dogschool_events ORDER BY notification_id";
        let rows = self.query(sql);
        rows.iter()
            .map(|row| {
                let (id, version): (i64, i64) = (row.get(0), row.get(2));
                (id as u64, (row.get(1), version as u64, row.get(3), row.get(4)))
            })
            .collect()
    }

    /// Whether server A has a connection held in one of [`SLOW_WRITES`]' triggers.
    fn a_is_held(&self) -> bool {
        !self.query(&format!("SELECT 1 FROM pg_stat_activity WHERE application_name = '{SERVER_A}' AND wait_event = 'PgSleep'")).is_empty()
    }

    /// Whether server A has any connection left (a dead process's go once PostgreSQL notices).
    fn a_is_connected(&self) -> bool {
        !self.query(&format!("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE '{SERVER_A}%'")).is_empty()
    }
}

/// While devices record, kills server A with SIGKILL while a push to it is in
/// flight, at each [`Moment`] in turn, until enough kills cut a push off at
/// each; keeps it down a little, and starts it again on the same port (and
/// database URL). Once PostgreSQL is done with the dead process's connections,
/// looks for each push it cut off: all of it is in the log, or none.
fn kill_mid_pushes(mut a: Server, url: String, watch: Arc<Watch>, seed: u64) -> (Server, Kills) {
    // the test's own connection, not named as server A's
    let postgres = Postgres::connect(url.split('?').next().unwrap());
    let mut random = Random::new(seed.rotate_left(17));
    let mut done = Kills::default();
    let recording = || watch.recording.load(SeqCst) > 0;
    let moments = [Moment::AtRandom, Moment::AfterInsert, Moment::AtRandom, Moment::DuringCommit];
    while recording() && done.kills < MAX_KILLS {
        let Some(moment) = (0..moments.len())
            .map(|i| moments[(done.kills as usize + i) % moments.len()])
            .find(|m| done.cut_at[*m as usize] < KILLS_AIMED[*m as usize])
        else {
            break;
        };
        thread::sleep(Duration::from_millis(300 + random.below(1_200)));
        match moment {
            Moment::AtRandom => {
                while recording() && watch.pushing_to_a.load(SeqCst) == 0 {
                    thread::sleep(Duration::from_micros(100));
                }
                thread::sleep(Duration::from_micros(random.below(3_000)));
            }
            Moment::AfterInsert | Moment::DuringCommit => {
                let which = if moment == Moment::AfterInsert { "insert" } else { "commit" };
                postgres.execute(&format!("UPDATE public.slow_writes SET moment = '{which}'"));
                while recording() && !postgres.a_is_held() {
                    thread::sleep(Duration::from_millis(2));
                }
            }
        }
        if !recording() {
            postgres.execute("UPDATE public.slow_writes SET moment = NULL");
            break;
        }
        let cut = watch.cut.lock().unwrap().len();
        let (data, listen) = (a.data.clone(), a.base.trim_start_matches("http://").to_owned());
        watch.kills.fetch_add(1, SeqCst);
        a.kill();
        done.kills += 1;
        postgres.execute("UPDATE public.slow_writes SET moment = NULL");
        thread::sleep(Duration::from_millis(200 + random.below(400)));
        let gone = Instant::now() + Duration::from_secs(10);
        while postgres.a_is_connected() {
            assert!(Instant::now() < gone, "PostgreSQL still has the killed server's connections after 10 s");
            thread::sleep(Duration::from_millis(10));
        }
        // a push cut off failed at once, when the kernel closed the dead server's sockets
        let cut_now: Vec<Vec<Event>> = watch.cut.lock().unwrap()[cut..].to_vec();
        if !cut_now.is_empty() {
            done.cut_at[moment as usize] += 1;
            let stored: BTreeSet<Event> = postgres.log().into_iter().map(|(_, e)| e).collect();
            for push in cut_now {
                let there = push.iter().filter(|e| stored.contains(*e)).count();
                assert!(there == 0 || there == push.len(), "a push cut off is half in the log: {there} of {}", push.len());
                if there > 0 {
                    done.committed += 1;
                } else {
                    done.not_committed += 1;
                }
            }
        }
        for _ in 0..100 {
            if std::net::TcpListener::bind(&listen).is_ok() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        a = Server::start_on(&data, &listen, &["--database", &url]);
    }
    watch.killing.store(false, SeqCst);
    (a, done)
}

/// A server's whole log, page by page: (notification id, event).
fn server_log(app: &str) -> Vec<(u64, Event)> {
    let mut log = Vec::new();
    loop {
        let page = get(&format!("{app}/notifications?start={}&limit=10000", log.len() + 1), Some(TOKEN)).json();
        let page = page.as_array().unwrap();
        for n in page {
            let event = (
                n["originator_id"].as_str().unwrap().parse().unwrap(),
                n["originator_version"].as_u64().unwrap(),
                n["topic"].as_str().unwrap().to_owned(),
                STANDARD.decode(n["state"].as_str().unwrap()).unwrap(),
            );
            log.push((n["id"].as_u64().unwrap(), event));
        }
        if page.len() < 10_000 {
            return log;
        }
    }
}

#[test]
fn devices_on_two_servers_converge_with_every_event_once_while_one_is_killed_mid_push() {
    let began = Instant::now();
    let seed = std::env::var("TRIBUTARY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    println!("seed {seed} (TRIBUTARY_KILL_SEED={seed} replays the same choices; the kills' timing is the machine's)");
    let database = fresh_database();
    let url_of_a = format!("{database}?application_name={SERVER_A}");
    let (a, b) = (start(&url_of_a, "pg-kill-a"), start(&database, "pg-kill-b"));
    let (url_a, url_b) = (a.app("acme", "dogschool"), b.app("acme", "dogschool"));
    let watch = Arc::new(Watch::default());
    watch.recording.store(2 * DEVICES_PER_SERVER, SeqCst);
    watch.killing.store(true, SeqCst);

    // the dogs everyone trains, registered through B
    let (shared, setup) = block_on(async {
        let setup = device(&url_b, false, &watch);
        let mut dogs = Vec::new();
        let mut names = Vec::new();
        for i in 0..SHARED_DOGS {
            names.push(format!("shared dog {i}"));
            dogs.push(register(&setup, &names[i]).await);
        }
        setup.sync.round(&mut |_| {}).await.unwrap();
        (dogs, names)
    });
    let postgres = Postgres::connect(&database);
    postgres.execute(SLOW_WRITES);

    let quiet = Arc::new(Barrier::new(2 * DEVICES_PER_SERVER));
    let devices: Vec<_> = (0..2 * DEVICES_PER_SERVER)
        .map(|k| {
            let on_a = k % 2 == 0;
            let url = if on_a { url_a.clone() } else { url_b.clone() };
            let (watch, shared, quiet) = (watch.clone(), shared.clone(), quiet.clone());
            thread::Builder::new().name(format!("device {k}")).spawn(move || run_device(k, url, on_a, watch, shared, seed, quiet)).unwrap()
        })
        .collect();
    let killer = {
        let watch = watch.clone();
        thread::spawn(move || kill_mid_pushes(a, url_of_a, watch, seed))
    };
    let runs: Vec<_> = devices.into_iter().map(|d| d.join()).collect();
    // the killer's server A is stopped even when a device's thread failed
    let (a, kills) = killer.join().expect("the killer's thread");
    let runs: Vec<DeviceRun> = runs.into_iter().map(|run| run.expect("a device's thread")).collect();
    let synced = began.elapsed();

    // The server's log: through both processes, and as PostgreSQL holds it.
    let log = server_log(&url_b);
    assert!(log == server_log(&a.app("acme", "dogschool")), "both processes serve the same log");
    let stored = postgres.log();
    assert!(stored == log, "the served log is PostgreSQL's");
    let ids: Vec<u64> = stored.iter().map(|(id, _)| *id).collect();
    let gaps = ids.last().copied().unwrap_or(0) - ids.len() as u64;
    let at: HashMap<(Uuid, u64), (u64, &Event)> = log.iter().map(|(id, e)| ((e.0, e.1), (*id, e))).collect();
    let mut labels: HashMap<String, u64> = HashMap::new();
    for (_, event) in &log {
        *labels.entry(label(&event.3)).or_default() += 1;
    }
    let duplicates: u64 = labels.values().map(|n| n - 1).sum();

    // Every acknowledgement: the event is at the id it was given, once.
    let acks = watch.acks.lock().unwrap();
    let acked_but_not_there = acks.iter().filter(|(event, id)| at.get(&(event.0, event.1)) != Some(&(*id, event))).count();
    let mut ids_of: HashMap<(Uuid, u64), BTreeSet<u64>> = HashMap::new();
    for (event, id) in acks.iter() {
        ids_of.entry((event.0, event.1)).or_default().insert(*id);
    }
    let acked_twice = ids_of.values().filter(|ids| ids.len() > 1).count();

    // Every device: the server's events, the same bytes, in the server's order
    // (those it pulled in the order pulled, its own in the order it pushed them).
    let (mut differing, mut problems) = (Vec::new(), Vec::new());
    let (mut recorded, mut discarded, mut lost, mut discarded_yet_there) = (setup.len(), 0, 0, 0);
    lost += setup.iter().filter(|name| !labels.contains_key(*name)).count();
    for run in &runs {
        let mut why = None;
        let mut server_ids = Vec::new();
        let (mut own, mut pulled) = (0, 0);
        for event in &run.log {
            let Some((id, there)) = at.get(&(event.0, event.1)) else {
                why.get_or_insert_with(|| format!("{} is not on the server", shown(event)));
                continue;
            };
            if *there != event {
                why.get_or_insert_with(|| format!("{} has other bytes on the server", shown(event)));
            }
            let label = label(&event.3);
            let mine = label.starts_with(&format!("{}-", run.name)) || label.starts_with(&format!("{} ", run.name));
            let last = if mine { &mut own } else { &mut pulled };
            if *id <= *last {
                why.get_or_insert_with(|| format!("notification {id} after {last}: not the server's order"));
            }
            *last = *id;
            server_ids.push(*id);
        }
        server_ids.sort();
        if server_ids != ids {
            why.get_or_insert_with(|| format!("{} events, the server has {}", run.log.len(), log.len()));
        }
        if let Some(why) = why {
            differing.push(format!("{}: {why}", run.name));
        }
        problems.extend(run.problems.iter().map(|p| format!("{}: {p}", run.name)));
        let gone: BTreeSet<&String> = run.discarded.iter().collect();
        for label in &run.recorded {
            match (labels.get(label).copied().unwrap_or(0), gone.contains(label)) {
                (0, false) => lost += 1,
                (1, true) => discarded_yet_there += 1,
                _ => {}
            }
        }
        recorded += run.recorded.len();
        discarded += run.discarded.len();
    }

    println!(
        "{} devices ({} on server A, {} on B) recorded {recorded} events (the shared dogs' registrations with them) \
         over {SHARED_DOGS} shared dogs and {OWN_DOGS} each of their own",
        runs.len(),
        DEVICES_PER_SERVER,
        DEVICES_PER_SERVER
    );
    println!(
        "server A killed {} times with SIGKILL, cutting a push off {} times (at a random moment {}, after its insert {}, \
         during its commit {}); pushes cut off unanswered: {} (committed {}, not committed {})",
        kills.kills,
        kills.cut_at.iter().sum::<u64>(),
        kills.cut_at[Moment::AtRandom as usize],
        kills.cut_at[Moment::AfterInsert as usize],
        kills.cut_at[Moment::DuringCommit as usize],
        watch.cut.lock().unwrap().len(),
        kills.committed,
        kills.not_committed
    );
    println!(
        "rounds {} ({} failed); pushes refused for conflicts {}; conflicts {} (events rebased {}, discarded {discarded})",
        runs.iter().map(|r| r.rounds).sum::<u64>(),
        runs.iter().map(|r| r.failed_rounds).sum::<u64>(),
        watch.refused.load(SeqCst),
        runs.iter().map(|r| r.conflicts).sum::<u64>(),
        runs.iter().map(|r| r.rebased).sum::<u64>(),
    );
    let mut failures: Vec<_> = watch.failures.lock().unwrap().iter().map(|(why, n)| (*n, why.clone())).collect();
    failures.sort_by(|x, y| y.cmp(x));
    for (n, why) in failures.iter().take(6) {
        println!("  failed rounds: {n} x {why}");
    }
    println!(
        "server log {} events (ids 1..={}, gaps {gaps}); acknowledgements {} ({} not at their id, {} events acked at two ids); \
         duplicates {duplicates}; lost {lost}; discarded yet on the server {discarded_yet_there}; \
         devices whose log is not the server's {}; devices' problems {}",
        log.len(),
        ids.last().copied().unwrap_or(0),
        acks.len(),
        acked_but_not_there,
        acked_twice,
        differing.len(),
        problems.len(),
    );
    println!("synced in {synced:.1?}, checked in {:.1?}", began.elapsed() - synced);

    assert!(differing.is_empty(), "devices whose log is not the server's: {differing:#?}");
    assert!(problems.is_empty(), "devices' problems: {problems:#?}");
    assert_eq!(gaps, 0, "PostgreSQL's log has gaps");
    assert_eq!((acked_but_not_there, acked_twice), (0, 0), "acknowledged events not on the server as acknowledged");
    assert_eq!(duplicates, 0, "events on the server twice");
    assert_eq!((lost, discarded_yet_there), (0, 0), "events neither on the server nor discarded, or both");
    assert_eq!(log.len(), recorded - discarded, "the server has every event recorded but those discarded");
    assert!(kills.cut_at.iter().all(|n| *n >= 1), "kills that cut a push off, by moment: {:?} ({} kills)", kills.cut_at, kills.kills);
    assert!(
        kills.committed >= 1 && kills.not_committed >= 1,
        "pushes cut off, committed and not: {} and {}",
        kills.committed,
        kills.not_committed
    );
    drop(b);
}
