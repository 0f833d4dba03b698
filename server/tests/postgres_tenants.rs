//! Tenants spread over databases (`--tenant-database NAME=URL`), over real
//! HTTP on the throwaway cluster: acme in one database, beta in another, served
//! by one process and by two with the same mapping. Devices of each tenant
//! converge; each tenant's events are in its own database's schema only; a
//! long-poll wakes on a push through the other process, whichever database
//! its tenant is in (a listening connection per database); the Python library
//! reads each tenant from its database. Built with `--features postgres-tests`
//! only: start a throwaway cluster first with `source scripts/postgres.sh`.

#[path = "syncing/devices.rs"]
mod devices;
#[path = "../../tests/contract/dog.rs"]
mod dog;
mod support;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use devices::{device_with, events, register, trick};
use futures::executor::block_on;
use serde_json::{json, Value};
use support::postgres::{cluster, fresh_database, Connection};
use support::{data_folder, get, post, refused, Server, OTHER_TOKEN, TOKEN};

/// acme's database and beta's.
struct Databases {
    acme: String,
    beta: String,
}

fn databases() -> Databases {
    Databases { acme: fresh_database(), beta: fresh_database() }
}

impl Databases {
    /// A process with acme in the default database and beta in its own.
    fn one(&self, test: &str) -> Server {
        Server::start(&data_folder(test), &["--database", &self.acme, "--tenant-database", &format!("beta={}", self.beta)])
    }

    /// A process with the same mapping, said the other way: each tenant in a
    /// database of its own, no default.
    fn other(&self, test: &str) -> Server {
        let (acme, beta) = (format!("acme={}", self.acme), format!("beta={}", self.beta));
        Server::start(&data_folder(test), &["--tenant-database", &acme, "--tenant-database", &beta])
    }
}

/// The schemas of a database that hold events tables, and how many events each holds.
fn events_by_schema(database: &str) -> Vec<(String, i64)> {
    let postgres = Connection::open(database);
    let tables = postgres.query("SELECT table_schema FROM information_schema.tables WHERE table_name = 'dogschool_events' ORDER BY 1");
    let schemas: Vec<String> = tables.iter().map(|row| row.get(0)).collect();
    schemas
        .into_iter()
        .map(|schema| {
            let count: i64 = postgres.query(&format!("SELECT count(*) FROM \"{schema}\".dogschool_events"))[0].get(0);
            (schema, count)
        })
        .collect()
}

#[test]
fn each_tenants_devices_converge_through_one_process_and_two_and_its_events_stay_in_its_database() {
    let databases = databases();
    let (one, other) = (databases.one("tenants-one"), databases.other("tenants-other"));
    block_on(async {
        for (tenant, token) in [("acme", TOKEN), ("beta", OTHER_TOKEN)] {
            // two devices on the first process, one on the other
            let devices = [
                device_with(&one.app(tenant, "dogschool"), token),
                device_with(&one.app(tenant, "dogschool"), token),
                device_with(&other.app(tenant, "dogschool"), token),
            ];
            for (k, device) in devices.iter().enumerate() {
                let dog = register(device, &format!("{tenant} dog {k}")).await;
                for n in 0..=k {
                    device.app.record(&[trick(dog, &format!("{tenant} trick {n}"))]).await.unwrap();
                }
            }
            for _ in 0..2 {
                for device in &devices {
                    device.sync.round(&mut |_| {}).await.unwrap();
                }
            }
            let first = events(&devices[0].app).await;
            assert_eq!(first.len(), 3 + 6, "{tenant}: every device's events");
            for device in &devices[1..] {
                assert_eq!(events(&device.app).await, first, "{tenant}: the devices converged");
            }
        }
    });
    // each tenant's events in its database's schema, and no trace of it in the other
    assert_eq!(events_by_schema(&databases.acme), vec![("acme".to_owned(), 9)]);
    assert_eq!(events_by_schema(&databases.beta), vec![("beta".to_owned(), 9)]);
    // both processes serve each tenant the same log
    for (tenant, token) in [("acme", TOKEN), ("beta", OTHER_TOKEN)] {
        let url = |server: &Server| format!("{}/notifications?start=1&limit=100", server.app(tenant, "dogschool"));
        let log = get(&url(&one), Some(token)).json();
        assert_eq!(log.as_array().map(Vec::len), Some(9), "{tenant}: {log}");
        assert_eq!(log, get(&url(&other), Some(token)).json(), "{tenant}");
    }
}

const CLIENT: &str = "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69";
const DOG: &str = "12345678123456781234567812345678";

/// Pushes events `(version, topic, state)` of [`DOG`] to an application (each at the position of its version).
fn push(app: &str, token: &str, events: &[(u64, &str, &str)]) {
    let events: Vec<Value> = events
        .iter()
        .map(|(version, topic, state)| {
            json!({ "position": version, "originator_id": DOG, "originator_version": version, "topic": topic, "state": STANDARD.encode(state) })
        })
        .collect();
    let reply = post(&format!("{app}/push"), Some(token), &serde_json::to_vec(&json!({ "client_id": CLIENT, "events": events })).unwrap());
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Starts a long-poll for a head past `after`; joins to (its answer, how long it took).
fn wait(app: &str, token: &str, after: u64) -> thread::JoinHandle<(Value, Duration)> {
    let (url, token) = (format!("{app}/wait?after={after}&timeout_ms=20000"), token.to_owned());
    thread::spawn(move || {
        let began = Instant::now();
        let reply = get(&url, Some(&token));
        assert_eq!(reply.status, 200, "{}", reply.text());
        (reply.json(), began.elapsed())
    })
}

#[test]
fn a_long_poll_on_either_tenant_wakes_on_a_push_through_the_other_process() {
    let databases = databases();
    let (one, other) = (databases.one("tenants-wait-one"), databases.other("tenants-wait-other"));
    for (tenant, token) in [("beta", OTHER_TOKEN), ("acme", TOKEN)] {
        for (after, (waiting_on, pushed_to)) in [(&one, &other), (&other, &one)].into_iter().enumerate() {
            let after = after as u64;
            let waiting = wait(&waiting_on.app(tenant, "dogschool"), token, after);
            thread::sleep(Duration::from_millis(500));
            push(&pushed_to.app(tenant, "dogschool"), token, &[(after + 1, "dogschool:Dog.TrickAdded", "{}")]);
            let (answer, took) = waiting.join().unwrap();
            assert_eq!(answer["max_notification_id"], after + 1, "{tenant}");
            assert!(took < Duration::from_secs(5), "{tenant}: the wait took {took:?}, not woken by the other process's push");
        }
    }
}

#[test]
fn the_python_library_reads_each_tenant_from_its_database_and_its_writes_wake_a_long_poll() {
    let databases = databases();
    let server = databases.one("tenants-python");
    let time = r#"{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:05.678901+00:00"}"#;
    for (tenant, token, database, name) in [("acme", TOKEN, &databases.acme, "Rex"), ("beta", OTHER_TOKEN, &databases.beta, "Fido")] {
        let app = server.app(tenant, "dogschool");
        let registered = format!(r#"{{"timestamp":{time},"originator_topic":"dogschool:Dog","name":"{name}"}}"#);
        push(&app, token, &[(1, "dogschool:Dog.Registered", &registered)]);
        let waiting = wait(&app, token, 1);
        // PERSISTENCE_MODULE=eventsourcing.postgres, POSTGRES_DBNAME the tenant's database, POSTGRES_SCHEMA the tenant
        let (rest, dbname) = database.rsplit_once('/').unwrap();
        let (host, port) = rest.rsplit_once('@').unwrap().1.rsplit_once(':').unwrap();
        let dog = uuid::Uuid::parse_str(DOG).unwrap().to_string();
        let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-peers/bin/python"))
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/postgres_dogs.py"))
            .args([dbname, host, port, tenant, &dog, "sit"])
            .output()
            .expect("the Python peers (bash scripts/setup.sh)");
        assert!(output.status.success(), "{tenant}: {}", String::from_utf8_lossy(&output.stderr));
        let python: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(python["before"], json!({"name": name, "tricks": [], "version": 1}), "{tenant}");
        assert_eq!(python["after"], json!({"name": name, "tricks": ["sit"], "version": 2}), "{tenant}");
        assert_eq!(python["log"], json!([[1, DOG, 1, "dogschool:Dog.Registered"], [2, DOG, 2, "dogschool:Dog.TrickAdded"]]));
        let (answer, took) = waiting.join().unwrap();
        assert_eq!(answer["max_notification_id"], 2, "{tenant}: woken by Python's NOTIFY in its database");
        assert!(took < Duration::from_secs(15), "{tenant}: the wait took {took:?}");
    }
    assert_eq!(events_by_schema(&databases.acme), vec![("acme".to_owned(), 2)]);
    assert_eq!(events_by_schema(&databases.beta), vec![("beta".to_owned(), 2)]);
}

#[test]
fn a_mapping_to_a_database_the_cluster_does_not_have_stops_the_server_naming_the_tenant() {
    let acme = fresh_database();
    let missing = format!("{}/no_such_database", cluster().rsplit_once('/').unwrap().0);
    let data = data_folder("tenants-missing").display().to_string();
    let (acme_token, beta_token) = (format!("acme={TOKEN}"), format!("beta={OTHER_TOKEN}"));
    let beta = format!("beta={missing}");
    let (status, stderr) =
        refused(&["--data", &data, "--tenant", &acme_token, "--tenant", &beta_token, "--database", &acme, "--tenant-database", &beta]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot use the database of beta:"), "{stderr}");
    assert!(stderr.contains("database \"no_such_database\" does not exist"), "{stderr}");
}
