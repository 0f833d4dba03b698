//! An answer sent before the request's body was read (a 413 for a body over
//! the limit, a 401 for a wrong token, a 404, ...) reaches every client, also
//! those that read nothing until they have sent the whole body: Node's `fetch`
//! (as Firefox's), and a plain TCP client. The server reads the rest of the
//! body, within a bound, before it answers; past the bound it answers and closes.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{data_folder, Server, OTHER_TOKEN, TOKEN};

const MIB: usize = 1 << 20;

/// What Node's `fetch` says of a POST of `size` bytes of `fill` to `url`:
/// `STATUS ERROR-NAME`, or `failed ...` when it saw no answer. `stream` sends
/// the body chunked, as a stream, without a content-length.
fn node_post(url: &str, token: &str, size: usize, fill: char, stream: bool) -> String {
    const SCRIPT: &str = r#"
const { URL: url, TOKEN: token, FILL: fill } = process.env;
const size = Number(process.env.SIZE);
let body = Buffer.alloc(size, fill);
if (process.env.STREAM === "1") {
  const piece = Buffer.alloc(1 << 20, fill);
  let sent = 0;
  body = new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(piece.length, size - sent);
      controller.enqueue(new Uint8Array(piece.subarray(0, n)));
      sent += n;
    },
  });
}
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
fetch(url, { method: "POST", headers, body, duplex: "half" })
  .then(async (reply) => {
    const text = await reply.text();
    let name;
    try { name = JSON.parse(text).error; } catch { name = `not JSON: ${text.slice(0, 80)}`; }
    console.log(`${reply.status} ${name}`);
  })
  .catch((e) => console.log(`failed ${e.message}: ${e.cause ? `${e.cause.code ?? ""} ${e.cause.message}` : ""}`));
"#;
    let output = Command::new("node")
        .args(["-e", SCRIPT])
        .env("URL", url)
        .env("TOKEN", token)
        .env("SIZE", size.to_string())
        .env("FILL", fill.to_string())
        .env("STREAM", if stream { "1" } else { "0" })
        .output()
        .expect("node runs (Node 18 or later, for fetch)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn node_fetch_sees_every_early_answer_to_a_large_body() {
    let server = Server::start(&data_folder("early-node"), &[]);
    let push = format!("{}/push", server.app("acme", "dogs"));
    let cases = [
        // over the 8 MiB limit, with its content-length: refused before a byte is read
        ("9 MiB, the right token", push.clone(), TOKEN, ' ', false, "413 PayloadTooLargeError"),
        // the size is checked first, from the content-length
        ("9 MiB, a wrong token", push.clone(), "not-the-token", ' ', false, "413 PayloadTooLargeError"),
        ("9 MiB, another tenant's token", push.clone(), OTHER_TOKEN, ' ', false, "413 PayloadTooLargeError"),
        // streamed: the token is checked once 8 MiB are read, and the rest is left
        ("9 MiB streamed, the right token", push.clone(), TOKEN, ' ', true, "413 PayloadTooLargeError"),
        ("9 MiB streamed, a wrong token", push.clone(), "not-the-token", ' ', true, "401 AuthError"),
        ("9 MiB streamed, another tenant's token", push.clone(), OTHER_TOKEN, ' ', true, "403 AuthError"),
        (
            "9 MiB streamed to a malformed application name",
            format!("{}/acme/.dogs/push", server.base),
            TOKEN,
            '{',
            true,
            "400 ValidationError",
        ),
        ("9 MiB streamed to no route", format!("{}/acme/dogs/nowhere", server.base), TOKEN, '{', true, "404 NotFoundError"),
        (
            "9 MiB streamed to a GET route",
            format!("{}/log/1,10", server.app("acme", "dogs")),
            TOKEN,
            '{',
            true,
            "405 MethodNotAllowedError",
        ),
        // under the limit, read whole: as before
        ("7 MiB not JSON", push.clone(), TOKEN, '{', false, "400 ValidationError"),
    ];
    let mut wrong = Vec::new();
    for (what, url, token, fill, stream, expected) in cases {
        let size = if what.starts_with('7') { 7 * MIB } else { 9 * MIB };
        let said = node_post(&url, token, size, fill, stream);
        if said != expected {
            wrong.push(format!("{what}: expected {expected:?}, Node's fetch said {said:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// An HTTP/1.1 answer read off a connection: its status line, its headers
/// (lowercased) and its body (by its content-length).
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn error(&self) -> String {
        let json: serde_json::Value =
            serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)));
        json["error"].as_str().unwrap_or_default().to_owned()
    }

    fn closes(&self) -> bool {
        self.head.lines().any(|line| line == "connection: close")
    }
}

fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut seen = Vec::new();
    let mut byte = [0; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            Ok(_) => panic!("the connection ended before an answer: {:?}", String::from_utf8_lossy(&seen)),
            Err(e) => panic!("no answer was read: {e} (after {:?})", String::from_utf8_lossy(&seen)),
        }
    }
    let head = String::from_utf8_lossy(&seen).to_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not an HTTP answer: {head}"));
    let length: usize =
        head.lines().find_map(|line| line.strip_prefix("content-length: ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap_or_else(|e| panic!("the answer's body was cut: {e} ({head})"));
    Answer { status, head, body }
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Writes `body` in pieces of 64 KiB, pausing now and then, as a slow client does.
fn send_slowly(stream: &mut TcpStream, body: &[u8], what: &str) {
    for (n, piece) in body.chunks(64 << 10).enumerate() {
        if let Err(e) = stream.write_all(piece) {
            panic!("{what}: the server cut the connection while the body was sent ({} of {} bytes): {e}", n * (64 << 10), body.len());
        }
        if n % 16 == 15 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(MIB) {
        out.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend(piece);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    out
}

#[test]
fn a_plain_tcp_client_that_sends_its_whole_body_reads_the_early_answer_and_keeps_its_connection() {
    let server = Server::start(&data_folder("early-tcp"), &[]);
    let host = server.base.trim_start_matches("http://").to_owned();
    let mut stream = connect(&server);
    let body = vec![b' '; 9 * MIB];
    let head = format!(
        "POST /acme/dogs/push HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    send_slowly(&mut stream, &body, "9 MiB with a content-length");
    let answer = read_answer(&mut stream);
    assert_eq!((answer.status, answer.error().as_str()), (413, "PayloadTooLargeError"), "{}", answer.head);
    assert!(!answer.closes(), "the body was read to its end: the connection stays open\n{}", answer.head);
    // the same connection: a wrong token, the body chunked
    let head = format!(
        "POST /acme/dogs/push HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer not-the-token\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    send_slowly(&mut stream, &chunked(&body), "9 MiB chunked with a wrong token");
    let answer = read_answer(&mut stream);
    assert_eq!((answer.status, answer.error().as_str()), (401, "AuthError"), "{}", answer.head);
    // and it still serves
    stream
        .write_all(format!("GET /acme/dogs/log/1,10 HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKEN}\r\n\r\n").as_bytes())
        .unwrap();
    let answer = read_answer(&mut stream);
    assert_eq!(answer.status, 200, "{}{}", answer.head, String::from_utf8_lossy(&answer.body));
}

#[test]
fn a_client_that_announces_a_gigabyte_and_stops_is_answered_within_the_bound() {
    let server = Server::start(&data_folder("early-stalled"), &[]);
    let host = server.base.trim_start_matches("http://").to_owned();
    let patience = Duration::from_secs(12);
    // announced with a content-length: past what the server reads to drop, so it answers and closes at once
    let mut stream = connect(&server);
    stream.set_read_timeout(Some(patience)).unwrap();
    let head = format!(
        "POST /acme/dogs/push HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&[b' '; 4096]).unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut stream);
    assert_eq!((answer.status, answer.error().as_str()), (413, "PayloadTooLargeError"), "{}", answer.head);
    assert!(answer.closes(), "the rest of the body is not read: the connection closes\n{}", answer.head);
    assert!(started.elapsed() < Duration::from_secs(2), "answered after {:?}", started.elapsed());
    // chunked, of no known length, to a route that reads nothing: answered once the bound passes
    let mut stream = connect(&server);
    stream.set_read_timeout(Some(patience)).unwrap();
    let head =
        format!("POST /acme/dogs/nowhere HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKEN}\r\ntransfer-encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&chunked(&[b' '; 4096])[..4096]).unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut stream);
    assert_eq!((answer.status, answer.error().as_str()), (404, "NotFoundError"), "{}", answer.head);
    assert!(answer.closes(), "{}", answer.head);
    assert!(started.elapsed() < Duration::from_secs(8), "answered after {:?}", started.elapsed());
    let mut rest = Vec::new();
    assert!(matches!(stream.read_to_end(&mut rest), Ok(0) | Err(_)), "the server closed the connection");
}

/// A client that asks before it sends (`expect: 100-continue`, as curl does
/// for large bodies) is answered at once and sends nothing.
#[test]
fn a_client_that_expects_100_continue_is_answered_without_sending_its_body() {
    let server = Server::start(&data_folder("early-expect"), &[]);
    let host = server.base.trim_start_matches("http://").to_owned();
    let cases = [
        ("push", 9 * MIB, 413, "PayloadTooLargeError"),
        ("nowhere", MIB, 404, "NotFoundError"),
        ("log/1,10", MIB, 405, "MethodNotAllowedError"),
    ];
    for (path, length, status, name) in cases {
        let mut stream = connect(&server);
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let head = format!(
            "POST /acme/dogs/{path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {TOKEN}\r\nexpect: 100-continue\r\ncontent-length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let answer = read_answer(&mut stream);
        assert_eq!(answer.status, status, "{path}: not told to send, the client gets the answer at once\n{}", answer.head);
        assert_eq!(answer.error(), name, "{path}");
    }
}
