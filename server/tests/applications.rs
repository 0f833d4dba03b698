//! The server's applications over real HTTP: each opened on its first use,
//! closed when idle or to make room past the most a process keeps open, never
//! under a request that holds it, and all within the open-file limit.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{data_folder, event, get, post, push_body, Server, CLIENT, DOG, TOKEN};

#[test]
fn many_applications_in_turn_are_all_served_within_the_open_file_limit() {
    // 256 open files: about 20 per open application, so a dozen at most.
    let server = Server::start_with_files(&data_folder("many-apps"), 256, &[]);
    let statuses: Vec<u16> = (0..150)
        .map(|n| get(&format!("{}/notifications?start=1&limit=1", server.app("acme", &format!("app{n}"))), Some(TOKEN)).status)
        .collect();
    assert!(statuses.iter().all(|status| *status == 200), "{statuses:?}");
    let again = get(&format!("{}/notifications?start=1&limit=1", server.app("acme", "app0")), Some(TOKEN));
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(server.threads() < 40, "{} threads: closed applications' threads end", server.threads());
}

#[test]
fn past_the_most_open_applications_the_longest_unused_closes_and_a_held_one_never() {
    let server = Server::start(&data_folder("most-open"), &["--max-open-applications", "2"]);
    let url = |app: &str| server.app("acme", app);
    // A long-poll holds the first application open.
    let waiting = {
        let wait = format!("{}/wait?after=0&timeout_ms=3000", url("held"));
        std::thread::spawn(move || get(&wait, Some(TOKEN)))
    };
    std::thread::sleep(Duration::from_millis(300));
    for app in ["one", "two", "three"] {
        assert_eq!(get(&format!("{}/notifications?start=1&limit=1", url(app)), Some(TOKEN)).status, 200);
    }
    let pushed = post(&format!("{}/push", url("held")), Some(TOKEN), &push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")]));
    assert_eq!(pushed.status, 200, "{}", pushed.text());
    let woke = waiting.join().unwrap();
    assert_eq!(woke.json(), json!({ "max_notification_id": 1 }), "the held application stayed the one its long-poll waits on");
    // With both places held by long-polls, another application waits for a retry.
    let holders: Vec<_> = ["held", "one"]
        .into_iter()
        .map(|app| {
            let wait = format!("{}/wait?after=5&timeout_ms=2000", url(app));
            std::thread::spawn(move || get(&wait, Some(TOKEN)))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let busy = get(&format!("{}/notifications?start=1&limit=1", url("four")), Some(TOKEN));
    assert_eq!((busy.status, busy.json()["error"].clone()), (503, json!("UnavailableError")), "{}", busy.text());
    holders.into_iter().for_each(|holder| assert_eq!(holder.join().unwrap().status, 200));
    assert_eq!(get(&format!("{}/notifications?start=1&limit=1", url("four")), Some(TOKEN)).status, 200);
}

/// Applications nobody uses are closed after `--close-idle-after` (their
/// threads end) and open again on their next request, data and all; one a
/// long-poll waits on stays open, and the poll wakes at the next push.
#[test]
fn idle_applications_are_closed_and_open_again_when_asked() {
    let server = Server::start(&data_folder("close-idle"), &["--close-idle-after", "1"]);
    let before = server.threads();
    let body = push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")]);
    assert_eq!(post(&format!("{}/push", server.app("acme", "app0")), Some(TOKEN), &body).status, 200);
    for i in 1..10 {
        assert_eq!(get(&format!("{}/notifications?start=1&limit=10", server.app("acme", &format!("app{i}"))), Some(TOKEN)).status, 200);
    }
    let open = server.threads();
    assert!(open >= before + 27, "each application runs its threads: {before} -> {open}");
    let waited = server.app("acme", "waited");
    let wait = std::thread::spawn({
        let url = format!("{waited}/wait?after=0&timeout_ms=15000");
        move || (Instant::now(), get(&url, Some(TOKEN)))
    });
    std::thread::sleep(Duration::from_secs(4));
    let closed = server.threads();
    assert!(closed <= before + 4, "the idle applications were closed: {before} -> {open} -> {closed}");
    let pushed = Instant::now();
    assert_eq!(post(&format!("{waited}/push"), Some(TOKEN), &body).status, 200);
    let (_, woken) = wait.join().unwrap();
    assert_eq!(woken.json()["max_notification_id"], 1, "the long-poll's application stayed open: {}", woken.text());
    assert!(pushed.elapsed() < Duration::from_secs(5), "and the poll woke at the push, not its timeout");
    let again = get(&format!("{}/notifications?start=1&limit=10", server.app("acme", "app0")), Some(TOKEN));
    assert_eq!(again.json().as_array().map(Vec::len), Some(1), "app0 opened again with its event: {}", again.text());
}
