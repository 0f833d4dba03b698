//! The IndexedDB adapter (wasm32 only), via `rexie`. One database per
//! application holds three object stores, so that one readwrite transaction can
//! write events, their snapshots and a tracking record together:
//!
//! - `events`: keyed by notification id, unique index `position` on
//!   `[originator_id, originator_version]` (a taken position is a `ConstraintError`,
//!   so a conflict), index `topic` on `[topic, id]` for filtered log reads;
//! - `snapshots`: keyed by `[originator_id, originator_version]`;
//! - `tracking`: keyed by `[application_name, notification_id]`;
//! - `rows` (schema 2): views' rows keyed by `[view, key]`, with a multi-entry
//!   index over `[view, field, value]` for their secondary indexes.
//!
//! Reads use key ranges and `getAll`; only "newest first" reads step a cursor,
//! and only as far as their limit.

mod codec;
mod columns;
mod failure;
mod newest;
mod query;
mod recorder;
mod schema;
mod snapshots;
mod sync;
mod views;
mod write;

pub use recorder::IndexedDbRecorder;
pub use schema::{delete_database, SCHEMA_VERSION};
pub use snapshots::IndexedDbSnapshots;
