//! Pages of `/notifications` as devices pull them (the newest are kept encoded
//! by each server process) against the same reads with a topic filter (read
//! from the log every time), under generated pushes and pulls through one or
//! more server processes of one application.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use super::{get, post, Rng, TOKEN};

const TOPICS: [&str; 2] = ["Dog.TrickAdded", "Dog.Renamed"];

/// Runs `steps` generated pushes and pulls through the applications at `apps`
/// (base URLs of one application, on one or more processes); every page
/// pulled must be the one read from the log.
pub fn pulled_pages_are_the_log(apps: &[String], seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let dogs: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let clients: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (mut versions, mut positions, mut head, mut compared) = ([0u64; 3], [0u64; 3], 0u64, 0usize);
    for step in 0..steps {
        let app = rng.pick(apps).clone();
        if rng.next() % 3 == 0 {
            let (dog, client) = ((rng.next() % 3) as usize, (rng.next() % 3) as usize);
            let events: Vec<Value> = (0..1 + rng.next() % 20)
                .map(|_| {
                    versions[dog] += 1;
                    positions[client] += 1;
                    let state: Vec<u8> = (0..rng.next() % 300).map(|_| rng.next() as u8).collect();
                    json!({ "position": positions[client], "originator_id": dogs[dog], "originator_version": versions[dog],
                            "topic": rng.pick(&TOPICS), "state": STANDARD.encode(state) })
                })
                .collect();
            let body = json!({ "client_id": clients[client], "events": events });
            let reply = post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&body).unwrap());
            assert_eq!(reply.status, 200, "step {step}: {}", reply.text());
            head = reply.json()["notification_ids"].as_array().unwrap().iter().filter_map(Value::as_u64).fold(head, u64::max);
        } else {
            let (start, limit) = (rng.next() % (head + 3), 1 + rng.next() % 40);
            let url = format!("{app}/notifications?start={start}&limit={limit}");
            let pulled = get(&url, Some(TOKEN));
            let read = get(&format!("{url}&topics={}", TOPICS.join(",")), Some(TOKEN));
            assert_eq!((pulled.status, read.status), (200, 200), "step {step}: {}", pulled.text());
            assert_eq!(pulled.text(), read.text(), "step {step}: {url}");
            compared += pulled.json().as_array().unwrap().len();
        }
    }
    assert!(head > 100 && compared > 1000, "the run pushed and compared too little: {head} events, {compared} compared");
}
