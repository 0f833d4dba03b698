//! Which database each tenant lives in: its `--tenant-database`, else
//! `--database`, else the SQLite folder. A process opens each database in use
//! once, at start (a pool and a listening connection per PostgreSQL database),
//! so that a wrong or unreachable one stops it before it serves anything.

use std::collections::HashMap;

use crate::backend::Backend;
use crate::config::Config;

pub struct Placement {
    /// Each database in use, once.
    backends: Vec<Backend>,
    /// A tenant's index in `backends`.
    tenants: HashMap<String, usize>,
}

/// Where a tenant's applications are.
#[derive(PartialEq, Eq)]
enum Place<'a> {
    Folder,
    Database(&'a str),
}

impl Placement {
    /// Opens every database a tenant of `config` lives in (on the current
    /// runtime, which drives their connections); why not, naming the tenants.
    pub async fn open(config: &Config) -> Result<Placement, String> {
        let mapped: HashMap<&str, &str> = config.tenant_databases.iter().map(|(name, url)| (name.as_str(), url.as_str())).collect();
        let mut places: Vec<(Place, Vec<&str>)> = Vec::new();
        for (name, _) in &config.tenants {
            let place = match mapped.get(name.as_str()).copied().or(config.database.as_deref()) {
                Some(url) => Place::Database(url),
                None => Place::Folder,
            };
            match places.iter_mut().find(|(p, _)| *p == place) {
                Some((_, names)) => names.push(name),
                None => places.push((place, vec![name])),
            }
        }
        let mut placement = Placement { backends: Vec::new(), tenants: HashMap::new() };
        for (place, names) in places {
            let backend = match place {
                Place::Folder => {
                    std::fs::create_dir_all(&config.data)
                        .map_err(|e| format!("cannot make the data folder {}: {e}", config.data.display()))?;
                    Backend::sqlite(config.data.clone())
                }
                Place::Database(url) => Backend::postgres(url, config.database_connections.into())
                    .await
                    .map_err(|e| format!("cannot use the database of {}: {e}", names.join(", ")))?,
            };
            let index = placement.backends.len();
            placement.backends.push(backend);
            placement.tenants.extend(names.into_iter().map(|name| (name.to_owned(), index)));
        }
        Ok(placement)
    }

    /// Where a tenant's applications are (none for a tenant not given).
    pub fn backend(&self, tenant: &str) -> Option<&Backend> {
        self.tenants.get(tenant).and_then(|index| self.backends.get(*index))
    }
}
