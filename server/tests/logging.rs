//! What the server logs is the operator's to choose with `RUST_LOG`, as
//! anything built on `tracing` does: `info` (a line per request) by default.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use support::{data_folder, get, refused_with, TOKEN};

/// Runs the server with `RUST_LOG` set to `log` (unset if `None`), answers
/// one request, stops it, and returns what it wrote on stderr.
fn logged(test: &str, log: Option<&str>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tributary-server"));
    command.args(["--listen", "127.0.0.1:0", "--tenant", &format!("acme={TOKEN}"), "--data"]).arg(data_folder(test));
    match log {
        Some(log) => command.env("RUST_LOG", log),
        None => command.env_remove("RUST_LOG"),
    };
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the server binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(base.starts_with("http://"), "{line}");
    assert_eq!(get(&format!("{base}/acme/dogs/wait?after=0&timeout_ms=1"), Some(TOKEN)).status, 200);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(child.wait().unwrap().success());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    err
}

#[test]
fn a_line_per_request_by_default_and_none_with_rust_log_warn() {
    assert!(logged("logging_default", None).contains("finished processing request"));
    assert!(!logged("logging_warn", Some("warn")).contains("finished processing request"));
}

#[test]
fn a_rust_log_it_cannot_read_is_refused() {
    let data = data_folder("logging_refused").display().to_string();
    let (status, stderr) = refused_with(&["--tenant", &format!("acme={TOKEN}"), "--data", &data], &[("RUST_LOG", "tributary=loudest")]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RUST_LOG=\"tributary=loudest\""), "{stderr}");
}
