//! tributary's sync server: each tenant's applications' notification logs,
//! over HTTP, in the Python library's formats, with pushes recorded exactly once.
//!
//! - [`config`]: the command line;
//! - [`http`]: routes and layers; [`push`]: recording a client's push once;
//! - [`tenants`]: tokens and stores; [`store`]: one database's thread;
//! - [`backend`]: where the databases live; [`sqlite`] and [`postgres`]: the
//!   adapters of the core's ports; [`integers`]: versions and ids in SQL.

pub mod backend;
pub mod config;
pub mod http;
pub mod integers;
pub mod postgres;
pub mod push;
pub mod sqlite;
pub mod store;
pub mod tenants;
