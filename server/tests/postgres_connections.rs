//! A server process's connections to a database: each database thread's own,
//! at most the budget open at a time, given back when a thread lets its
//! connection go; a server's threads let theirs go after ten seconds without
//! work, and at once when another thread waits for a place. Needs `TRIBUTARY_TEST_POSTGRES` (`source scripts/postgres.sh`).

mod support;

use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::json;
use support::{data_folder, post, Server, TOKEN};
use tributary_server::postgres::{let_idle_go, Database};

/// How many connections the database sees with this application name, once
/// it is `expected` (a closed connection's backend takes a moment to go).
async fn open_connections(url: &str, name: &str, expected: i64) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let mut seen = -1;
    for _ in 0..100 {
        let row = client.query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&name]).await.unwrap();
        seen = row.get(0);
        if seen == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

#[test]
fn threads_hold_at_most_the_budget_and_give_connections_back_when_idle() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let name = format!("budget_{}", uuid::Uuid::new_v4().simple());
        let base = std::env::var("TRIBUTARY_TEST_POSTGRES").expect("TRIBUTARY_TEST_POSTGRES: source scripts/postgres.sh");
        let url = format!("{base}?application_name={name}");
        // given a database with a budget of two, and three threads' pools
        let database = Database::open(&url, 2).await.unwrap();
        let (a, b, c) = (database.for_this_thread().unwrap(), database.for_this_thread().unwrap(), database.for_this_thread().unwrap());
        // when two of them hold a connection
        let (held_a, held_b) = (a.get().await.unwrap(), b.get().await.unwrap());
        assert_eq!(open_connections(&base, &name, 2).await, 2);
        // then the third waits for a place
        assert!(tokio::time::timeout(Duration::from_millis(500), c.get()).await.is_err(), "a third connection beyond the budget");
        // and gets one once a thread lets its idle connection go
        drop(held_a);
        let_idle_go(&a);
        let held_c = tokio::time::timeout(Duration::from_secs(5), c.get()).await.expect("a place given back").unwrap();
        held_c.simple_query("SELECT 1").await.unwrap();
        assert_eq!(open_connections(&base, &name, 2).await, 2);
        // and a connection in use is not let go
        let_idle_go(&b);
        held_b.simple_query("SELECT 1").await.unwrap();
        drop((held_b, held_c));
        let_idle_go(&b);
        let_idle_go(&c);
        assert_eq!(open_connections(&base, &name, 0).await, 0, "connections let go stay open");
    });
}

#[test]
fn a_servers_database_threads_let_their_connections_go_after_ten_idle_seconds_and_come_back_for_work() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let name = format!("rest_{}", uuid::Uuid::new_v4().simple());
    let (base, database) = (support::postgres::cluster(), support::postgres::fresh_database());
    let server = Server::start(&data_folder("rest"), &["--database", &format!("{database}?application_name={name}")]);
    let client = uuid::Uuid::new_v4().to_string();
    let app = server.app("acme", "dogschool");
    let push = |version: u64| {
        let event = json!({ "position": version, "originator_id": uuid::Uuid::new_v4().simple().to_string(), "originator_version": 1,
                            "topic": "Dog.Registered", "state": STANDARD.encode("{}") });
        let body = json!({ "client_id": client, "events": [event] });
        let reply = post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&body).unwrap());
        assert_eq!(reply.status, 200, "{}", reply.text());
    };
    // given an application whose writer and two readers have connected (and
    // the process's listener, which stays)
    push(1);
    assert_eq!(runtime.block_on(open_connections(&base, &name, 4)), 4, "the listener's, the writer's and the readers' connections");
    // when nothing happens for ten seconds, the threads let theirs go
    let idle = Instant::now();
    assert_eq!(runtime.block_on(open_connections_within(&base, &name, 1, Duration::from_secs(25))), 1, "connections of idle threads");
    assert!(idle.elapsed() >= Duration::from_secs(9), "let go after {:?}, before ten idle seconds", idle.elapsed());
    // and the next push connects again
    push(2);
    assert_eq!(runtime.block_on(open_connections(&base, &name, 2)), 2, "the writer connected again");
}

/// As [`open_connections`], waiting up to `within`.
async fn open_connections_within(url: &str, name: &str, expected: i64, within: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let seen = open_connections(url, name, expected).await;
        if seen == expected || started.elapsed() > within {
            return seen;
        }
    }
}

/// More applications busy than the budget has places for their threads: an
/// application whose threads wait for a place gets one from a thread that
/// has nothing to do, not only once that thread has rested ten seconds (with
/// the others kept busy, never: its first request failed after the pool's
/// patience).
#[test]
fn an_application_opened_while_others_hold_every_place_is_served_at_once() {
    let database = support::postgres::fresh_database();
    let server = Server::start(&data_folder("starved"), &["--database", &database, "--database-connections", "3"]);
    let client = uuid::Uuid::new_v4().to_string();
    let push = |app: &str, position: u64| {
        let event = json!({ "position": position, "originator_id": uuid::Uuid::new_v4().simple().to_string(), "originator_version": 1,
                            "topic": "Dog.Registered", "state": STANDARD.encode("{}") });
        let body = json!({ "client_id": client, "events": [event] });
        post(&format!("{}/push", server.app("acme", app)), Some(TOKEN), &serde_json::to_vec(&body).unwrap())
    };
    // given one application whose writer and readers hold the three places, kept busy
    assert_eq!(push("busy", 1).status, 200);
    let busy = server.app("acme", "busy");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let keeping = std::thread::spawn({
        let stop = stop.clone();
        move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(support::get(&format!("{busy}/notifications?start=1&limit=10"), Some(TOKEN)).status, 200);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    // when another application is pushed to
    let started = Instant::now();
    let reply = push("other", 1);
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    keeping.join().unwrap();
    // then it is recorded, without waiting for the busy application's threads to rest
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(took < Duration::from_secs(5), "the push waited {took:?} for a connection");
}
