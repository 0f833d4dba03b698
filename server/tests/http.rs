//! The server binary over real HTTP: every status code, pushes recorded once,
//! hostile requests (generated), and what survives `kill -9` and SIGTERM.

mod support;

use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};
use support::{data_folder, event, get, post, push_body, request, Rng, Server, CLIENT, DOG, OTHER_TOKEN, TOKEN};

/// Every notification of an application, as the server serves them.
fn log(server: &Server) -> Value {
    let reply = get(&format!("{}/notifications?start=1&limit=10000", server.app("acme", "dogs")), Some(TOKEN));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

const OTHER_CLIENT: &str = "7a2d1c0b-1111-4222-8333-944455556666";

#[test]
fn every_status_code_is_json_with_a_name_and_a_message() {
    let server = Server::start(&data_folder("status"), &["--allow-origin", "http://dashboard.test", "--max-body-bytes", "4096"]);
    let app = server.app("acme", "dogs");
    let ok = get(&format!("{app}/log/1,10"), Some(TOKEN));
    assert_eq!(
        (ok.status, ok.content_type.as_str(), ok.text().as_str()),
        (200, "application/json", r#"{"id": null, "next_id": null, "items": []}"#)
    );
    let cases: Vec<(support::Reply, u16, &str)> = vec![
        (get(&format!("{app}/log/1,10"), None), 401, "AuthError"),
        (get(&format!("{app}/log/1,10"), Some("not-the-token")), 401, "AuthError"),
        (get(&format!("{app}/log/1,10"), Some(OTHER_TOKEN)), 403, "AuthError"),
        (get(&format!("{app}/notifications?start=1&limit=10"), None), 401, "AuthError"),
        (get(&format!("{app}/wait?after=0&timeout_ms=0"), Some("not-the-token")), 401, "AuthError"),
        (post(&format!("{app}/push"), Some(OTHER_TOKEN), b"{}"), 403, "AuthError"),
        (get(&format!("{}/nobody/dogs/log/1,10", server.base), Some(TOKEN)), 404, "NotFoundError"),
        (get(&format!("{}/acme", server.base), Some(TOKEN)), 404, "NotFoundError"),
        (get(&format!("{app}/log/zero"), Some(TOKEN)), 400, "ValidationError"),
        (get(&format!("{app}/notifications?start=x&limit=10"), Some(TOKEN)), 400, "ValidationError"),
        (post(&format!("{app}/push"), Some(TOKEN), b"{not json"), 400, "ValidationError"),
        (post(&format!("{app}/push"), Some(TOKEN), &vec![b' '; 5000]), 413, "PayloadTooLargeError"),
        (request("DELETE", &format!("{app}/push"), &[("authorization", &format!("Bearer {TOKEN}"))], None), 405, "MethodNotAllowedError"),
    ];
    for (reply, status, name) in cases {
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(reply.json()["error"], name, "{}", reply.text());
        assert!(reply.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
        let kind = tributary::Kind::named(name).expect("a kind of src/error/kind.rs");
        assert!(kind.statuses().contains(&status), "{name} is not answered with {status}");
    }
    let first = push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")]);
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &first).status, 200);
    let conflict = post(&format!("{app}/push"), Some(TOKEN), &push_body(OTHER_CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")]));
    assert_eq!((conflict.status, conflict.json()["error"].clone()), (409, json!("ConflictError")));
    // CORS for the allowed origin, preflight included; none for others
    let preflight = request(
        "OPTIONS",
        &format!("{app}/push"),
        &[
            ("origin", "http://dashboard.test"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "authorization,content-type"),
        ],
        None,
    );
    assert_eq!(preflight.status, 200);
    let allowed = request(
        "GET",
        &format!("{app}/log/1,10"),
        &[("origin", "http://dashboard.test"), ("authorization", &format!("Bearer {TOKEN}"))],
        None,
    );
    assert_eq!(allowed.status, 200);
    let headers = cors_headers(&format!("{app}/log/1,10"), "http://dashboard.test");
    assert!(headers.contains("access-control-allow-origin: http://dashboard.test"), "{headers}");
    assert!(!cors_headers(&format!("{app}/log/1,10"), "http://elsewhere.test").contains("access-control-allow-origin"));
    let preflight_headers = preflight_headers(&format!("{app}/push"), "http://dashboard.test");
    assert!(
        preflight_headers.contains("access-control-allow-headers") && preflight_headers.contains("authorization"),
        "{preflight_headers}"
    );
}

/// The response headers of a GET from `origin`, lowercased, one per line.
fn cors_headers(url: &str, origin: &str) -> String {
    headers_of("GET", url, &[("origin", origin), ("authorization", &format!("Bearer {TOKEN}"))])
}

fn preflight_headers(url: &str, origin: &str) -> String {
    headers_of(
        "OPTIONS",
        url,
        &[("origin", origin), ("access-control-request-method", "POST"), ("access-control-request-headers", "authorization")],
    )
}

fn headers_of(method: &str, url: &str, headers: &[(&str, &str)]) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = agent.run(builder.body(()).unwrap()).unwrap();
    response
        .headers()
        .iter()
        .map(|(k, v)| format!("{}: {}", k.as_str().to_lowercase(), v.to_str().unwrap_or_default().to_lowercase()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_duplicated_push_applies_once_a_longer_retry_adds_only_the_new_and_a_conflict_writes_nothing() {
    let server = Server::start(&data_folder("push"), &[]);
    let url = format!("{}/push", server.app("acme", "dogs"));
    let first = push_body(CLIENT, vec![event(3, DOG, 1, "Dog.Registered", b"{\"a\":1}"), event(5, DOG, 2, "Dog.TrickAdded", b"{\"b\":2}")]);
    let once = post(&url, Some(TOKEN), &first);
    assert_eq!(once.json(), json!({ "notification_ids": [1, 2], "position": 5 }));
    assert_eq!(post(&url, Some(TOKEN), &first).json(), once.json(), "the same push again: the same ids, nothing written");
    let longer = push_body(
        CLIENT,
        vec![
            event(3, DOG, 1, "Dog.Registered", b"{\"a\":1}"),
            event(5, DOG, 2, "Dog.TrickAdded", b"{\"b\":2}"),
            event(6, DOG, 3, "Dog.TrickAdded", b"{}"),
        ],
    );
    assert_eq!(post(&url, Some(TOKEN), &longer).json(), json!({ "notification_ids": [1, 2, 3], "position": 6 }));
    // another client recorded versions 3 and 4 of the same dog offline: both named, nothing written
    let cat = "0000000000000000000000000000000c";
    let other = push_body(
        OTHER_CLIENT,
        vec![
            event(1, cat, 1, "Cat.Born", b"{}"),
            event(2, DOG, 3, "Dog.TrickAdded", b"{\"x\":1}"),
            event(3, DOG, 4, "Dog.TrickAdded", b"{}"),
        ],
    );
    let refused = post(&url, Some(TOKEN), &other);
    assert_eq!(refused.status, 409);
    assert_eq!(refused.json()["conflicts"], json!([{ "position": 2, "originator_id": DOG, "originator_version": 3 }]));
    let log = log(&server);
    assert_eq!(log.as_array().unwrap().len(), 3, "the cat was not written either: {log}");
    // the stored bytes are exactly the pushed ones
    assert_eq!(STANDARD.decode(log[0]["state"].as_str().unwrap()).unwrap(), b"{\"a\":1}");
}

/// Values that are wrong for `field` whatever else the request holds.
fn wrong_for(field: &str, rng: &mut Rng) -> Vec<Value> {
    let deep = (0..300).fold(json!(1), |inner, _| json!([inner]));
    let mut values = vec![Value::Null, json!(true), json!([]), json!({}), json!({ "nested": [1, { "deep": true }] }), deep];
    let numbers = [json!(-1), json!(1.5), json!(1e300), json!(-(rng.next() as i64).abs())];
    let texts = [json!(""), json!("not a uuid"), json!("00000000-0000-0000-0000-000000000000"), json!(format!("{:x}", rng.next()))];
    match field {
        "client_id" | "originator_id" => values.extend(numbers.into_iter().chain(texts)),
        "events" => values.extend([json!(1), json!("events"), json!({ "0": 1 })]),
        "position" => values.extend(numbers.into_iter().chain(texts).chain([json!(0)])),
        "originator_version" => values.extend(numbers.into_iter().chain(texts).chain([json!(u64::MAX)])),
        "topic" => values.extend(numbers.into_iter().chain([json!("")])),
        _ => values.extend(numbers.into_iter().chain([json!("not base64 !!"), json!("abc"), json!("ab=c"), json!("é")])),
    }
    values.retain(|v| !(field == "events" && v == &json!([])));
    values
}

#[test]
fn hostile_requests_get_their_4xx_and_write_nothing() {
    let server = Server::start(&data_folder("hostile"), &["--max-body-bytes", "200000"]);
    let app = server.app("acme", "dogs");
    let valid = push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")]);
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &valid).status, 200);
    let before = log(&server);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut tried = 0;
    let check = |reply: support::Reply, what: &str| {
        assert!((400..500).contains(&reply.status), "{what}: {} {}", reply.status, reply.text());
        assert!(reply.json()["error"].is_string(), "{what}: {}", reply.text());
    };
    // pushes with one field made wrong, generated
    let fields = ["client_id", "events", "position", "originator_id", "originator_version", "topic", "state"];
    for _ in 0..300 {
        let mut body = json!({ "client_id": OTHER_CLIENT, "events": [event(1, "abababababababababababababababab", 1, "Cat.Born", b"{}")] });
        let field = *rng.pick(&fields);
        let values = wrong_for(field, &mut rng);
        let value = rng.pick(&values).clone();
        match field {
            "client_id" | "events" => body[field] = value,
            _ => body["events"][0][field] = value,
        }
        let text = serde_json::to_string(&body).unwrap();
        check(
            post(&format!("{app}/push"), Some(TOKEN), text.as_bytes()),
            &format!("push with {field} wrong: {}", text.chars().take(200).collect::<String>()),
        );
        tried += 1;
    }
    // pushes broken in other ways
    let broken: Vec<Vec<u8>> = vec![
        vec![],
        b"null".to_vec(),
        b"[]".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        br#"{"client_id": "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69", "events": [{"position": 1}]}"#.to_vec(),
        push_body(CLIENT, vec![event(2, DOG, 9, "Dog.X", b"{}"), event(2, DOG, 10, "Dog.X", b"{}")]),
        push_body(CLIENT, vec![event(3, DOG, 9, "Dog.X", b"{}"), event(2, DOG, 10, "Dog.X", b"{}")]),
        push_body(CLIENT, vec![event(2, DOG, 9, "Dog.X", b"{}"), event(3, DOG, 9, "Dog.X", b"{}")]),
        push_body(CLIENT, vec![event(0, DOG, 9, "Dog.X", b"{}")]),
        // a version no browser's log can hold (past 2^53 - 1): every browser pulling it would fail for ever
        push_body(CLIENT, vec![event(2, DOG, 1 << 53, "Dog.X", b"{}")]),
        push_body(CLIENT, vec![event(2, DOG, i64::MAX as u64, "Dog.X", b"{}")]),
        push_body(CLIENT, vec![event(2, DOG, 9, "", b"{}")]),
        push_body(CLIENT, vec![event(2, "00000000000000000000000000000000", 1, "Dog.X", b"{}")]),
        format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        br#"{"client_id": "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69", "events": [], "extra": 1}"#.to_vec(),
    ];
    for body in broken {
        check(post(&format!("{app}/push"), Some(TOKEN), &body), &String::from_utf8_lossy(&body).chars().take(80).collect::<String>());
        tried += 1;
    }
    // queries and paths, generated
    let numbers = ["", "x", "-1", "1.5", "18446744073709551616", "99999999999999999999999", "1e3", "0x10", "%00"];
    for _ in 0..150 {
        let (start, limit) = (*rng.pick(&numbers), *rng.pick(&numbers));
        let reply = get(&format!("{app}/notifications?start={start}&limit={limit}"), Some(TOKEN));
        check(reply, &format!("notifications start={start} limit={limit}"));
        tried += 1;
    }
    for query in ["start=1", "limit=1", "start=1&limit=10001", "start=1&limit=5&inclusive_of_start=maybe", "start=1&limit=5&unknown=1"] {
        check(get(&format!("{app}/notifications?{query}"), Some(TOKEN)), query);
        tried += 1;
    }
    for query in ["", "after=x", "after=-1", "after=1&timeout_ms=-5", "after=1&timeout_ms=x", "after=1&unknown=2"] {
        check(get(&format!("{app}/wait?{query}"), Some(TOKEN)), query);
        tried += 1;
    }
    check(get(&format!("{app}/wait?after=0&timeout_ms=60001"), Some(TOKEN)), "a wait too long");
    let sections =
        ["0,5", "5,", ",5", "a,b", "-1,3", "1,99999999999999999999", "18446744073709551616,18446744073709551617", "1,2,3", "%20"];
    for section in sections {
        check(get(&format!("{app}/log/{section}"), Some(TOKEN)), section);
        tried += 1;
    }
    for name in ["..", ".hidden", "a%2Fb", "%2e%2e", &"x".repeat(65), "sp%20ace", "%00"] {
        let reply = get(&format!("{}/acme/{name}/log/1,10", server.base), Some(TOKEN));
        check(reply, name);
        tried += 1;
    }
    assert!(tried > 450, "{tried} hostile requests");
    assert_eq!(log(&server), before, "nothing was written by any of them");
    // large but valid sections answer, and far away ones are empty
    let far = get(&format!("{app}/log/9007199254740990,9007199254741000"), Some(TOKEN));
    assert_eq!((far.status, far.text().as_str()), (200, r#"{"id": null, "next_id": null, "items": []}"#));
}

#[test]
fn an_acknowledged_push_survives_kill_9_and_sigterm_ends_cleanly_and_fast() {
    let data = data_folder("durable");
    let server = Server::start(&data, &[]);
    let url = format!("{}/push", server.app("acme", "dogs"));
    for n in 1..=50u64 {
        let body = push_body(CLIENT, vec![event(n, DOG, n, "Dog.TrickAdded", format!("{{\"n\":{n}}}").as_bytes())]);
        assert_eq!(post(&url, Some(TOKEN), &body).status, 200);
    }
    server.kill();
    let server = Server::start(&data, &[]);
    let log = log(&server);
    assert_eq!(log.as_array().unwrap().len(), 50, "every acknowledged push is there after kill -9");
    let started = Instant::now();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn the_server_starts_in_well_under_a_second() {
    let started = Instant::now();
    let server = Server::start(&data_folder("start"), &[]);
    assert!(started.elapsed() < Duration::from_millis(800), "{:?}", started.elapsed());
    assert_eq!(get(&format!("{}/log/1,1", server.app("acme", "dogs")), Some(TOKEN)).status, 200);
}

#[test]
fn a_wait_answers_as_soon_as_a_push_lands_and_at_its_timeout_otherwise() {
    let server = Server::start(&data_folder("wait"), &[]);
    let app = server.app("acme", "dogs");
    let started = Instant::now();
    let idle = get(&format!("{app}/wait?after=0&timeout_ms=300"), Some(TOKEN));
    assert_eq!(idle.json(), json!({ "max_notification_id": 0 }));
    assert!(started.elapsed() >= Duration::from_millis(280), "{:?}", started.elapsed());
    let waiting = std::thread::spawn({
        let app = app.clone();
        move || {
            let started = Instant::now();
            (get(&format!("{app}/wait?after=0&timeout_ms=20000"), Some(TOKEN)).json(), started.elapsed())
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")])).status, 200);
    let (woke, waited) = waiting.join().unwrap();
    assert_eq!(woke, json!({ "max_notification_id": 1 }));
    assert!(waited < Duration::from_secs(5), "woke at once, not at the timeout: {waited:?}");
}

#[test]
fn pulled_pages_are_the_log_while_devices_push_and_pull() {
    let server = Server::start(&data_folder("pages"), &[]);
    support::pages::pulled_pages_are_the_log(&[server.app("acme", "dogschool")], 0x9a9e_5eed_0000_0001, 400);
}

/// A token names its tenant: one given to two tenants is refused at start
/// (it let in one of them, which one a matter of chance, and the other got 403).
#[test]
fn a_page_of_large_events_stops_at_its_byte_bound_and_says_more_follow() {
    use tributary::sync::{Http, Method, Request};
    let server = Server::start(&data_folder("page-bytes"), &[]);
    let url = server.app("acme", "dogs");
    let state = serde_json::to_vec(&json!({ "trick": "x".repeat(1 << 20) })).unwrap();
    for pair in 0..6u64 {
        let events = (1..=2).map(|i| pair * 2 + i).map(|v| event(v, DOG, v, "Dog.TrickAdded", &state)).collect();
        let reply = post(&format!("{url}/push"), Some(TOKEN), &push_body(CLIENT, events));
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let item = 4 * state.len() / 3 + 200;
    let (mut start, mut seen, mut pages) = (1, Vec::new(), 0);
    loop {
        let request = Request {
            method: Method::Get,
            url: format!("{url}/notifications?start={start}&limit=10000"),
            token: Some(TOKEN.into()),
            body: None,
        };
        let reply = futures::executor::block_on(support::Ureq.send(request)).unwrap();
        assert_eq!(reply.status, 200);
        assert!(reply.body.len() <= (8 << 20) + item, "a page of {} bytes", reply.body.len());
        let ids: Vec<u64> = serde_json::from_slice::<Vec<Value>>(&reply.body).unwrap().iter().map(|n| n["id"].as_u64().unwrap()).collect();
        let Some(&last) = ids.last() else { break };
        assert!(ids.len() < 12 && reply.more, "a page cut for its bytes says more follow: {} items, more {}", ids.len(), reply.more);
        seen.extend(ids);
        (start, pages) = (last + 1, pages + 1);
    }
    assert_eq!(seen, (1..=12).collect::<Vec<u64>>(), "every event once, in order, over {pages} pages");
    let last_page =
        headers_of("GET", &format!("{url}/notifications?start=12&limit=10000"), &[("authorization", &format!("Bearer {TOKEN}"))]);
    assert!(!last_page.lines().any(|line| line.starts_with("tributary-more:")), "a page that is not cut says nothing: {last_page}");
}

#[test]
fn a_token_given_to_two_tenants_is_refused_at_start() {
    let data = data_folder("shared-token").display().to_string();
    let (status, stderr) = support::refused(&["--data", &data, "--tenant", "acme=shared-secret", "--tenant", "beta=shared-secret"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the token of \"beta\" is also acme's"), "{stderr}");
}

/// SIGTERM ends the process promptly also while devices long-poll (they
/// always do): their waits are answered with the head at once, not at their
/// timeouts (up to a minute, past what a supervisor waits before a kill -9).
#[test]
fn sigterm_answers_the_long_polls_and_ends_promptly() {
    let server = Server::start(&data_folder("sigterm-waits"), &[]);
    let app = server.app("acme", "dogs");
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &push_body(CLIENT, vec![event(1, DOG, 1, "Dog.Registered", b"{}")])).status, 200);
    let waits: Vec<_> = (0..3)
        .map(|_| {
            let app = app.clone();
            std::thread::spawn(move || get(&format!("{app}/wait?after=1&timeout_ms=60000"), Some(TOKEN)))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let status = server.terminate();
    let took = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "SIGTERM took {took:?} with long-polls waiting");
    for wait in waits {
        let reply = wait.join().unwrap();
        assert_eq!((reply.status, reply.json()), (200, json!({ "max_notification_id": 1 })), "{}", reply.text());
    }
}

/// A client that stops sending mid-body gets a 408 once `--body-timeout`
/// passes without a byte, and nothing is written; a slow body that keeps
/// coming is read whole.
#[test]
fn a_body_that_stops_coming_is_a_408_and_writes_nothing() {
    use std::io::{Read, Write};
    let server = Server::start(&data_folder("body-timeout"), &["--body-timeout", "1"]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = push_body(
        "3b0f5ae2-7c4d-4a8e-9b1f-2d6c8e0a4f31",
        vec![event(1, "7c9e6679-7425-40de-944b-e07fc1f90ae7", 1, "Dog.Registered", b"{}")],
    );
    let head = |length: usize| {
        format!(
            "POST /acme/dogs/push HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
        )
    };
    let mut stalled = std::net::TcpStream::connect(&address).unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stalled.write_all(head(body.len()).as_bytes()).unwrap();
    stalled.write_all(&body[..body.len() / 2]).unwrap();
    let sent = Instant::now();
    let mut reply = String::new();
    let _ = stalled.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(sent.elapsed() < Duration::from_secs(10), "answered after {:?}", sent.elapsed());
    // a body sent in pieces, each within the timeout, is taken
    let mut slow = std::net::TcpStream::connect(&address).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    slow.write_all(head(body.len()).as_bytes()).unwrap();
    for piece in body.chunks(body.len() / 3 + 1) {
        std::thread::sleep(Duration::from_millis(600));
        slow.write_all(piece).unwrap();
    }
    let mut reply = [0; 12];
    slow.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"HTTP/1.1 200", "{}", String::from_utf8_lossy(&reply));
    assert_eq!(log(&server).as_array().map(Vec::len), Some(1), "only the whole push was written");
}

#[test]
fn a_late_copy_of_a_refused_push_records_nothing_once_the_client_pushed_past_it() {
    let server = Server::start(&data_folder("late-copy"), &[]);
    let app = server.app("acme", "dogs");
    let other = push_body(
        OTHER_CLIENT,
        vec![event(1, DOG, 1, "Dog.Registered", b"{}"), event(2, DOG, 2, "Dog.TrickAdded", b"{\"trick\":\"sit\"}")],
    );
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &other).status, 200);
    // this client's v2 and v3 lose to the other's v2: refused, and taken out of its log
    let stale = push_body(
        CLIENT,
        vec![event(10, DOG, 2, "Dog.TrickAdded", b"{\"trick\":\"beg\"}"), event(12, DOG, 3, "Dog.TrickAdded", b"{\"trick\":\"roll\"}")],
    );
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &stale).status, 409);
    // its next push leaves positions 10 and 12 out for good
    let cat = "abababababababababababababababab";
    let next = json!({ "client_id": CLIENT, "events": [event(11, cat, 1, "Cat.Born", b"{}")], "through": 12 });
    let next = post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&next).unwrap());
    assert_eq!((next.status, next.json()["position"].clone()), (200, json!(12)), "{}", next.text());
    // a copy of the refused push, late: its v3 was never this client's to record
    let copy = post(&format!("{app}/push"), Some(TOKEN), &stale);
    assert_eq!(copy.status, 400, "{}", copy.text());
    let log = get(&format!("{app}/notifications?start=1&limit=10"), Some(TOKEN)).json();
    let versions: Vec<(String, u64)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["originator_id"].as_str().unwrap().to_owned(), n["originator_version"].as_u64().unwrap()))
        .collect();
    assert_eq!(versions, vec![(DOG.to_owned(), 1), (DOG.to_owned(), 2), (cat.to_owned(), 1)]);
    // and a through below the push's last position is refused
    let wrong = json!({ "client_id": CLIENT, "events": [event(20, cat, 2, "Cat.Fed", b"{}")], "through": 19 });
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &serde_json::to_vec(&wrong).unwrap()).status, 400);
}

#[test]
fn the_server_describes_every_route_it_serves_at_openapi_json_without_a_token() {
    let server = Server::start(&data_folder("openapi"), &[]);
    let reply = get(&format!("{}/openapi.json", server.base), None);
    assert_eq!((reply.status, reply.content_type.as_str()), (200, "application/json"));
    let api: Value = reply.json();
    assert!(api["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", api["openapi"]);
    let mut paths: Vec<String> = api["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| format!("{m} {path}")))
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["get /{tenant}/{app}/log/{section}", "get /{tenant}/{app}/notifications", "get /{tenant}/{app}/wait", "post /{tenant}/{app}/push"]
    );
    assert_eq!(api["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // The limits it states are the ones it holds to.
    let notifications = &api["paths"]["/{tenant}/{app}/notifications"]["get"]["parameters"];
    let limit = notifications.as_array().unwrap().iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(limit["schema"]["maximum"], json!(tributary::sync::limits::MAX_PAGE));
    let over =
        get(&format!("{}/notifications?start=1&limit={}", server.app("acme", "dogs"), tributary::sync::limits::MAX_PAGE + 1), Some(TOKEN));
    assert_eq!(over.status, 400);
}
