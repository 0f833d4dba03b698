//! Test plumbing: the real server binary on a free port over a data folder,
//! and plain HTTP to it (ureq), also as the core sync client's HTTP port.

#![allow(dead_code)]

pub mod pages;
pub mod postgres;
pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const TOKEN: &str = "acme-secret-token";
pub const OTHER_TOKEN: &str = "beta-secret-token";
/// A client and a dog of the pushes tests write by hand.
pub const CLIENT: &str = "6f1c0b6c-7d3c-4b7e-9f64-1f2d3c4b5a69";
pub const DOG: &str = "12345678123456781234567812345678";

/// An event of a push request, as a client sends it.
pub fn event(position: u64, id: &str, version: u64, topic: &str, state: &[u8]) -> serde_json::Value {
    use base64::Engine;
    let state = base64::engine::general_purpose::STANDARD.encode(state);
    serde_json::json!({ "position": position, "originator_id": id, "originator_version": version, "topic": topic, "state": state })
}

/// A push request's body.
pub fn push_body(client: &str, events: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "client_id": client, "events": events })).unwrap()
}

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    args: Vec<String>,
}

/// A fresh data folder in cargo's temporary folder for tests.
pub fn data_folder(test: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{test}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&path).unwrap();
    path
}

impl Server {
    /// Starts the binary on a free port (or `listen`) with two tenants.
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::start_on(data, "127.0.0.1:0", extra)
    }

    pub fn start_on(data: &Path, listen: &str, extra: &[&str]) -> Server {
        Self::spawn(data, listen, extra, Command::new(env!("CARGO_BIN_EXE_tributary-server")))
    }

    /// Starts the binary allowed at most `files` open files (soft and hard limit).
    pub fn start_with_files(data: &Path, files: u64, extra: &[&str]) -> Server {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(env!("CARGO_BIN_EXE_tributary-server"));
        // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
        unsafe { command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, files, files)) };
        Self::spawn(data, "127.0.0.1:0", extra, command)
    }

    fn spawn(data: &Path, listen: &str, extra: &[&str], mut command: Command) -> Server {
        let mut args: Vec<String> = vec!["--data".into(), data.display().to_string()];
        args.extend(["--tenant".into(), format!("acme={TOKEN}"), "--tenant".into(), format!("beta={OTHER_TOKEN}")]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut child = command
            .args(["--listen", listen])
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().rsplit(' ').next().expect("the server prints where it listens").to_owned();
        assert!(address.starts_with("http://"), "{line}");
        Server { child, base: address, data: data.to_owned(), args }
    }

    /// How many threads the server process runs now.
    pub fn threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id())).map_or(0, Iterator::count)
    }

    /// The base URL of one application.
    pub fn app(&self, tenant: &str, app: &str) -> String {
        format!("{}/{tenant}/{app}", self.base)
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.base.clone()
    }

    /// SIGTERM; the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }

    /// Starts again on the same port, data and options.
    pub fn restart(self) -> Server {
        self.down().up()
    }

    /// SIGKILL, keeping what it takes to start it again as it was.
    pub fn down(self) -> Down {
        let listen = self.base.trim_start_matches("http://").to_owned();
        let (data, args) = (self.data.clone(), self.args.clone());
        drop(self);
        Down { listen, data, args }
    }
}

/// A server killed, to be started again.
pub struct Down {
    listen: String,
    data: PathBuf,
    args: Vec<String>,
}

impl Down {
    /// Starts it again on its port (once the port is free), data and options.
    pub fn up(self) -> Server {
        let extra: Vec<&str> = self.args[6..].iter().map(String::as_str).collect();
        for _ in 0..50 {
            if std::net::TcpListener::bind(&self.listen).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Server::start_on(&self.data, &self.listen, &extra)
    }
}

/// Runs the binary with these options, expecting it to refuse them and stop
/// rather than serve: its exit status and what it wrote on stderr.
pub fn refused(args: &[&str]) -> (std::process::ExitStatus, String) {
    refused_with(args, &[])
}

/// [`refused`], with these environment variables set.
pub fn refused_with(args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tributary-server"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let (said, saying) = std::sync::mpsc::channel();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let _ = said.send(line);
    });
    let patience = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let served = saying.try_recv().ok().filter(|line| line.contains("listening"));
        if served.is_some() || std::time::Instant::now() > patience {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not stop with {args:?}: {}", served.unwrap_or_else(|| "still running after 60 s".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status, err)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(90))).build().into()
}

/// A response: status, headers we look at, body.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET with a token (or none).
pub fn get(url: &str, token: Option<&str>) -> Reply {
    let mut request = agent().get(url);
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    reply(request.call())
}

/// POST a body with a token (or none).
pub fn post(url: &str, token: Option<&str>, body: &[u8]) -> Reply {
    let mut request = agent().post(url).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    reply(request.send(body))
}

/// Any request, with headers.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let result = match body {
        Some(body) => agent().run(builder.body(body.to_vec()).unwrap()),
        None => agent().run(builder.body(()).unwrap()),
    };
    reply(result)
}

fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = result.expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.body_mut().with_config().limit(256 << 20).read_to_vec().unwrap();
    Reply { status, content_type, body }
}

/// The core's HTTP port over ureq, blocking (fine in tests run on one thread).
pub struct Ureq;

#[async_trait::async_trait(?Send)]
impl tributary::sync::Http for Ureq {
    async fn send(&self, request: tributary::sync::Request) -> Result<tributary::sync::Response, String> {
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some(token) = &request.token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let method = match request.method {
            tributary::sync::Method::Get => "GET",
            tributary::sync::Method::Post => "POST",
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(&request.url);
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        let result = match request.body {
            Some(body) => agent().run(builder.body(body).unwrap()),
            None => agent().run(builder.body(()).unwrap()),
        };
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let more = response.headers().get(tributary::sync::MORE).is_some_and(|value| value == "true");
        let body = response.body_mut().with_config().limit(256 << 20).read_to_vec().map_err(|e| e.to_string())?;
        Ok(tributary::sync::Response { status, body, more })
    }
}

/// A small xorshift generator: the hostile inputs are many, and reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}
