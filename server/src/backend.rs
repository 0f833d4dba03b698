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
use crate::store::Store;

/// Connections a server process keeps at most to a PostgreSQL database (besides
/// its listener's), unless `--database-connections` says otherwise: each of
/// an application's threads takes one per call.
pub const POSTGRES_CONNECTIONS: u16 = 16;

pub enum Backend {
    /// `{data}/{tenant}/{app}.sqlite`.
    Sqlite { data: PathBuf },
    /// Schema `{tenant}`, tables `{app}_*`; the listener wakes waits on other processes' writes.
    Postgres { pool: Pool, listener: Listener },
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
        Ok(Backend::Postgres { pool, listener })
    }

    /// Opens (creating) the database of a tenant's application, on a thread of its own.
    pub async fn open(&self, tenant: &str, app: &str) -> Result<Store> {
        match self {
            Backend::Sqlite { data } => {
                let folder = data.join(tenant);
                std::fs::create_dir_all(&folder).map_err(|e| Error::Storage(format!("making {}: {e}", folder.display())))?;
                let path = folder.join(format!("{app}.sqlite"));
                Store::open(
                    app.to_owned(),
                    Arc::new(move || {
                        let path = path.clone();
                        Box::pin(async move { SqliteRecorder::open(&path) })
                    }),
                )
                .await
            }
            Backend::Postgres { pool, listener } => {
                let tables = Arc::new(Tables::new(tenant, app)?);
                let (pool, opened) = (pool.clone(), tables.clone());
                let open = move || {
                    let (pool, tables) = (pool.clone(), opened.clone());
                    Box::pin(async move { PostgresRecorder::open(pool, tables).await }) as _
                };
                let store = Store::open(app.to_owned(), Arc::new(open)).await?;
                listener.follow(tables, store.head_sender());
                Ok(store)
            }
        }
    }
}
