//! Tenants, their tokens, and their applications' stores (opened on first use).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::http::error::ApiError;
use crate::store::Store;

pub struct Tenants {
    tokens: HashMap<String, String>,
    data: PathBuf,
    stores: Mutex<HashMap<(String, String), Store>>,
}

/// A tenant or application name: safe as a file name, and as a path segment.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Tenants {
    pub fn new(tenants: &[(String, String)], data: PathBuf) -> Self {
        Tenants { tokens: tenants.iter().cloned().collect(), data, stores: Mutex::new(HashMap::new()) }
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

    /// The store of a tenant's application, opened (and its file made) on first use.
    pub fn store(&self, tenant: &str, app: &str) -> Result<Store, ApiError> {
        if !valid_name(app) {
            return Err(ApiError::invalid(format!(
                "application name {app:?}: letters, digits, '_', '-' and '.' only, 1 to 64, not starting with '.'"
            )));
        }
        let mut stores = self.stores.lock().map_err(|_| ApiError::internal("the store registry is poisoned"))?;
        if let Some(store) = stores.get(&(tenant.to_owned(), app.to_owned())) {
            return Ok(store.clone());
        }
        let folder = self.data.join(tenant);
        std::fs::create_dir_all(&folder).map_err(|e| ApiError::internal(format!("making {}: {e}", folder.display())))?;
        let store = Store::open(folder.join(format!("{app}.sqlite")), app.to_owned())?;
        stores.insert((tenant.to_owned(), app.to_owned()), store.clone());
        Ok(store)
    }

    /// Closes every store (their threads end once their last jobs are done).
    pub fn close(&self) {
        if let Ok(mut stores) = self.stores.lock() {
            stores.clear();
        }
    }
}

/// Compares tokens in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
