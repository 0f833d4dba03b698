//! The command line.

use std::collections::HashSet;
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
    /// A PostgreSQL database to keep the tenants' applications in instead
    /// (`postgres://USER[:PASSWORD]@HOST:PORT/DB`, no TLS): a schema per tenant,
    /// Python's `eventsourcing.postgres` tables per application. `--data` is then unused.
    #[arg(long, value_name = "URL", value_parser = database)]
    pub database: Option<String>,
    /// A tenant and its token, `NAME=TOKEN` (repeat for more tenants).
    #[arg(long = "tenant", value_name = "NAME=TOKEN", value_parser = tenant, required = true)]
    pub tenants: Vec<(String, String)>,
    /// A tenant's own PostgreSQL database, `NAME=URL` (repeat): how tenants are
    /// spread over databases. A tenant without one is in `--database` (or the
    /// `--data` folder without it). Every process serving a tenant must be given the same.
    #[arg(long = "tenant-database", value_name = "NAME=URL", value_parser = tenant_database)]
    pub tenant_databases: Vec<(String, String)>,
    /// Connections a process keeps at most to each PostgreSQL database it uses,
    /// besides one listening connection per database.
    #[arg(long, value_name = "N", default_value_t = crate::backend::POSTGRES_CONNECTIONS, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub database_connections: u16,
    /// An origin allowed to call from a browser (repeat; `*` allows any).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// The largest request body taken, in bytes.
    #[arg(long, default_value_t = tributary::sync::limits::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// How long a request body may go without sending anything, in seconds:
    /// a client that stops mid-body then gets a 408 and its connection back.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout: u64,
    /// An application nobody has used for this long, in seconds, and nobody
    /// waits on, is closed (its threads end, its connections go); it opens
    /// again on its next request.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub close_idle_after: u64,
    /// How many applications a process keeps open at once (each holds files
    /// and threads); past it, the one asked for longest ago that no request
    /// holds is closed. By default, what half its open-file limit allows.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_open_applications: Option<u64>,
}

impl Config {
    /// What the options say together that no one of them says alone: each
    /// tenant given once, with a token of its own (a token names its tenant),
    /// a name PostgreSQL can have as a schema if it lives there, and mapped
    /// at most once to a database, and only a tenant that `--tenant` gives.
    pub fn check(&self) -> Result<(), String> {
        let mut named = HashSet::new();
        if let Some((name, _)) = self.tenants.iter().find(|(name, _)| !named.insert(name)) {
            return Err(format!("--tenant {name}=... is given twice"));
        }
        for (i, (name, token)) in self.tenants.iter().enumerate() {
            if let Some((owner, _)) = self.tenants[..i].iter().find(|(_, other)| other == token) {
                return Err(format!("--tenant {name}=...: the token of {name:?} is also {owner}'s: each tenant needs its own"));
            }
        }
        for (name, _) in &self.tenants {
            let on_postgres = self.database.is_some() || self.tenant_databases.iter().any(|(mapped, _)| mapped == name);
            if on_postgres && (name.starts_with("pg_") || name.len() > 63) {
                return Err(format!(
                    "--tenant {name}=...: PostgreSQL cannot have it as a schema (63 bytes at most, not starting with \"pg_\")"
                ));
            }
        }
        let mut mapped = HashSet::new();
        for (name, _) in &self.tenant_databases {
            if !named.contains(name) {
                return Err(format!("--tenant-database {name}=...: no --tenant {name}=TOKEN gives that tenant"));
            }
            if !mapped.insert(name) {
                return Err(format!("--tenant-database {name}=... is given twice: a tenant lives in one database"));
            }
        }
        Ok(())
    }
}

fn database(text: &str) -> Result<String, String> {
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Err("not a postgres://USER@HOST:PORT/DB URL".into());
    }
    text.parse::<tokio_postgres::Config>().map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    Ok(text.to_owned())
}

fn tenant_database(text: &str) -> Result<(String, String), String> {
    let (name, url) = text.split_once('=').ok_or_else(|| format!("{text:?} is not NAME=URL"))?;
    if !crate::tenants::valid_name(name) {
        return Err(format!("tenant name {name:?}: letters, digits, '_', '-' and '.' only, 1 to 64, not starting with '.'"));
    }
    Ok((name.to_owned(), database(url).map_err(|e| format!("the database of {name:?}: {e}"))?))
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
