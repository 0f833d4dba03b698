//! The sync tests' bodies, written once for every storage of the server:
//! the core's sync client, natively, against the real server binary. Devices
//! converge, conflicts are kept and resolved, and nothing is lost or doubled
//! when replies are dropped, requests duplicated, or the server killed. Each
//! body takes how to start a server (given the test's name) on a fresh store;
//! a test file lists them once with [`sync_suite!`].
//! (`mod.rs` because each file directly under `tests/` is a test crate.)

#![allow(dead_code)]

pub mod devices;

use futures::executor::block_on;
use serde_json::json;
use tributary::sync::Resolution;
use tributary::Error;

use crate::dog::Dog;
use crate::support::proxy::{Fault, Proxy};
use crate::support::{Server, TOKEN};
use devices::{device, events, register, trick, Device};
use uuid::Uuid;

/// A `#[test]` per body, each starting its server with `$start` (an
/// expression of type `impl Fn(&str) -> Server`).
#[allow(unused_macros)]
macro_rules! sync_suite {
    ($start:expr) => {
        sync_suite!(@each $start, two_devices_converge_and_each_others_events_arrive_once,
            a_conflict_keeps_both_sides_and_a_rebase_records_the_lost_events_after_the_servers,
            a_rebase_that_the_aggregate_refuses_leaves_the_conflict,
            dropped_replies_and_duplicated_requests_lose_nothing_and_double_nothing,
            a_server_killed_mid_sync_and_restarted_loses_nothing_acknowledged,
            one_round_pulls_a_log_of_large_events_whole_over_pages_cut_for_their_size);
    };
    (@each $start:expr, $($test:ident),* $(,)?) => {
        $( #[test] fn $test() { crate::syncing::$test($start) } )*
    };
}

pub fn two_devices_converge_and_each_others_events_arrive_once(start: impl Fn(&str) -> Server) {
    let server = start("converge");
    let url = server.app("acme", "dogschool");
    block_on(async {
        let (one, two) = (device(&url), device(&url));
        let fido = register(&one, "Fido").await;
        for n in 0..20 {
            one.app.record(&[trick(fido, &format!("one {n}"))]).await.unwrap();
        }
        let rex = register(&two, "Rex").await;
        two.app.record(&[trick(rex, "sit")]).await.unwrap();
        let first = one.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!((first.pushed, first.pulled), (21, 0));
        let second = two.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!((second.pushed, second.pulled), (2, 21));
        let third = one.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!((third.pushed, third.pulled), (0, 2), "its own events came back and were not doubled");
        assert_eq!(events(&one.app).await, events(&two.app).await);
        assert_eq!(two.app.get::<Dog>(fido).await.unwrap().state().tricks.len(), 20);
        assert_eq!(one.sync.pending_count().await.unwrap(), 0);
        assert_eq!(one.sync.round(&mut |_| {}).await.unwrap(), tributary::sync::Progress { position: 23, ..Default::default() });
    });
}

/// Two devices that both have Fido, registered on the first and synced.
async fn two_knowing_fido(url: &str) -> (Device, Device, Uuid) {
    let (one, two) = (device(url), device(url));
    let fido = register(&one, "Fido").await;
    one.sync.round(&mut |_| {}).await.unwrap();
    two.sync.round(&mut |_| {}).await.unwrap();
    (one, two, fido)
}

pub fn a_conflict_keeps_both_sides_and_a_rebase_records_the_lost_events_after_the_servers(start: impl Fn(&str) -> Server) {
    let server = start("conflict");
    let url = server.app("acme", "dogschool");
    block_on(async {
        let (one, two, fido) = two_knowing_fido(&url).await;
        // both teach Fido a trick offline: both at version 2
        one.app.record(&[trick(fido, "sit")]).await.unwrap();
        two.app.record(&[trick(fido, "beg")]).await.unwrap();
        two.app.record(&[trick(fido, "roll")]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        let round = two.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!((round.conflicts, round.pushed), (1, 0));
        // the server's event won in two's log; two's events are kept aside, with their data
        assert_eq!(two.app.get::<Dog>(fido).await.unwrap().state().tricks, vec!["sit"]);
        let conflicts = two.sync.conflicts().await.unwrap();
        assert_eq!(conflicts.len(), 1);
        let conflict = &conflicts[0];
        assert_eq!(conflict.version, 2);
        assert_eq!(conflict.local.iter().map(|e| e.payload["trick"].clone()).collect::<Vec<_>>(), vec![json!("beg"), json!("roll")]);
        assert_eq!(conflict.server.iter().map(|e| e.payload["trick"].clone()).collect::<Vec<_>>(), vec![json!("sit")]);
        assert_eq!(two.sync.pending_count().await.unwrap(), 0, "lost events are not pushed");
        // rebase: recorded again after the server's newest, then pushed
        two.sync.resolve(conflict.id, Resolution::Rebase).await.unwrap();
        assert!(two.sync.conflicts().await.unwrap().is_empty());
        assert_eq!(two.sync.round(&mut |_| {}).await.unwrap().pushed, 2);
        one.sync.round(&mut |_| {}).await.unwrap();
        for device in [&one, &two] {
            assert_eq!(device.app.get::<Dog>(fido).await.unwrap().state().tricks, vec!["sit", "beg", "roll"]);
        }
        assert_eq!(events(&one.app).await, events(&two.app).await);
        // a discarded conflict goes on purpose; an unknown one is NotFound
        one.app.record(&[trick(fido, "stay")]).await.unwrap();
        two.app.record(&[trick(fido, "down")]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        two.sync.round(&mut |_| {}).await.unwrap();
        let lost = two.sync.conflicts().await.unwrap();
        two.sync.resolve(lost[0].id, Resolution::Discard).await.unwrap();
        assert!(two.sync.conflicts().await.unwrap().is_empty());
        assert!(matches!(two.sync.resolve(lost[0].id, Resolution::Discard).await, Err(Error::NotFound(_))));
        assert_eq!(two.app.get::<Dog>(fido).await.unwrap().state().tricks.last().unwrap(), "stay");
    });
}

pub fn a_rebase_that_the_aggregate_refuses_leaves_the_conflict(start: impl Fn(&str) -> Server) {
    let server = start("refused");
    let url = server.app("acme", "dogschool");
    block_on(async {
        let (one, two, fido) = two_knowing_fido(&url).await;
        one.app.record(&[trick(fido, "sit")]).await.unwrap();
        // an empty trick: Dog::apply refuses it (it was recorded before that rule, say)
        let event = tributary::DomainEvent::new(fido, 2, "Dog.TrickAdded", tributary::domain::now(), json!({ "trick": "" })).unwrap();
        two.app.save_events(&[event]).await.unwrap();
        one.sync.round(&mut |_| {}).await.unwrap();
        two.sync.round(&mut |_| {}).await.unwrap();
        let conflict = two.sync.conflicts().await.unwrap().remove(0);
        assert!(two.sync.resolve(conflict.id, Resolution::Rebase).await.is_err());
        assert_eq!(two.sync.conflicts().await.unwrap().len(), 1, "the conflict stays");
    });
}

pub fn dropped_replies_and_duplicated_requests_lose_nothing_and_double_nothing(start: impl Fn(&str) -> Server) {
    let server = start("faults");
    let mut count = 0u64;
    // every third request's reply is dropped after the server answered, every fifth is sent twice
    let proxy = Proxy::start(&server.base, move |_| {
        count += 1;
        match count % 15 {
            3 | 6 | 9 | 12 => Fault::DropReply,
            5 | 10 => Fault::Duplicate,
            _ => Fault::None,
        }
    });
    let url = format!("{}/acme/dogschool", proxy.base);
    block_on(async {
        let (one, two) = (device(&url), device(&url));
        let mut recorded = 0;
        for round in 0..12 {
            for (device, name) in [(&one, "one"), (&two, "two")] {
                let dog = register(device, &format!("{name} dog {round}")).await;
                for n in 0..(round % 4) {
                    device.app.record(&[trick(dog, &format!("{n}"))]).await.unwrap();
                }
                recorded += 1 + round % 4;
                // a round may fail on a dropped reply: the next one picks up
                let _ = device.sync.round(&mut |_| {}).await;
            }
        }
        proxy.set(|_| Fault::None);
        for _ in 0..2 {
            one.sync.round(&mut |_| {}).await.unwrap();
            two.sync.round(&mut |_| {}).await.unwrap();
        }
        let (a, b) = (events(&one.app).await, events(&two.app).await);
        assert_eq!(a, b);
        assert_eq!(a.len(), recorded as usize, "every event once: none lost, none doubled");
        let on_server =
            crate::support::get(&format!("{}/notifications?start=1&limit=10000", server.app("acme", "dogschool")), Some(TOKEN)).json();
        assert_eq!(on_server.as_array().unwrap().len(), recorded as usize);
        assert!(proxy.dropped.load(std::sync::atomic::Ordering::SeqCst) > 5);
        assert!(proxy.duplicated.load(std::sync::atomic::Ordering::SeqCst) > 3);
    });
}

pub fn a_server_killed_mid_sync_and_restarted_loses_nothing_acknowledged(start: impl Fn(&str) -> Server) {
    let server = start("killed");
    let url = server.app("acme", "dogschool");
    block_on(async {
        let one = device(&url);
        for n in 0..30 {
            let dog = register(&one, &format!("dog {n}")).await;
            one.app.record(&[trick(dog, "sit")]).await.unwrap();
        }
        one.sync.round(&mut |_| {}).await.unwrap();
        let server = {
            let down = server.down();
            // while it is down, syncing is a SyncError, and nothing local changes
            let error = one.sync.round(&mut |_| {}).await.unwrap_err();
            assert_eq!(error.name(), "SyncError", "{error}");
            down.up()
        };
        one.sync.round(&mut |_| {}).await.unwrap();
        let two = device(&url);
        two.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!(events(&two.app).await, events(&one.app).await);
        assert_eq!(events(&two.app).await.len(), 60);
        drop(server);
    });
}

/// The server cuts pages at about 8 MiB whatever the limit asked; a client
/// must read on past such a short page rather than take it for the log's end.
pub fn one_round_pulls_a_log_of_large_events_whole_over_pages_cut_for_their_size(start: impl Fn(&str) -> Server) {
    let server = start("large-pages");
    let url = server.app("acme", "dogschool");
    block_on(async {
        let one = device(&url);
        let fido = register(&one, "Fido").await;
        let big = "x".repeat(1 << 20);
        for n in 0..30 {
            one.app.record(&[trick(fido, &format!("{n} {big}"))]).await.unwrap();
        }
        assert_eq!(one.sync.round(&mut |_| {}).await.unwrap().pushed, 31);
        let two = devices::device_with_batch(&url, 10_000);
        let round = two.sync.round(&mut |_| {}).await.unwrap();
        assert_eq!((round.pulled, round.position), (31, 31), "everything, in one round");
        assert_eq!(events(&two.app).await, events(&one.app).await);
    });
}
