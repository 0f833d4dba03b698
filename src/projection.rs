//! Projections: materialised views kept up to date from the notification log.
//! A view is a named set of rows (key -> JSON) with secondary indexes; a
//! projection turns events into row changes; the runner applies each batch of
//! changes with the view's tracking record in one atomic step, so every event
//! is applied exactly once. Process applications do the same with events of
//! their own instead of rows.

mod handler;
mod process;
mod recorder;
mod rows;
mod runner;

pub use handler::{Handler, Staged};
pub use process::{Policy, ProcessApplication, System};
pub use recorder::ViewRecorder;
pub use rows::{is_private, IndexKey, Row, RowChanges, RowQuery, ViewDefinition, PRIVATE};
pub use runner::{Failure, Notified, Projected, Projection, ProjectionRunner, Step, ViewRows, DEFAULT_BATCH_SIZE};
