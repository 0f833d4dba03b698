//! The domain layer: events, the aggregates folded from them, and the registry of
//! aggregate types, event types and upcasters. No storage, no I/O.

mod aggregate;
mod event;
mod id;
mod registry;
mod root;
mod snapshot;
mod timestamp;

pub use aggregate::{Aggregate, EventType};
pub(crate) use event::validate_id;
pub use event::{DomainEvent, Payload};
pub use id::{id_from_name, new_id};
pub use registry::{AggregateType, Fold, Registry, Upcaster};
pub use root::{Pending, Root};
pub use snapshot::Snapshot;
pub use timestamp::{now, parse_iso, to_iso, Timestamp};
