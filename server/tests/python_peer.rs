//! The Python eventsourcing library as a peer: opened on the server's SQLite
//! file, its JSON service writes byte for byte what the server serves; and its
//! NotificationLogJSONClient reads this server over HTTP as it reads a Python one.

mod support;

use std::path::Path;
use std::process::Command;

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};
use support::{data_folder, get, post, Server, TOKEN};

/// The peers' virtual environment's Python (the test command makes it).
pub fn python() -> String {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv-peers/bin/python");
    assert!(Path::new(python).exists(), "no Python peers at {python}: run `bash scripts/setup.sh` first");
    python.to_owned()
}

#[test]
fn the_python_library_reads_this_server_and_writes_the_same_json() {
    let server = Server::start(&data_folder("python"), &[]);
    let app = server.app("acme", "dogschool");
    // the reference vectors' Dog (Python's own stored bytes), a cat with an awkward topic, and more
    let vectors: Value = serde_json::from_str(include_str!("../../tests/reference/eventsourcing-9.5.6-vectors.json")).unwrap();
    let plain = vectors["cases"].as_array().unwrap().iter().find(|c| c["label"] == "plain").unwrap();
    let mut events: Vec<Value> = plain["stored_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!({ "originator_id": e["originator_id"], "originator_version": e["originator_version"], "topic": e["topic"], "state": e["state_b64"] }))
        .collect();
    events.push(json!({ "originator_id": "0000000000000000000000000000000c", "originator_version": 1, "topic": "caf\u{e9}:Cat.B\u{f6}rn \"\u{1f431}\"", "state": STANDARD.encode("{}") }));
    for n in 0..8 {
        events.push(json!({ "originator_id": "0000000000000000000000000000000d", "originator_version": n + 1, "topic": "__main__:Dog.TrickAdded", "state": STANDARD.encode(format!("{{\"n\":{n}}}")) }));
    }
    for (i, event) in events.iter_mut().enumerate() {
        event["position"] = json!(i + 1);
    }
    let body = serde_json::to_vec(&json!({ "client_id": "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69", "events": events })).unwrap();
    assert_eq!(post(&format!("{app}/push"), Some(TOKEN), &body).status, 200);

    let file = server.data.join("acme/dogschool.sqlite");
    let output = Command::new(python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/read_log.py"))
        .args([file.to_str().unwrap(), &app, TOKEN, "__main__:Dog.Registered,caf\u{e9}:Cat.B\u{f6}rn \"\u{1f431}\""])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let python: Value = serde_json::from_slice(&output.stdout).unwrap();
    for (section, expected) in python["sections"].as_object().unwrap() {
        let served = get(&format!("{app}/log/{section}"), Some(TOKEN));
        assert_eq!(&served.text(), expected.as_str().unwrap(), "section {section}");
    }
    let selections = [
        ("from 1", "start=1&limit=10".to_owned()),
        ("from 3", "start=3&limit=4".to_owned()),
        ("after 3", "start=3&limit=4&inclusive_of_start=false".to_owned()),
        ("topics", "start=1&limit=10&topics=__main__:Dog.Registered,caf%C3%A9:Cat.B%C3%B6rn%20%22%F0%9F%90%B1%22".to_owned()),
    ];
    for (name, query) in selections {
        let served = get(&format!("{app}/notifications?{query}"), Some(TOKEN));
        assert_eq!(&served.text(), python["notifications"][name].as_str().unwrap(), "notifications {name}");
    }
    // the library's client, over HTTP, read the section and a selection by topic
    let section = &python["client"]["section"];
    assert_eq!((section[0].clone(), section[1].clone()), (json!("1,10"), json!("11,20")));
    assert_eq!(section[2].as_array().unwrap().len(), 10);
    assert_eq!(section[2][0][3], "__main__:Dog.Registered");
    assert_eq!(section[2][3][3], "caf\u{e9}:Cat.B\u{f6}rn \"\u{1f431}\"");
    assert_eq!(python["client"]["select"], json!([[4, "caf\u{e9}:Cat.B\u{f6}rn \"\u{1f431}\""]]));
}
