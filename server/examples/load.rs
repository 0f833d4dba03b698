//! The load generator: N simulated devices push and pull concurrently against
//! real tributary-server processes on loopback, bounded in time and count,
//! and print events/s accepted, push latency (p50/p99), pull lag (from a
//! push's acknowledgement to another device pulling it, p50/p99) and the CPU
//! time the server processes and the generator itself used. Written in Rust
//! with blocking HTTP on a thread per device, so that the generator, which
//! shares the machine, costs little next to what it measures.
//!
//!   cargo run --release -p tributary-server --example load -- [--devices 8] [--seconds 10]
//!       [--max-events 200000] [--batch 50] [--postgres URL] [--pull yes|no] [--targets sqlite,pg1,pg2]
//!
//! Targets: SQLite, and with --postgres PostgreSQL behind one and behind two
//! server processes (devices spread over them, each pulling through another
//! process than the one it pushes to).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Parser;
use serde::Deserialize;
use tributary::sync::protocol::PushReply;
use uuid::Uuid;

const TOKEN: &str = "load-test-token";

#[derive(Parser)]
struct Options {
    #[arg(long, default_value_t = 8)]
    devices: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 200_000)]
    max_events: u64,
    #[arg(long, default_value_t = 50)]
    batch: u64,
    /// A PostgreSQL database for the PostgreSQL targets (none: skipped).
    #[arg(long)]
    postgres: Option<String>,
    /// Whether devices also pull everyone's events (`no`: pushes only, the
    /// work the Python library's figure measures).
    #[arg(long, default_value = "yes")]
    pull: String,
    #[arg(long, default_value = "sqlite,pg1,pg2")]
    targets: String,
}

/// A server process, killed when dropped (a failing run leaves none behind).
struct ServerProcess {
    child: Child,
    base: String,
}

impl ServerProcess {
    fn start(args: &[&str]) -> ServerProcess {
        let binary = std::env::var_os("TRIBUTARY_SERVER").map(PathBuf::from).unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the generator's own path");
            exe.parent().and_then(|examples| examples.parent()).expect("target/<profile>/examples").join("tributary-server")
        });
        let mut child = Command::new(&binary)
            .args(["--listen", "127.0.0.1:0", "--tenant", &format!("load={TOKEN}")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e} (build it: cargo build --release -p tributary-server)", binary.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout")).read_line(&mut line).expect("the server prints where it listens");
        let base = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(base.starts_with("http://"), "the server did not start: {line:?}");
        ServerProcess { child, base }
    }

    /// CPU seconds (user + system) the process has used so far.
    fn cpu(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds of a process, from its `/proc/.../stat` (0 where unreadable).
fn cpu_seconds(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the command (which may hold spaces) end with ')'; utime and stime are the 14th and 15th.
    let fields: Vec<&str> = text.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used so far by each PostgreSQL process on the machine, by
/// pid (the cluster's backends are not children of anything here).
fn postgres_cpu() -> HashMap<u32, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return HashMap::new() };
    entries
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse::<u32>().ok()?, entry.path().join("stat"))))
        .filter(|(_, stat)| std::fs::read_to_string(stat).is_ok_and(|text| text.contains("(postgres)")))
        .map(|(pid, stat)| (pid, cpu_seconds(&stat.display().to_string())))
        .collect()
}

/// The PostgreSQL CPU seconds used since `before` (by processes still there;
/// a backend that started meanwhile counts from zero).
fn postgres_cpu_since(before: &HashMap<u32, f64>) -> f64 {
    postgres_cpu().iter().map(|(pid, now)| now - before.get(pid).copied().unwrap_or(0.0)).sum()
}

/// The machine's CPU time so far, by kind, from the first line of
/// `/proc/stat` (user, nice, system, idle, iowait, irq, softirq, steal, ...).
fn machine_cpu() -> Vec<u64> {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    text.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|n| n.parse().ok()).collect()
}

/// What else the machine did since `before`, as shares of its CPU time: what
/// its host took (steal), and what processes other than the `measured` ones
/// used (their CPU seconds). A run's figures fall with either, ours and
/// Python's alike, so each line says both.
fn machine_shares(before: &[u64], measured: f64) -> (f64, f64) {
    let spent: Vec<f64> = machine_cpu().iter().zip(before).map(|(now, then)| now.saturating_sub(*then) as f64).collect();
    let kind = |i: usize| spent.get(i).copied().unwrap_or(0.0);
    let total = spent.iter().sum::<f64>().max(1.0);
    // user, nice, system, irq, softirq, in ticks of 1/100 s, as /proc/.../stat counts.
    let busy = kind(0) + kind(1) + kind(2) + kind(5) + kind(6);
    (100.0 * kind(7) / total, (100.0 * (busy - 100.0 * measured) / total).max(0.0))
}

/// What the devices of one run share.
struct Run {
    deadline: Instant,
    max_events: u64,
    accepted: AtomicU64,
    newest: AtomicU64,
    acked: Mutex<HashMap<u64, Instant>>,
    latencies: Mutex<Vec<f64>>,
    lags: Mutex<Vec<f64>>,
}

impl Run {
    fn more(&self) -> bool {
        Instant::now() < self.deadline && self.accepted.load(Ordering::Relaxed) < self.max_events
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// A device's pushes, encoded before the run starts: the devices share the
/// machine with what they measure, so they do as little as they can meanwhile.
fn bodies(max_events: u64, devices: usize, batch: u64) -> Vec<String> {
    let client = Uuid::new_v4();
    let aggregate = Uuid::new_v4().simple().to_string();
    // A small state as the Python library's transcoder writes it.
    let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let pushes = max_events.div_ceil(batch * devices as u64);
    let mut position = 0;
    (0..pushes)
        .map(|_| {
            let mut body = format!("{{\"client_id\":\"{client}\",\"events\":[");
            for i in 0..batch {
                position += 1;
                let state =
                    format!("{{\"timestamp\":{{\"_type_\":\"datetime_iso\",\"_data_\":\"{timestamp}\"}},\"trick\":\"trick {position}\"}}");
                let _ = write!(
                    body,
                    "{}{{\"position\":{position},\"originator_id\":\"{aggregate}\",\"originator_version\":{position},\"topic\":\"Dog.TrickAdded\",\"state\":\"{}\"}}",
                    if i == 0 { "" } else { "," },
                    STANDARD.encode(state)
                );
            }
            body.push_str("]}");
            body
        })
        .collect()
}

/// A device pushing batches of new events of its own aggregate; it notes when
/// each event was acknowledged only if others pull.
fn pusher(run: &Run, url: &str, bodies: Vec<String>, pulls: bool) {
    let agent = agent();
    let push_url = format!("{url}/push");
    let authorization = format!("Bearer {TOKEN}");
    for body in bodies {
        if !run.more() {
            break;
        }
        let sent = Instant::now();
        let mut response = agent
            .post(&push_url)
            .header("authorization", &authorization)
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .expect("the server answers a push");
        let status = response.status();
        let text = response.body_mut().read_to_vec().expect("the push's reply");
        assert!(status == 200, "push: {status} {}", String::from_utf8_lossy(&text));
        let reply: PushReply = serde_json::from_slice(&text).expect("a push reply");
        let now = Instant::now();
        run.latencies.lock().unwrap().push((now - sent).as_secs_f64() * 1000.0);
        if pulls {
            let mut acked = run.acked.lock().unwrap();
            for id in &reply.notification_ids {
                acked.insert(*id, now);
            }
        }
        run.newest.fetch_max(reply.notification_ids.iter().copied().max().unwrap_or(0), Ordering::Relaxed);
        run.accepted.fetch_add(reply.notification_ids.len() as u64, Ordering::Relaxed);
    }
}

#[derive(Deserialize)]
struct Item {
    id: u64,
}

/// A device pulling everyone's events, waiting for more when it has them all.
fn puller(run: &Run, url: &str) {
    let agent = agent();
    let mut position = 0;
    loop {
        let mut response = agent
            .get(&format!("{url}/notifications?start={}&limit=1000", position + 1))
            .header("authorization", &format!("Bearer {TOKEN}"))
            .call()
            .expect("the server answers a pull");
        let text = response.body_mut().with_config().limit(256 << 20).read_to_vec().expect("the pull's reply");
        let page: Vec<Item> = serde_json::from_slice(&text).expect("a page of notifications");
        let now = Instant::now();
        let acked = run.acked.lock().unwrap();
        let mut lags: Vec<f64> = page.iter().filter_map(|item| acked.get(&item.id)).map(|at| (now - *at).as_secs_f64() * 1000.0).collect();
        drop(acked);
        run.lags.lock().unwrap().append(&mut lags);
        position = page.last().map_or(position, |item| item.id);
        if page.len() == 1000 {
            continue;
        }
        if !run.more() && position >= run.newest.load(Ordering::Relaxed) {
            return;
        }
        let _ =
            agent.get(&format!("{url}/wait?after={position}&timeout_ms=1000")).header("authorization", &format!("Bearer {TOKEN}")).call();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((p / 100.0) * sorted.len() as f64) as usize).or(sorted.last()).copied().unwrap_or(f64::NAN)
}

/// Runs the devices against the applications at `urls` (device i pushes to
/// `urls[i % n]` and pulls from `urls[(i + 1) % n]`) and prints one line.
fn measure(options: &Options, label: &str, urls: &[String], servers: &[&ServerProcess]) {
    let mut pushes: Vec<Vec<String>> = (0..options.devices).map(|_| bodies(options.max_events, options.devices, options.batch)).collect();
    let pulls = options.pull != "no";
    let run = Run {
        deadline: Instant::now() + Duration::from_secs_f64(options.seconds),
        max_events: options.max_events,
        accepted: AtomicU64::new(0),
        newest: AtomicU64::new(0),
        acked: Mutex::new(HashMap::new()),
        latencies: Mutex::new(Vec::new()),
        lags: Mutex::new(Vec::new()),
    };
    let server_cpu = || servers.iter().map(|s| s.cpu()).sum::<f64>();
    let (cpu_before, own_before, postgres_before, machine_before) =
        (server_cpu(), cpu_seconds("/proc/self/stat"), postgres_cpu(), machine_cpu());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for device in 0..options.devices {
            let (run, push_url, pull_url) = (&run, &urls[device % urls.len()], &urls[(device + 1) % urls.len()]);
            let bodies = std::mem::take(&mut pushes[device]);
            scope.spawn(move || pusher(run, push_url, bodies, pulls));
            if pulls {
                scope.spawn(move || puller(run, pull_url));
            }
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let accepted = run.accepted.load(Ordering::Relaxed);
    let mut latencies = run.latencies.into_inner().unwrap();
    let mut lags = run.lags.into_inner().unwrap();
    latencies.sort_by(f64::total_cmp);
    lags.sort_by(f64::total_cmp);
    let (server, postgres, generator) =
        (server_cpu() - cpu_before, postgres_cpu_since(&postgres_before), cpu_seconds("/proc/self/stat") - own_before);
    let (host, others) = machine_shares(&machine_before, server + postgres + generator);
    println!(
        "{label:<28} {accepted:>8} events {:>8.0} ev/s  push p50 {:.1} ms p99 {:.1} ms  pull lag p50 {:.1} ms p99 {:.1} ms  \
         CPU s: server {:.1}, PostgreSQL {:.1}, generator {:.1}; host took {:.0}%, other processes {:.0}%",
        accepted as f64 / seconds,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        server,
        postgres,
        generator,
        host,
        others,
    );
}

fn main() {
    let options = Options::parse();
    let targets: Vec<&str> = options.targets.split(',').collect();
    println!(
        "{} devices, batches of {}, {}, at most {} s or {} events per target, loopback",
        options.devices,
        options.batch,
        if options.pull == "no" { "pushing only" } else { "each pushing and pulling everyone's events" },
        options.seconds,
        options.max_events
    );
    let data = tempfile::tempdir().expect("a temporary folder");
    if targets.contains(&"sqlite") {
        let sqlite = ServerProcess::start(&["--data", &data.path().display().to_string()]);
        measure(&options, "SQLite, 1 process", &[format!("{}/load/dogschool", sqlite.base)], &[&sqlite]);
    }
    let Some(postgres) = &options.postgres else {
        return println!("PostgreSQL: skipped (no --postgres URL; scripts/load.sh starts a throwaway cluster)");
    };
    // Fresh application names, so that a run starts on empty tables.
    let run = Uuid::new_v4().simple().to_string();
    let one = ServerProcess::start(&["--database", postgres]);
    if targets.contains(&"pg1") {
        measure(&options, "PostgreSQL, 1 process", &[format!("{}/load/pg1_{}", one.base, &run[..8])], &[&one]);
    }
    if targets.contains(&"pg2") {
        let two = ServerProcess::start(&["--database", postgres]);
        let app = format!("pg2_{}", &run[..8]);
        measure(
            &options,
            "PostgreSQL, 2 processes",
            &[format!("{}/load/{app}", one.base), format!("{}/load/{app}", two.base)],
            &[&one, &two],
        );
    }
}
