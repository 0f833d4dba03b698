//! Sync with a server: the wire protocol ([`protocol`]), the HTTP port the core
//! speaks through ([`Http`]), and the client that pulls the server's log into
//! the local one and pushes local events to it, exactly once each, keeping
//! conflicts aside for the application to resolve. No I/O of its own.

mod client;
mod conflict;
mod http;
pub mod limits;
pub mod live;
pub mod protocol;
pub mod pull;
pub mod push;
pub mod round;
mod state;

pub use client::{Progress, SyncClient, SyncOptions, TRACKING_PREFIX};
pub use conflict::{Conflict, Resolution};
pub use http::{Http, Method, Request, Response, MORE};
