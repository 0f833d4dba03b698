//! The connection pool. Its connections are driven by the runtime it was made
//! on, not by whichever database thread happened to open one: a connection
//! shared by every thread must not stall while one of them is busy. (A pool
//! made on a database thread, as each writer's pool of one is, is driven there:
//! its queries then cross no thread.)

use std::time::Duration;

use deadpool_postgres::{Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use futures::future::BoxFuture;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};
use tributary::{Error, Result};

/// How long making a connection, or waiting for a free one, may take.
const PATIENCE: Duration = Duration::from_secs(30);

/// A pool of at most `size` connections to the database at `url`
/// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, without TLS). Must be called
/// on the runtime that is to drive the connections. Connects once, so that a
/// wrong URL or an unreachable server is an error now rather than at first use.
pub async fn connect(url: &str, size: usize) -> Result<Pool> {
    let mut config: Config = url.parse().map_err(|e| Error::invalid(format!("the database URL {:?}: {e}", shown(url))))?;
    if config.get_application_name().is_none() {
        config.application_name("tributary-server");
    }
    let handle = Handle::try_current().map_err(|e| Error::Storage(format!("making a connection pool: {e}")))?;
    let manager = Manager::from_connect(config, OnRuntime { handle }, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let timeouts = Timeouts { wait: Some(PATIENCE), create: Some(PATIENCE), recycle: Some(PATIENCE) };
    let pool = Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .timeouts(timeouts)
        .build()
        .map_err(|e| Error::Storage(format!("making a connection pool: {e}")))?;
    let client = pool.get().await.map_err(|e| super::unreachable(&format!("connecting to PostgreSQL at {}", shown(url)), e))?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| Error::Storage(format!("talking to PostgreSQL at {}: {}", shown(url), super::explain(&e))))?;
    Ok(pool)
}

/// The URL without its password, for messages.
pub(super) fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => format!("{scheme}://{}:***@{host}", user.split(':').next().unwrap_or_default()),
        _ => url.to_owned(),
    }
}

/// Makes connections on a runtime, and drives them there.
struct OnRuntime {
    handle: Handle,
}

impl Connect for OnRuntime {
    fn connect(&self, config: &Config) -> BoxFuture<'_, std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        let config = config.clone();
        Box::pin(async move {
            let (made, making) = oneshot::channel();
            let driver = self.handle.spawn(async move {
                match config.connect(NoTls).await {
                    Err(error) => drop(made.send(Err(error))),
                    Ok((client, connection)) => {
                        if made.send(Ok(client)).is_ok() {
                            if let Err(error) = connection.await {
                                tracing::warn!("a PostgreSQL connection ended: {error}");
                            }
                        }
                    }
                }
            });
            match making.await {
                Ok(made) => made.map(|client| (client, driver)),
                // The runtime dropped the task (it is shutting down): no
                // connection comes, and the pool's create timeout answers.
                Err(_) => std::future::pending().await,
            }
        })
    }
}
