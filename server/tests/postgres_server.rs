//! The server on PostgreSQL, over real HTTP: two server processes on one
//! database wake each other's long-polls (LISTEN/NOTIFY), and the Python
//! library, opened on the same tables, reads what was pushed and its writes
//! wake a waiting device too. (Devices converging while one process is killed
//! mid-push: `postgres_kill.rs`.)
//! Built with `--features postgres-tests` only: start a throwaway cluster first
//! with `source scripts/postgres.sh`.

mod support;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};
use support::postgres::{fresh_database, sql, start};
use support::{get, post, TOKEN};

fn push(app: &str, client: &str, events: &[(u64, &str, u64, &str, &str)]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|(position, id, version, topic, state)| {
            json!({ "position": position, "originator_id": id, "originator_version": version, "topic": topic, "state": STANDARD.encode(state) })
        })
        .collect();
    let reply = post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&json!({ "client_id": client, "events": events })).unwrap());
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// Starts a long-poll for a head past `after`; joins to (its answer, how long it took).
fn wait(app: &str, after: u64) -> thread::JoinHandle<(Value, Duration)> {
    let url = format!("{app}/wait?after={after}&timeout_ms=20000");
    thread::spawn(move || {
        let began = Instant::now();
        let reply = get(&url, Some(TOKEN));
        assert_eq!(reply.status, 200, "{}", reply.text());
        (reply.json(), began.elapsed())
    })
}

const CLIENT: &str = "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69";
const DOG: &str = "12345678123456781234567812345678";

#[test]
fn a_push_through_one_server_wakes_a_long_poll_on_another() {
    let database = fresh_database();
    let (one, other) = (start(&database, "pg-one"), start(&database, "pg-other"));
    let (on_one, on_other) = (one.app("acme", "dogs"), other.app("acme", "dogs"));
    for (round, (pushed_to, waiting_on)) in [(&on_one, &on_other), (&on_other, &on_one)].into_iter().enumerate() {
        let round = round as u64;
        let waiting = wait(waiting_on, round);
        thread::sleep(Duration::from_millis(500));
        let reply = push(pushed_to, CLIENT, &[(round + 1, DOG, round + 1, "Dog.TrickAdded", "{}")]);
        assert_eq!(reply["notification_ids"], json!([round + 1]));
        let (answer, took) = waiting.join().unwrap();
        assert_eq!(answer["max_notification_id"], round + 1, "round {round}");
        assert!(took < Duration::from_secs(5), "round {round}: the wait took {took:?}, not woken by the push");
    }
    let log = get(&format!("{on_one}/notifications?start=1&limit=10"), Some(TOKEN)).json();
    assert_eq!(log.as_array().map(Vec::len), Some(2), "{log}");
    assert_eq!(log, get(&format!("{on_other}/notifications?start=1&limit=10"), Some(TOKEN)).json());
    // the other tenant's application of the same name is another schema's: it saw nothing
    let beta = get(&format!("{}/beta/dogs/log/1,10", other.base), Some(support::OTHER_TOKEN));
    assert_eq!(beta.json()["items"], json!([]));
}

#[test]
fn long_polls_wake_again_once_the_listening_connection_is_cut_and_made_again() {
    let database = fresh_database();
    let (one, other) = (start(&database, "pg-cut-one"), start(&database, "pg-cut-other"));
    let (on_one, on_other) = (one.app("acme", "dogs"), other.app("acme", "dogs"));
    assert_eq!(get(&format!("{on_other}/log/1,10"), Some(TOKEN)).status, 200);
    // every listening connection (both servers') goes
    let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE datname = current_database() AND application_name = 'tributary-server listener'";
    assert_eq!(sql(&database, cut), 2, "both servers' listening connections");
    // a push while the listeners are away wakes no one, but reconnecting reads the head
    let waiting = wait(&on_other, 0);
    push(&on_one, CLIENT, &[(1, DOG, 1, "Dog.TrickAdded", "{}")]);
    let (answer, took) = waiting.join().unwrap();
    assert_eq!(answer["max_notification_id"], 1);
    assert!(took < Duration::from_secs(10), "the wait took {took:?}");
    // and the new connection listens: the next push wakes the next wait at once
    thread::sleep(Duration::from_secs(1));
    let waiting = wait(&on_other, 1);
    thread::sleep(Duration::from_millis(300));
    push(&on_one, CLIENT, &[(2, DOG, 2, "Dog.TrickAdded", "{}")]);
    let (answer, took) = waiting.join().unwrap();
    assert_eq!(answer["max_notification_id"], 2);
    assert!(took < Duration::from_secs(5), "the wait took {took:?}");
}

/// Pushes a body to an application; the reply's status and JSON.
fn push_raw(app: &str, client: &str, position: u64, dog: &str, version: u64) -> (u16, Value) {
    let event = json!({ "position": position, "originator_id": dog, "originator_version": version, "topic": "Dog.TrickAdded", "state": STANDARD.encode("{}") });
    let reply = post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&json!({ "client_id": client, "events": [event] })).unwrap());
    (reply.status, reply.json())
}

#[test]
fn pushes_racing_through_two_servers_are_recorded_once_or_refused_with_their_conflicts() {
    let database = fresh_database();
    let (one, other) = (start(&database, "pg-race-one"), start(&database, "pg-race-other"));
    let apps = [one.app("acme", "dogs"), other.app("acme", "dogs")];
    for round in 1..=10u64 {
        // the same push through both: recorded once, both answered with its id
        let same: Vec<_> = apps.iter().cloned().map(|app| thread::spawn(move || push_raw(&app, CLIENT, round, DOG, round))).collect();
        let answers: Vec<_> = same.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(answers[0], answers[1], "round {round}");
        assert_eq!(answers[0].0, 200, "round {round}: {:?}", answers[0]);
        // two clients for one version: one wins, the other is refused with the conflict listed
        let rivals = ["7a2d1c0b-1111-4222-8333-944455556666", "0c1d2e3f-2222-4333-8444-555566667777"];
        let cat = format!("{round:032x}");
        let racing: Vec<_> = apps
            .iter()
            .cloned()
            .zip(rivals)
            .map(|(app, client)| {
                let cat = cat.clone();
                thread::spawn(move || push_raw(&app, client, round, &cat, 1))
            })
            .collect();
        let mut answers: Vec<_> = racing.into_iter().map(|t| t.join().unwrap()).collect();
        answers.sort_by_key(|(status, _)| *status);
        assert_eq!((answers[0].0, answers[1].0), (200, 409), "round {round}: {answers:?}");
        assert_eq!(answers[1].1["conflicts"][0]["originator_version"], 1, "round {round}: {answers:?}");
    }
    let log = get(&format!("{}/notifications?start=1&limit=100", apps[1]), Some(TOKEN)).json();
    let ids: Vec<u64> = log.as_array().unwrap().iter().map(|n| n["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>(), "no gaps, nothing twice");
}

#[test]
fn the_python_library_reads_what_was_pushed_and_its_writes_wake_a_long_poll() {
    let database = fresh_database();
    let server = start(&database, "pg-python");
    let app = server.app("acme", "dogschool");
    let time = r#"{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:05.678901+00:00"}"#;
    let registered = format!(r#"{{"timestamp":{time},"originator_topic":"dogschool:Dog","name":"Rex"}}"#);
    let sat = format!(r#"{{"timestamp":{time},"trick":"sit"}}"#);
    push(&app, CLIENT, &[(1, DOG, 1, "dogschool:Dog.Registered", &registered), (2, DOG, 2, "dogschool:Dog.TrickAdded", &sat)]);

    let waiting = wait(&app, 2);
    let (rest, dbname) = database.rsplit_once('/').unwrap();
    let (host, port) = rest.rsplit_once('@').unwrap().1.rsplit_once(':').unwrap();
    let dog = uuid::Uuid::parse_str(DOG).unwrap().to_string();
    let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-peers/bin/python"))
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/postgres_dogs.py"))
        .args([dbname, host, port, "acme", &dog, "roll"])
        .output()
        .expect("the Python peers (bash scripts/setup.sh)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let python: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(python["before"], json!({"name": "Rex", "tricks": ["sit"], "version": 2}));
    assert_eq!(python["after"], json!({"name": "Rex", "tricks": ["sit", "roll"], "version": 3}));
    assert_eq!(
        python["log"],
        json!([[1, DOG, 1, "dogschool:Dog.Registered"], [2, DOG, 2, "dogschool:Dog.TrickAdded"], [3, DOG, 3, "dogschool:Dog.TrickAdded"]])
    );

    let (answer, took) = waiting.join().unwrap();
    assert_eq!(answer["max_notification_id"], 3, "woken by Python's NOTIFY (no payload): the head is read");
    assert!(took < Duration::from_secs(15), "the wait took {took:?}");
    let log = get(&format!("{app}/log/1,10"), Some(TOKEN)).json();
    assert_eq!(log["id"], "1,3");
    assert_eq!(log["items"][2]["topic"], "dogschool:Dog.TrickAdded");
    // and the server still refuses a version Python took
    let taken = post(
        &format!("{app}/push"),
        Some(TOKEN),
        &serde_json::to_vec(&json!({ "client_id": "7a2d1c0b-1111-4222-8333-944455556666", "events": [
            { "position": 1, "originator_id": DOG, "originator_version": 3, "topic": "dogschool:Dog.TrickAdded", "state": STANDARD.encode(&sat) }
        ]}))
        .unwrap(),
    );
    assert_eq!(taken.status, 409, "{}", taken.text());
}

#[test]
fn pulled_pages_are_the_log_while_devices_push_and_pull_through_two_servers() {
    let database = fresh_database();
    let (one, two) = (start(&database, "pages-one"), start(&database, "pages-two"));
    let apps = [one.app("acme", "dogschool"), two.app("acme", "dogschool")];
    support::pages::pulled_pages_are_the_log(&apps, 0x9a9e_5eed_0000_0002, 400);
}

/// `dog.school` and `dog_school` share Python's channel (`.` becomes `_` in
/// it), but not their logs: a push to one moves neither the head nor the
/// long-polls of the other.
#[test]
fn applications_that_share_a_channel_keep_their_own_heads() {
    let database = fresh_database();
    let server = start(&database, "pg-channel");
    let (dotted, underscored) = (server.app("acme", "dog.school"), server.app("acme", "dog_school"));
    assert_eq!(get(&format!("{underscored}/log/1,10"), Some(TOKEN)).status, 200, "open, and listening");
    let reply = push(&dotted, CLIENT, &[(1, DOG, 1, "Dog.Registered", "{}"), (2, DOG, 2, "Dog.TrickAdded", "{}")]);
    assert_eq!(reply["notification_ids"], json!([1, 2]));
    thread::sleep(Duration::from_millis(500));
    let began = Instant::now();
    let idle = get(&format!("{underscored}/wait?after=0&timeout_ms=1000"), Some(TOKEN));
    assert_eq!(idle.json(), json!({ "max_notification_id": 0 }), "its log is empty");
    assert!(began.elapsed() >= Duration::from_millis(900), "not woken by the other log: {:?}", began.elapsed());
    assert_eq!(get(&format!("{dotted}/wait?after=0&timeout_ms=1000"), Some(TOKEN)).json(), json!({ "max_notification_id": 2 }));
}

/// A topic with a NUL selects nothing, as on SQLite (PostgreSQL's text
/// cannot hold one, so no stored topic has it): not a refusal of the page.
#[test]
fn a_topic_with_a_nul_selects_nothing_as_on_sqlite() {
    let database = fresh_database();
    let server = start(&database, "pg-nul-topic");
    let app = server.app("acme", "dogs");
    push(&app, CLIENT, &[(1, DOG, 1, "Dog.Registered", "{}")]);
    let page = |topics: &str| get(&format!("{app}/notifications?start=1&limit=10&topics={topics}"), Some(TOKEN));
    let none = page("Dog%00");
    assert_eq!((none.status, none.json()), (200, json!([])), "{}", none.text());
    let some = page("Dog%00,Dog.Registered");
    assert_eq!(some.status, 200, "{}", some.text());
    assert_eq!(some.json().as_array().map(Vec::len), Some(1));
}
