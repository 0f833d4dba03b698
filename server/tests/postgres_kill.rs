//! Devices syncing through two server processes on one PostgreSQL database
//! converge with every event once while one process is killed mid-push, again
//! and again. Built with `--features postgres-tests` only: start a throwaway
//! cluster first with `source scripts/postgres.sh`. The pieces are in `kill/`.

#[path = "../../tests/contract/dog.rs"]
mod dog;
mod kill;
mod support;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use futures::executor::block_on;
use kill::devices::{device, register, run_device, DeviceRun, DEVICES_PER_SERVER, SHARED_DOGS};
use kill::faults::{kill_mid_pushes, SERVER_A, SLOW_WRITES};
use kill::verdict::{report, Verdict};
use kill::watch::Watch;
use kill::{server_log, stored_log};
use support::postgres::{fresh_database, start, Connection};

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
    let postgres = Connection::open(&database);
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
    assert!(stored_log(&postgres) == log, "the served log is PostgreSQL's");
    let verdict = Verdict::of(&log, &watch.acks.lock().unwrap(), &setup, &runs);
    report(&verdict, &runs, &kills, &watch);
    println!("synced in {synced:.1?}, checked in {:.1?}", began.elapsed() - synced);

    verdict.assert();
    assert!(kills.cut_at.iter().all(|n| *n >= 1), "kills that cut a push off, by moment: {:?} ({} kills)", kills.cut_at, kills.kills);
    assert!(
        kills.committed >= 1 && kills.not_committed >= 1,
        "pushes cut off, committed and not: {} and {}",
        kills.committed,
        kills.not_committed
    );
    drop(b);
}
