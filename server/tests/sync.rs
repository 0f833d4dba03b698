//! The sync tests on SQLite (the server's default storage): the bodies are in
//! `syncing/` (PostgreSQL runs them too, in `postgres_sync.rs`); and a hostile
//! server, which involves no storage of the server's, here only.

#[path = "../../tests/contract/dog.rs"]
mod dog;
mod support;
#[macro_use]
mod syncing;

use futures::executor::block_on;
use support::{data_folder, Server};
use syncing::devices::{device, events, register};
use tributary::persistence::EventQuery;

sync_suite!(|test: &str| Server::start(&data_folder(test), &[]));

#[test]
fn a_hostile_server_fails_the_sync_and_changes_nothing_local() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/acme/dogschool", listener.local_addr().unwrap());
    const REPLIES: [&str; 6] = [
        "not json",
        "[{\"id\": 1}]",
        "[{\"id\": 2, \"originator_id\": \"x\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}]",
        "[{\"id\": 3, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"!!\"}]",
        "[{\"id\": 5, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 1, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}, {\"id\": 4, \"originator_id\": \"12345678123456781234567812345678\", \"originator_version\": 2, \"topic\": \"Dog.Registered\", \"state\": \"e30=\"}]",
        "{\"error\": \"x\"}",
    ];
    std::thread::spawn(move || {
        for (stream, reply) in listener.incoming().zip(REPLIES.iter().cycle()) {
            let mut stream = stream.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    block_on(async {
        let one = device(&base);
        let dog = register(&one, "Fido").await;
        let before = events(&one.app).await;
        for _ in 0..REPLIES.len() {
            let error = one.sync.pull().await.unwrap_err();
            assert_eq!(error.name(), "SyncError", "{error}");
        }
        assert_eq!(events(&one.app).await, before);
        assert_eq!(one.app.events(dog, EventQuery::all()).await.unwrap().len(), 1);
    });
}
