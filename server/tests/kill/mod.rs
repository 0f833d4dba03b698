//! The kill test's pieces (`postgres_kill.rs` is the test): devices simulated
//! on threads ([`devices`]), what the test sees of their traffic ([`watch`]),
//! the faults, SIGKILLs aimed at moments of a push ([`faults`]), and the
//! checks of what the server holds against what devices did ([`verdict`]).
//! Here: what they share.
//! (`mod.rs` because each file directly under `tests/` is a test crate.)

pub mod devices;
pub mod faults;
pub mod verdict;
pub mod watch;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::Value;
use uuid::Uuid;

use crate::support::postgres::Connection;
use crate::support::{get, TOKEN};

/// An event as stored: (aggregate, version, topic, state bytes).
pub type Event = (Uuid, u64, String, Vec<u8>);

/// A small seeded generator (xorshift64*), so a failing run can be replayed by its seed.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Random(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// An event's label: its trick, or the name of the dog it registers.
pub fn label(state: &[u8]) -> String {
    let state: Value = serde_json::from_slice(state).expect("state is JSON");
    state.get("trick").or_else(|| state.get("name")).and_then(Value::as_str).expect("a trick or a name").to_owned()
}

/// An event for a message: its aggregate, version and label.
pub fn shown(event: &Event) -> String {
    format!("{} v{} {:?}", event.0, event.1, label(&event.3))
}

/// A server's whole log, page by page: (notification id, event).
pub fn server_log(app: &str) -> Vec<(u64, Event)> {
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

/// The application's log as PostgreSQL holds it: (notification id, event).
pub fn stored_log(postgres: &Connection) -> Vec<(u64, Event)> {
    let sql = "SELECT notification_id, originator_id, originator_version, topic, state FROM acme.dogschool_events ORDER BY notification_id";
    let rows = postgres.query(sql);
    rows.iter()
        .map(|row| {
            let (id, version): (i64, i64) = (row.get(0), row.get(2));
            (id as u64, (row.get(1), version as u64, row.get(3), row.get(4)))
        })
        .collect()
}
