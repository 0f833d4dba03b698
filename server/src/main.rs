//! `tributary-server --listen 127.0.0.1:8787 --data ./data --tenant acme=TOKEN ...`
//! (or `--database postgres://USER@HOST:PORT/DB` instead of `--data`, and
//! `--tenant-database acme=postgres://...` for a tenant in a database of its own)

use std::env::VarError;
use std::io::IsTerminal;
use std::sync::Arc;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use tracing_subscriber::EnvFilter;
use tributary_server::config::Config;
use tributary_server::http::{router, Server};
use tributary_server::placement::Placement;
use tributary_server::tenants::{applications_within, Tenants};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    if let Err(message) = config.check() {
        Config::command().error(ErrorKind::ArgumentConflict, message).exit();
    }
    let logged = match log_filter() {
        Ok(filter) => filter,
        Err(message) => {
            eprintln!("tributary-server: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(logged)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let placement = match Placement::open(&config).await {
        Ok(placement) => placement,
        Err(error) => {
            eprintln!("tributary-server: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Each open application holds files: the soft open-file limit is raised to
    // the hard one, as servers do, and applications are kept within half of it.
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let most_open = config.max_open_applications.map_or_else(|| applications_within(files), |n| n as usize);
    let server = Arc::new(Server::new(Tenants::new(&config.tenants, placement, most_open), config.max_body_bytes));
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("tributary-server: cannot listen on {}: {error}", config.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    println!("tributary-server listening on http://{address}");
    let stopping = {
        let server = server.clone();
        async move {
            stopped().await;
            server.stop();
        }
    };
    let idle = std::time::Duration::from_secs(config.close_idle_after);
    let closing = {
        let server = server.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(idle.min(std::time::Duration::from_secs(60)));
            loop {
                every.tick().await;
                server.tenants.close_idle(idle);
            }
        })
    };
    let served = axum::serve(listener, router(&config, server.clone())).with_graceful_shutdown(stopping).await;
    closing.abort();
    server.tenants.close();
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tributary-server: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What is logged: `RUST_LOG`'s directives (`warn` drops the line per
/// request, say), `info` without it; a value it cannot read is refused.
fn log_filter() -> Result<EnvFilter, String> {
    match std::env::var("RUST_LOG") {
        Ok(directives) => EnvFilter::try_new(&directives).map_err(|e| format!("RUST_LOG={directives:?}: {e}")),
        Err(VarError::NotPresent) => Ok(EnvFilter::new("info")),
        Err(VarError::NotUnicode(value)) => Err(format!("RUST_LOG={value:?} is not UTF-8")),
    }
}

/// SIGTERM or Ctrl-C.
async fn stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => drop(signal.recv().await),
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
