//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// tributary's sync server: each tenant's applications' notification logs over HTTP.
#[derive(Debug, Clone, Parser)]
#[command(name = "tributary-server", version)]
pub struct Config {
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Folder of the databases: one SQLite file per tenant and application.
    #[arg(long, default_value = "./data")]
    pub data: PathBuf,
    /// A PostgreSQL database to keep every tenant's applications in instead
    /// (`postgres://USER[:PASSWORD]@HOST:PORT/DB`, no TLS): a schema per tenant,
    /// Python's `eventsourcing.postgres` tables per application. `--data` is then unused.
    #[arg(long, value_name = "URL", value_parser = database)]
    pub database: Option<String>,
    /// A tenant and its token, `NAME=TOKEN` (repeat for more tenants).
    #[arg(long = "tenant", value_name = "NAME=TOKEN", value_parser = tenant, required = true)]
    pub tenants: Vec<(String, String)>,
    /// An origin allowed to call from a browser (repeat; `*` allows any).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// The largest request body taken, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
}

fn database(text: &str) -> Result<String, String> {
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Err("not a postgres://USER@HOST:PORT/DB URL".into());
    }
    text.parse::<tokio_postgres::Config>().map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    Ok(text.to_owned())
}

fn tenant(text: &str) -> Result<(String, String), String> {
    let (name, token) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=TOKEN"))?;
    if !crate::tenants::valid_name(name) {
        return Err(format!("tenant name {name:?}: letters, digits, '_', '-' and '.' only, 1 to 64, not starting with '.'"));
    }
    if token.len() < 8 || token.chars().any(char::is_whitespace) {
        return Err(format!("the token of {name:?} must be at least 8 characters, without spaces"));
    }
    Ok((name.to_owned(), token.to_owned()))
}
