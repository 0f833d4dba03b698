//! Running the Python peers of `tests/peers/` from a Rust test, with the
//! peers' virtual environment (`bash scripts/setup.sh` makes it).
//! (`mod.rs` because each file directly under `tests/` is a test crate.)

#![allow(dead_code)]

/// Runs a peer script of tests/peers/ with the peers' Python, `input` on its
/// stdin (written from a thread: a large input must not wait on its output);
/// its output, once it exited successfully.
pub fn python_peer(script: &str, input: String) -> std::process::Output {
    python_peer_args(script, &[], input)
}

/// [`python_peer`] with arguments.
pub fn python_peer_args(script: &str, args: &[&str], input: String) -> std::process::Output {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv-peers/bin/python");
    let mut child = std::process::Command::new(python)
        .arg(format!("{}/tests/peers/{script}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the Python peers (bash scripts/setup.sh)");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{script}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The first 600 bytes of an output, for a message.
pub fn short(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned()
}
