//! The limit for the sync benchmark: 10,000 events written straight to a
//! server's SQLite file by a native loop, in batches as a push sends them.
//! `cargo run --release -p tributary-server --example sqlite_limit [events] [batch]`

use std::rc::Rc;
use std::time::Instant;

use tributary::persistence::{ApplicationRecorder, Recording, StoredEvent, Tracking};
use tributary_server::sqlite::SqliteRecorder;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("numbers"));
    let (events, batch) = (args.next().unwrap_or(10_000), args.next().unwrap_or(500));
    let path = std::env::temp_dir().join(format!("tributary-limit-{}.sqlite", uuid::Uuid::new_v4()));
    let recorder = Rc::new(SqliteRecorder::open(&path).unwrap());
    let dog = uuid::Uuid::new_v4();
    let state = br#"{"timestamp":{"_type_":"datetime_iso","_data_":"2024-01-02T03:04:05.678901+00:00"},"trick":"trick 42"}"#.to_vec();
    let started = Instant::now();
    futures::executor::block_on(async {
        for start in (1..=events).step_by(batch as usize) {
            let stored: Vec<StoredEvent> = (start..(start + batch).min(events + 1))
                .map(|v| StoredEvent { originator_id: dog, originator_version: v, topic: "Dog.TrickAdded".into(), state: state.clone() })
                .collect();
            let tracking = Tracking { application_name: "client:bench".into(), notification_id: stored.last().unwrap().originator_version };
            recorder.record(Recording { events: &stored, tracking: Some(&tracking), ..Recording::default() }).await.unwrap();
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    println!("{}", (events as f64 / seconds).round());
    let _ = std::fs::remove_file(&path);
}
