//! Connections to PostgreSQL. A server process gives each database thread of
//! each application (its writer, its readers) a connection of its own, made
//! and driven on that thread: a query's round trip then wakes no other thread
//! (with one pool driven by the main runtime, over half the server's CPU went
//! to those wake-ups). A [`Database`] bounds how many are open at a time, and a
//! thread lets its connection go when it has had nothing to do for a while
//! (at once, between jobs, when another thread waits for a place). [`connect`]
//! makes a plain pool, driven by the runtime it is made on (tests use it).

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Connect, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use futures::future::BoxFuture;
use tokio::runtime::Handle;
use tokio::sync::{oneshot, watch, Semaphore};
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
    let pool = pool(&config(url)?, size, None)?;
    check(&pool, url).await?;
    Ok(pool)
}

/// A database the process connects to, at most `limit` connections at a time.
#[derive(Clone)]
pub struct Database {
    config: Arc<Config>,
    budget: Budget,
}

/// The places of a database's connections, and how many times a thread has
/// had to wait for one: an idle thread that sees it go up lets its connection
/// go (see [`Database::wants`]), or a thread could wait for as long as the
/// others keep busy.
#[derive(Clone)]
struct Budget {
    places: Arc<Semaphore>,
    wants: Arc<watch::Sender<u64>>,
}

impl Database {
    /// Checks that the database at `url` answers (one connection, closed again).
    pub async fn open(url: &str, limit: usize) -> Result<Database> {
        let budget = Budget { places: Arc::new(Semaphore::new(limit.max(1))), wants: Arc::new(watch::channel(0).0) };
        let database = Database { config: Arc::new(config(url)?), budget };
        check(&database.for_this_thread()?, url).await?;
        Ok(database)
    }

    /// A pool of one connection for the calling thread, made and driven on its
    /// runtime when first asked for, holding one of the database's `limit`
    /// places while open (a thread waits for a place, up to the pool's patience).
    pub fn for_this_thread(&self) -> Result<Pool> {
        pool(&self.config, 1, Some(self.budget.clone()))
    }

    /// Moves on each time a thread starts waiting for a place.
    pub fn wants(&self) -> watch::Receiver<u64> {
        self.budget.wants.subscribe()
    }
}

/// Closes the pool's connections that nobody is using, giving their places back.
pub fn let_idle_go(pool: &Pool) {
    drop(pool.retain(|_, _| false));
}

fn config(url: &str) -> Result<Config> {
    let mut config: Config = url.parse().map_err(|e| Error::invalid(format!("the database URL {:?}: {e}", shown(url))))?;
    if config.get_application_name().is_none() {
        config.application_name("tributary-server");
    }
    Ok(config)
}

/// A pool of at most `size` connections driven on the calling runtime, each
/// holding a place of `budget` (if any) while open.
fn pool(config: &Config, size: usize, budget: Option<Budget>) -> Result<Pool> {
    let handle = Handle::try_current().map_err(|e| Error::Storage(format!("making a connection pool: {e}")))?;
    let connect = OnRuntime { handle, budget };
    let manager = Manager::from_connect(config.clone(), connect, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let timeouts = Timeouts { wait: Some(PATIENCE), create: Some(PATIENCE), recycle: Some(PATIENCE) };
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .timeouts(timeouts)
        .build()
        .map_err(|e| Error::Storage(format!("making a connection pool: {e}")))
}

/// Gets a connection and runs a query on it: the URL is right and the database answers.
async fn check(pool: &Pool, url: &str) -> Result<()> {
    let client = pool.get().await.map_err(|e| super::unreachable(&format!("connecting to PostgreSQL at {}", shown(url)), e))?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(|e| Error::Storage(format!("talking to PostgreSQL at {}: {}", shown(url), super::explain(&e))))?;
    Ok(())
}

/// The URL without its password, for messages.
pub(super) fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => format!("{scheme}://{}:***@{host}", user.split(':').next().unwrap_or_default()),
        _ => url.to_owned(),
    }
}

/// Makes connections on a runtime, and drives them there; each holds a place
/// of the budget until it closes.
struct OnRuntime {
    handle: Handle,
    budget: Option<Budget>,
}

impl Connect for OnRuntime {
    fn connect(&self, config: &Config) -> BoxFuture<'_, std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        let config = config.clone();
        Box::pin(async move {
            let place = match &self.budget {
                // Never closed: a place always comes, or the pool's create timeout answers.
                Some(budget) => Some(match budget.places.clone().try_acquire_owned() {
                    Ok(place) => Some(place),
                    Err(_) => {
                        budget.wants.send_modify(|wants| *wants += 1);
                        budget.places.clone().acquire_owned().await.ok()
                    }
                }),
                None => None,
            };
            let (made, making) = oneshot::channel();
            let driver = self.handle.spawn(async move {
                let _place = place;
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
