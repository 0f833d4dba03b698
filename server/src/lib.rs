//! tributary's sync server: each tenant's applications' notification logs,
//! over HTTP, in the Python library's formats, with pushes recorded exactly once.
//!
//! - [`config`]: the command line;
//! - [`http`]: routes and layers; [`push`]: recording clients' pushes once, in groups;
//! - [`tenants`]: tokens and stores; [`store`]: one database's threads;
//!   [`recent`] and [`page`]: the notifications devices pull;
//!   [`recorder`]: what the server needs of a recorder beyond the core's ports;
//! - [`backend`]: where the databases live, [`placement`]: which tenant is in
//!   which; [`sqlite`] and [`postgres`]: the
//!   adapters of the core's ports; [`sql`]: versions, ids and migrations in SQL.

pub mod backend;
pub mod config;
pub mod http;
pub mod page;
pub mod placement;
pub mod postgres;
pub mod push;
pub mod recent;
pub mod recorder;
pub mod sql;
pub mod sqlite;
pub mod store;
pub mod tenants;
