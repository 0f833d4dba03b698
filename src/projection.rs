//! Projections: materialised views kept up to date from the notification log.
//! A [`Handler`] turns events into row changes staged in [`Staged`]; the
//! [`ProjectionRunner`] commits each batch's changes with the view's tracking
//! record in one atomic step, so every event is applied exactly once. The rows
//! and the view recorder port live in [`persistence`](crate::persistence);
//! process applications in [`system`](crate::system).

mod handler;
mod runner;
mod staged;

pub use handler::Handler;
pub use runner::{Failure, Notified, ProjectionRunner, Step, DEFAULT_BATCH_SIZE};
pub use staged::{check_public_key, RowCache, Staged};
