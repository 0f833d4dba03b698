//! A fault-injecting HTTP proxy on loopback: it forwards each request to the
//! server, and, as told, drops the reply after the server has answered (so the
//! server committed and the client never knows), or sends the request twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the proxy does to the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Forward, let the server answer, then close without replying.
    DropReply,
    /// Forward twice; reply the second answer.
    Duplicate,
}

pub struct Proxy {
    pub base: String,
    faults: Faults,
    pub dropped: Arc<AtomicU64>,
    pub duplicated: Arc<AtomicU64>,
}

impl Proxy {
    /// A proxy to `server` (http://host:port); `faults` decides per request line.
    pub fn start(server: &str, faults: impl FnMut(&str) -> Fault + Send + 'static) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let target = server.trim_start_matches("http://").to_owned();
        let faults: Faults = Arc::new(Mutex::new(Box::new(faults)));
        let (dropped, duplicated) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (f, d, u) = (faults.clone(), dropped.clone(), duplicated.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (target, f, d, u) = (target.clone(), f.clone(), d.clone(), u.clone());
                std::thread::spawn(move || serve(client, &target, &f, &d, &u));
            }
        });
        Proxy { base, faults, dropped, duplicated }
    }

    pub fn set(&self, faults: impl FnMut(&str) -> Fault + Send + 'static) {
        *self.faults.lock().unwrap() = Box::new(faults);
    }
}

type Faults = Arc<Mutex<Box<dyn FnMut(&str) -> Fault + Send>>>;

fn serve(client: TcpStream, target: &str, faults: &Faults, dropped: &AtomicU64, duplicated: &AtomicU64) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    while let Some(request) = read_message(&mut reader, true) {
        let line = String::from_utf8_lossy(request.split(|b| *b == b'\r').next().unwrap_or_default()).into_owned();
        let fault = (faults.lock().unwrap())(&line);
        let Some(mut reply) = forward(target, &request) else { return };
        match fault {
            Fault::DropReply => {
                dropped.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Fault::Duplicate => {
                duplicated.fetch_add(1, Ordering::SeqCst);
                match forward(target, &request) {
                    Some(again) => reply = again,
                    None => return,
                }
            }
            Fault::None => {}
        }
        if client.write_all(&reply).is_err() {
            return;
        }
    }
}

/// One request to the server on a connection of its own; its whole reply.
fn forward(target: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(target).ok()?;
    server.write_all(request).ok()?;
    read_message(&mut BufReader::new(server), false)
}

/// A whole HTTP/1.1 message (headers and a body of Content-Length bytes).
fn read_message(reader: &mut BufReader<TcpStream>, request: bool) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        // Each forwarded request gets a connection of its own.
        if !request || !lower.starts_with("connection:") {
            message.extend_from_slice(line.as_bytes());
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}
