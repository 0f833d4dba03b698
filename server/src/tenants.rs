//! Tenants, their tokens, and their applications' stores (opened on first use).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tributary::Kind;

use crate::http::error::ApiError;
use crate::placement::Placement;
use crate::store::Store;

/// A store by tenant and application, opened once (callers that come while it
/// opens wait for it), and when it was last asked for.
type Stores = HashMap<(String, String), (Arc<OnceCell<Store>>, Instant)>;

/// Open files an application's store may hold: its database's files or
/// sockets, and its threads' event loops (about 20 on SQLite, measured).
const FILES_PER_APPLICATION: u64 = 24;

pub struct Tenants {
    tokens: HashMap<String, String>,
    placement: Placement,
    stores: Mutex<Stores>,
    /// How many stores may be open at once.
    most_open: usize,
}

/// How many applications a process keeps open within `files` open files:
/// half of them, the other half left to clients' connections (one at least).
pub fn applications_within(files: u64) -> usize {
    usize::try_from(files / 2 / FILES_PER_APPLICATION).unwrap_or(usize::MAX).max(1)
}

/// A tenant or application name: safe as a file name, and as a path segment.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Tenants {
    /// The tenants, keeping at most `most_open` applications open at once.
    pub fn new(tenants: &[(String, String)], placement: Placement, most_open: usize) -> Self {
        Tenants { tokens: tenants.iter().cloned().collect(), placement, stores: Mutex::new(HashMap::new()), most_open }
    }

    /// Checks the bearer token against the tenant named in the path: none or a
    /// wrong one is 401, one of another tenant 403, an unknown tenant 404.
    pub fn authorize(&self, tenant: &str, bearer: Option<&str>) -> Result<(), ApiError> {
        let Some(bearer) = bearer else { return Err(ApiError::auth(401, "no token: send Authorization: Bearer TOKEN")) };
        let owner = self.tokens.iter().find(|(_, token)| same(token.as_bytes(), bearer.as_bytes())).map(|(name, _)| name);
        match (owner, self.tokens.contains_key(tenant)) {
            (None, _) => Err(ApiError::auth(401, "the token is wrong")),
            (Some(_), false) => Err(ApiError::not_found(format!("no tenant {tenant:?}"))),
            (Some(owner), true) if owner != tenant => Err(ApiError::auth(403, format!("the token is for another tenant, not {tenant:?}"))),
            _ => Ok(()),
        }
    }

    /// The store of a tenant's application, opened (and its database made) on first use.
    pub async fn store(&self, tenant: &str, app: &str) -> Result<Store, ApiError> {
        if !valid_name(app) {
            return Err(ApiError::invalid(format!(
                "application name {app:?}: letters, digits, '_', '-' and '.' only, 1 to 64, not starting with '.'"
            )));
        }
        let backend = self.placement.backend(tenant).ok_or_else(|| ApiError::not_found(format!("no tenant {tenant:?}")))?;
        let cell = {
            let mut stores = self.stores.lock().map_err(|_| ApiError::internal("the store registry is poisoned"))?;
            let key = (tenant.to_owned(), app.to_owned());
            if !stores.contains_key(&key) && stores.len() >= self.most_open {
                make_room(&mut stores)?;
            }
            let (cell, used) = stores.entry(key).or_insert_with(|| (Arc::default(), Instant::now()));
            *used = Instant::now();
            cell.clone()
        };
        Ok(cell.get_or_try_init(|| backend.open(tenant, app)).await?.clone())
    }

    /// Closes the stores not asked for in `idle` that no request holds (a
    /// long-poll, a push in a queue), so that every application ever used does
    /// not keep its threads and connections, nor one whose opening failed; the
    /// next request opens the store again. Answers how many were dropped.
    pub fn close_idle(&self, idle: Duration) -> usize {
        let Ok(mut stores) = self.stores.lock() else { return 0 };
        let before = stores.len();
        stores.retain(|_, (cell, used)| match cell.get() {
            Some(store) => used.elapsed() < idle || store.in_use(),
            // Still opening while a caller holds it; else its open failed:
            // kept, every name a token tried would stay for good.
            None => Arc::strong_count(cell) > 1,
        });
        before - stores.len()
    }

    /// Closes every store (their threads end once their last jobs are done).
    pub fn close(&self) {
        if let Ok(mut stores) = self.stores.lock() {
            stores.clear();
        }
    }
}

/// Closes the store asked for longest ago that no request holds, for one more
/// to open: every open store holds files, and a process that runs out of them
/// fails every tenant. With every store held, the new one waits for a retry.
fn make_room(stores: &mut Stores) -> Result<(), ApiError> {
    // A request that holds the cell may be about to take the store from it.
    let unheld = stores.iter().filter(|(_, (cell, _))| Arc::strong_count(cell) == 1 && cell.get().is_none_or(|store| !store.in_use()));
    let Some(oldest) = unheld.min_by_key(|(_, (_, used))| *used).map(|(key, _)| key.clone()) else {
        return Err(ApiError::new(
            Kind::Unavailable,
            format!("{} applications are in use on this server process, as many as it keeps open: retry soon", stores.len()),
        ));
    };
    stores.remove(&oldest);
    Ok(())
}

/// Compares tokens in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Config;

    /// A name whose opening fails (a SQLite file that cannot be opened, a
    /// PostgreSQL table name over 63 bytes) is not kept for good: an
    /// authenticated client could grow the registry by one per name tried.
    #[tokio::test]
    async fn an_application_that_failed_to_open_is_not_kept_by_the_registry() {
        let folder = tempfile::tempdir().unwrap();
        let data = folder.path().display().to_string();
        let config = Config::try_parse_from(["tributary-server", "--data", &data, "--tenant", "acme=secret-token"]).unwrap();
        let tenants = Tenants::new(&config.tenants, Placement::open(&config).await.unwrap(), 100);
        // a database file that cannot be opened (a folder stands in its place)
        std::fs::create_dir_all(folder.path().join("acme").join("broken.sqlite")).unwrap();
        for i in 0..3 {
            assert!(tenants.store("acme", "broken").await.is_err(), "attempt {i}");
        }
        assert!(tenants.store("acme", "dogs").await.is_ok());
        tenants.close_idle(Duration::ZERO);
        assert_eq!(tenants.stores.lock().unwrap().len(), 0, "neither the closed store nor the one that never opened is kept");
    }

    /// A store a request still holds (a push queued behind a long group, say)
    /// is not closed under it: another opened beside it would not hear of the
    /// events the first records, and its long-polls would sleep past them.
    #[tokio::test]
    async fn a_store_a_request_holds_is_not_closed_under_it() {
        let folder = tempfile::tempdir().unwrap();
        let data = folder.path().display().to_string();
        let config = Config::try_parse_from(["tributary-server", "--data", &data, "--tenant", "acme=secret-token"]).unwrap();
        let tenants = Tenants::new(&config.tenants, Placement::open(&config).await.unwrap(), 100);
        let held = tenants.store("acme", "dogs").await.unwrap();
        tenants.close_idle(Duration::ZERO);
        let next = tenants.store("acme", "dogs").await.unwrap();
        let event = tributary::persistence::StoredEvent {
            originator_id: uuid::Uuid::new_v4(),
            originator_version: 1,
            topic: "Dog.Registered".into(),
            state: b"{}".to_vec(),
        };
        let push = tributary::sync::protocol::Push { client_id: uuid::Uuid::new_v4(), events: vec![(1, event)], through: 1 };
        assert!(matches!(held.push(push).await, Ok(crate::push::Accepted::Recorded(_))));
        let mut head = next.head();
        let woken = tokio::time::timeout(Duration::from_secs(2), head.wait_for(|head| *head >= 1)).await;
        assert!(woken.is_ok(), "a long-poll on the store the next request got heard of the event");
    }
}
