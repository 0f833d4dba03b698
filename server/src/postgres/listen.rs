//! Wakes long-polls when any process commits events: one connection per server
//! `LISTEN`s on the channels of the applications it has open, and each
//! notification moves the head published to that application's waiters. So a
//! push through another server process (or a Python application) wakes a
//! device waiting here. Python notifies without a payload: the head is then
//! read from the table. After a lost connection it reconnects, listens again
//! and reads every head, for what it may have missed meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::StreamExt;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};
use tributary::{Error, Result};

use super::schema::Tables;
use crate::store::advance;

/// The process's listening connection, and who follows which channel.
#[derive(Clone)]
pub struct Listener {
    shared: Arc<Shared>,
}

struct Shared {
    config: Config,
    handle: Handle,
    /// By channel (the events table's name: one per application name, across schemas).
    followers: Mutex<HashMap<String, Vec<Follower>>>,
    /// The connected client, while there is one.
    client: Mutex<Option<Arc<Client>>>,
}

/// An open application's tables and the head its waiters watch.
#[derive(Clone)]
struct Follower {
    tables: Arc<Tables>,
    head: Weak<watch::Sender<u64>>,
}

impl Listener {
    /// Starts listening to the database at `url`, on the current runtime.
    pub fn start(url: &str) -> Result<Listener> {
        let mut config: Config = url.parse().map_err(|e| Error::invalid(format!("the database URL {:?}: {e}", super::pool::shown(url))))?;
        if config.get_application_name().is_none() {
            config.application_name("tributary-server listener");
        }
        let handle = Handle::try_current().map_err(|e| Error::Storage(format!("starting to listen: {e}")))?;
        let shared = Arc::new(Shared { config, handle, followers: Mutex::default(), client: Mutex::default() });
        shared.handle.spawn(listen(shared.clone()));
        Ok(Listener { shared })
    }

    /// Publishes to `head` every new head of the log in `tables`, for as long as `head` lives.
    pub fn follow(&self, tables: Arc<Tables>, head: &Arc<watch::Sender<u64>>) {
        let follower = Follower { tables, head: Arc::downgrade(head) };
        if let Ok(mut followers) = self.shared.followers.lock() {
            let following = followers.entry(follower.tables.channel.clone()).or_default();
            following.retain(|f| f.head.strong_count() > 0);
            following.push(follower.clone());
        }
        if let Some(client) = self.shared.client() {
            // Listen, then read the head: nothing committed in between is missed.
            let channel = follower.tables.channel.clone();
            self.shared.handle.spawn(async move {
                if subscribe(&client, &channel).await {
                    refresh(&client, &[follower]).await;
                }
            });
        }
    }
}

impl Shared {
    fn client(&self) -> Option<Arc<Client>> {
        self.client.lock().ok().and_then(|client| client.clone())
    }

    fn set_client(&self, client: Option<Arc<Client>>) {
        if let Ok(mut current) = self.client.lock() {
            *current = client;
        }
    }

    fn following(&self, channel: Option<&str>) -> Vec<Follower> {
        let Ok(followers) = self.followers.lock() else { return vec![] };
        match channel {
            Some(channel) => followers.get(channel).cloned().unwrap_or_default(),
            None => followers.values().flatten().cloned().collect(),
        }
    }

    /// A notification: ours say `"{events table} {head}"`, naming the table
    /// (a channel is shared by other schemas' applications of the same name,
    /// and by `a.b` and `a_b`); any other (Python's) means "read the head".
    fn notified(&self, channel: &str, payload: &str) {
        let ours = payload.rsplit_once(' ').and_then(|(table, head)| Some((table, head.parse::<u64>().ok()?)));
        match ours {
            Some((table, head)) => {
                for follower in self.following(Some(channel)).iter().filter(|f| f.tables.events == table) {
                    if let Some(sender) = follower.head.upgrade() {
                        advance(&sender, head);
                    }
                }
            }
            None => {
                if let Some(client) = self.client() {
                    let following = self.following(Some(channel));
                    self.handle.spawn(async move { refresh(&client, &following).await });
                }
            }
        }
    }
}

/// Connects, listens and dispatches until the connection ends; again, with a
/// growing pause, for as long as the process runs.
async fn listen(shared: Arc<Shared>) {
    let mut pause = Duration::from_millis(100);
    loop {
        match shared.config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                pause = Duration::from_millis(100);
                let client = Arc::new(client);
                shared.set_client(Some(client.clone()));
                let following = shared.following(None);
                shared.handle.spawn(async move {
                    let mut channels: Vec<&str> = following.iter().map(|f| f.tables.channel.as_str()).collect();
                    channels.sort_unstable();
                    channels.dedup();
                    for channel in channels {
                        subscribe(&client, channel).await;
                    }
                    refresh(&client, &following).await;
                });
                let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(AsyncMessage::Notification(n)) => shared.notified(n.channel(), n.payload()),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!("the PostgreSQL listener's connection failed: {}", super::explain(&error));
                            break;
                        }
                    }
                }
                shared.set_client(None);
            }
            Err(error) => tracing::warn!("the PostgreSQL listener cannot connect (again in {pause:?}): {}", super::explain(&error)),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// `LISTEN`s on a channel; whether it did.
async fn subscribe(client: &Client, channel: &str) -> bool {
    let quoted = format!("\"{}\"", channel.replace('"', "\"\""));
    match client.batch_execute(&format!("LISTEN {quoted}")).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!("listening on {quoted}: {error}");
            false
        }
    }
}

/// Reads followers' heads from their tables and publishes them.
async fn refresh(client: &Client, following: &[Follower]) {
    for follower in following {
        let Some(sender) = follower.head.upgrade() else { continue };
        let events = &follower.tables.events;
        match client.query_one(&format!("SELECT MAX(notification_id) FROM {events}"), &[]).await {
            Ok(row) => {
                if let Ok(Some(head)) = row.try_get::<_, Option<i64>>(0) {
                    advance(&sender, u64::try_from(head).unwrap_or(0));
                }
            }
            Err(error) => tracing::warn!("reading the head of {events}: {error}"),
        }
    }
}
