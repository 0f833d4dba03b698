//! Aggregate ids: random for new things, or derived from a name so that the same
//! name always finds the same aggregate (Python's `Dog.create_id(name)`).

use uuid::Uuid;

/// A fresh random (version 4) id.
pub fn new_id() -> Uuid {
    Uuid::new_v4()
}

/// The version 5 id of `name` in `namespace`: `uuid5(namespace, name)` in Python.
pub fn id_from_name(namespace: &Uuid, name: &str) -> Uuid {
    Uuid::new_v5(namespace, name.as_bytes())
}
