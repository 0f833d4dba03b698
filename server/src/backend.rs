//! Where the applications' databases live: a SQLite file per tenant and
//! application under a folder (the default), or a schema per tenant in a
//! PostgreSQL database, shared by any number of server processes. (Which
//! tenant is in which: [`crate::placement`].)

use std::path::PathBuf;
use std::sync::Arc;

use tributary::{Error, Result};

use crate::postgres::{Database, Listener, PostgresRecorder, Tables};
use crate::sqlite::SqliteRecorder;
use crate::store::{Opener, Store};

/// Connections a server process keeps at most to a PostgreSQL database (besides
/// its listener's), unless `--database-connections` says otherwise: each
/// thread of an application (its writer, its readers) holds one while busy.
pub const POSTGRES_CONNECTIONS: u16 = 16;

pub enum Backend {
    /// `{data}/{tenant}/{app}.sqlite`.
    Sqlite { data: PathBuf },
    /// Schema `{tenant}`, tables `{app}_*`; the listener wakes waits on other processes' writes.
    Postgres { database: Database, listener: Listener },
}

impl Backend {
    pub fn sqlite(data: PathBuf) -> Backend {
        Backend::Sqlite { data }
    }

    /// Connects to the database at `url` (checking it is reachable), with at
    /// most `connections` at a time, and starts listening, on the current runtime.
    pub async fn postgres(url: &str, connections: usize) -> Result<Backend> {
        let database = Database::open(url, connections).await?;
        let listener = Listener::start(url)?;
        Ok(Backend::Postgres { database, listener })
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
                Store::open(app.to_owned(), open).await
            }
            Backend::Postgres { database, listener } => {
                let tables = Arc::new(Tables::new(tenant, app)?);
                let (database, opened) = (database.clone(), tables.clone());
                let open: Opener<PostgresRecorder> = Arc::new(move || {
                    let (database, tables) = (database.clone(), opened.clone());
                    Box::pin(async move {
                        let recorder = PostgresRecorder::open(database.for_this_thread()?, tables).await?;
                        Ok(recorder.giving_way(database.wants()))
                    })
                });
                let store = Store::open(app.to_owned(), open).await?;
                listener.follow(tables, store.head_sender());
                Ok(store)
            }
        }
    }
}
