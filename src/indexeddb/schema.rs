//! The database schema, versioned: a later release adds stores or indexes with
//! an upgrade (opening a version 1 database adds `rows`), and this release
//! refuses a database a newer one has upgraded.

use futures::future::{select, Either};
use rexie::{Index, ObjectStore, Rexie};

use super::failure::{dom_error, storage};
use crate::error::{Error, Result};

/// The schema version this release writes (the IndexedDB database version).
/// 1: events, snapshots, tracking. 2: adds `rows`, for views. 3: the same
/// stores, with sync's removals counted in `tracking` (see `removal_row` in
/// `newest.rs`): a release before it would
/// remove events without counting them, so it must not open such a database.
pub const SCHEMA_VERSION: u32 = 3;

pub(crate) const EVENTS: &str = "events";
pub(crate) const SNAPSHOTS: &str = "snapshots";
pub(crate) const TRACKING: &str = "tracking";
pub(crate) const ROWS: &str = "rows";
pub(crate) const ROW_INDEX: &str = "index";
pub(crate) const POSITION: &str = "position";
pub(crate) const TOPIC: &str = "topic";
pub(crate) const ALL_STORES: [&str; 4] = [EVENTS, SNAPSHOTS, TRACKING, ROWS];

/// How long an open may wait for other tabs to let an upgrade through.
pub(crate) const BLOCKED_AFTER_MS: u64 = 10_000;

/// Opens (creating or upgrading) the database of this name.
pub(crate) async fn open(name: &str) -> Result<Rexie> {
    if name.is_empty() {
        return Err(Error::invalid("a database name must not be empty"));
    }
    refuse_foreign(name).await?;
    let build = Rexie::builder(name)
        .version(SCHEMA_VERSION)
        .add_object_store(
            ObjectStore::new(EVENTS)
                .key_path("id")
                .add_index(Index::new_array(POSITION, ["originator_id", "originator_version"]).unique(true))
                .add_index(Index::new_array(TOPIC, ["topic", "id"])),
        )
        .add_object_store(ObjectStore::new(SNAPSHOTS).key_path_array(["originator_id", "originator_version"]))
        .add_object_store(ObjectStore::new(TRACKING).key_path_array(["application_name", "notification_id"]))
        // Views' rows by [view, key]; `idx` holds one [view, field, value] entry
        // per indexed field, so a view's index is a key range of one index.
        .add_object_store(ObjectStore::new(ROWS).key_path_array(["view", "key"]).add_index(Index::new(ROW_INDEX, "idx").multi_entry(true)))
        .build();
    let blocked = futures_timer::Delay::new(std::time::Duration::from_millis(BLOCKED_AFTER_MS));
    let database = match select(Box::pin(build), blocked).await {
        Either::Left((opened, _)) => opened.map_err(|e| open_failure(name, e))?,
        Either::Right((_, build)) => {
            // Not dropped while its request is out (the browser would call its dropped
            // callbacks): left to finish, and its connection closed if it opens.
            wasm_bindgen_futures::spawn_local(async move { build.await.map(|database| database.close()).unwrap_or(()) });
            return Err(Error::Storage(format!(
                "opening database {name:?} is blocked: another tab holds an older version open; close or reload the other tabs"
            )));
        }
    };
    let stores = database.store_names();
    if let Some(missing) = ALL_STORES.iter().find(|s| !stores.iter().any(|n| n == *s)) {
        database.close();
        return Err(Error::Storage(format!("database {name:?} is not a tributary database (no {missing:?} store)")));
    }
    Ok(database)
}

/// An upgrade drops every store the schema does not name, so first open the
/// database as it is (no upgrade) and refuse one holding stores of another app.
/// A newer release's stores are its own: the open then refuses it as newer.
async fn refuse_foreign(name: &str) -> Result<()> {
    let existing = Rexie::builder(name).build().await.map_err(|e| open_failure(name, e))?;
    let (stores, version) = (existing.store_names(), existing.version());
    existing.close();
    if version.is_ok_and(|version| version > SCHEMA_VERSION) {
        return Ok(());
    }
    match stores.iter().find(|store| !ALL_STORES.contains(&store.as_str())) {
        Some(foreign) => {
            Err(Error::Storage(format!("database {name:?} is not a tributary database (it has a {foreign:?} store); nothing was changed")))
        }
        None => Ok(()),
    }
}

fn open_failure(name: &str, error: rexie::Error) -> Error {
    match dom_error(&error) {
        Some((kind, message)) if kind == "VersionError" => Error::Storage(format!(
            "database {name:?} was written by a newer release of tributary (schema above {SCHEMA_VERSION}); update this app ({kind}: {message})"
        )),
        // Not a connection closed by another tab (as these names mean once open): the browser refuses IndexedDB to this page.
        Some((kind, message)) if kind == "InvalidStateError" || kind == "SecurityError" => Error::Storage(format!(
            "opening database {name:?}: {UNAVAILABLE} ({kind}: {message})"
        )),
        None if matches!(error, rexie::Error::IdbError(idb::Error::IndexedDbNotFound(_))) && in_node() => {
            Error::Storage(format!("opening database {name:?}: Node has no IndexedDB; open the application with storage: \"memory\""))
        }
        None if matches!(error, rexie::Error::IdbError(idb::Error::IndexedDbNotFound(_))) => {
            Error::Storage(format!("opening database {name:?}: {UNAVAILABLE} (there is no indexedDB)"))
        }
        _ => storage(&format!("opening database {name:?}"), error),
    }
}

/// Runs in Node (`process.versions.node` is a string), where there is no IndexedDB.
fn in_node() -> bool {
    let get = |target: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(target, &key.into()).unwrap_or_default();
    get(&get(&get(&js_sys::global(), "process"), "versions"), "node").is_string()
}

/// What a page refused IndexedDB can do.
const UNAVAILABLE: &str =
    "this browser does not let the page use IndexedDB (private browsing, or storage blocked for the site); open the application with storage: \"memory\"";

/// Deletes a database. Waits until every tab has closed it.
pub async fn delete_database(name: &str) -> Result<()> {
    Rexie::delete(name).await.map_err(|e| storage(&format!("deleting database {name:?}"), e))
}
