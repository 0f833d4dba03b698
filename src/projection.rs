//! Projections: materialised views kept up to date from the notification log.
//! A view is a named set of rows (key -> JSON) with secondary indexes; a
//! projection turns events into row changes; the runner applies each batch of
//! changes with the view's tracking record in one atomic step, so every event
//! is applied exactly once. The rows and the view recorder port live in
//! [`persistence`](crate::persistence); process applications in [`system`](crate::system).

mod handler;
mod runner;

pub use handler::{Handler, Staged};
pub use runner::{Failure, Notified, Projected, Projection, ProjectionRunner, Step, ViewRows, DEFAULT_BATCH_SIZE};
