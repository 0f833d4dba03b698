//! Where the applications' databases live: a SQLite file per tenant and
//! application under a folder (the default), or a schema per tenant in a
//! PostgreSQL database, shared by any number of server processes. (Which
//! tenant is in which: [`crate::placement`].)

use std::path::PathBuf;
use std::sync::Arc;

use deadpool_postgres::Pool;
use tributary::{Error, Result};

use crate::postgres::{Listener, PostgresRecorder, Tables};
use crate::sqlite::SqliteRecorder;
use crate::store::{Opener, Store};

/// Connections a server process keeps at most to a PostgreSQL database for
/// reads (besides its listener's and one per application's writer), unless
/// `--database-connections` says otherwise: a reader takes one per call.
pub const POSTGRES_CONNECTIONS: u16 = 16;

pub enum Backend {
    /// `{data}/{tenant}/{app}.sqlite`.
    Sqlite { data: PathBuf },
    /// Schema `{tenant}`, tables `{app}_*`; the listener wakes waits on other processes' writes.
    /// Readers share `pool`. Each application's writer connects to `url` on its
    /// own thread, which drives the connection: a group's round trips then wake
    /// no other thread (with the shared pool, over half the server's CPU went to
    /// those wake-ups, and pushes were accepted at two thirds of the rate).
    Postgres { url: String, pool: Pool, listener: Listener },
}

impl Backend {
    pub fn sqlite(data: PathBuf) -> Backend {
        Backend::Sqlite { data }
    }

    /// Connects to the database at `url` (checking it is reachable), with at
    /// most `connections` at a time, and starts listening, on the current runtime.
    pub async fn postgres(url: &str, connections: usize) -> Result<Backend> {
        let pool = crate::postgres::connect(url, connections).await?;
        let listener = Listener::start(url)?;
        Ok(Backend::Postgres { url: url.to_owned(), pool, listener })
    }

    /// Opens (creating) the database of a tenant's application, on a thread of its own.
    pub async fn open(&self, tenant: &str, app: &str) -> Result<Store> {
        match self {
            Backend::Sqlite { data } => {
                let folder = data.join(tenant);
                std::fs::create_dir_all(&folder).map_err(|e| Error::Storage(format!("making {}: {e}", folder.display())))?;
                let path = folder.join(format!("{app}.sqlite"));
                let open: Opener<SqliteRecorder> = Arc::new(move || {
                    let path = path.clone();
                    Box::pin(async move { SqliteRecorder::open(&path) })
                });
                Store::open(app.to_owned(), open.clone(), open).await
            }
            Backend::Postgres { url, pool, listener } => {
                let tables = Arc::new(Tables::new(tenant, app)?);
                let (pool, opened) = (pool.clone(), tables.clone());
                let reader: Opener<PostgresRecorder> = Arc::new(move || {
                    let (pool, tables) = (pool.clone(), opened.clone());
                    Box::pin(async move { PostgresRecorder::open(pool, tables).await })
                });
                let (url, opened) = (url.clone(), tables.clone());
                let writer: Opener<PostgresRecorder> = Arc::new(move || {
                    let (url, tables) = (url.clone(), opened.clone());
                    Box::pin(async move { PostgresRecorder::open(crate::postgres::connect(&url, 1).await?, tables).await })
                });
                let store = Store::open(app.to_owned(), writer, reader).await?;
                listener.follow(tables, store.head_sender());
                Ok(store)
            }
        }
    }
}
