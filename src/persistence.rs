//! The persistence layer: the records storage keeps (events, snapshots,
//! tracking records, views' rows), the recorder ports every adapter implements, the mapper between domain events and stored records, and
//! the in-memory adapter.

mod by_position;
mod codec;
mod mapper;
mod memory;
mod record;
mod recorder;
mod rows;
mod transcoder;

pub(crate) use by_position::ByPosition;
pub use codec::{Cipher, Codec, MAX_INFLATED};
pub use mapper::{Mapper, SNAPSHOT_TOPIC};
pub use memory::{MemoryApplicationRecorder, MemorySnapshotRecorder};
pub use record::{validate_batch, EventQuery, Notification, StoredEvent, Tracking, MAX_SAFE};
pub use recorder::{
    poll, AggregateRecorder, ApplicationRecorder, NotificationQuery, Prepare, Recording, Removal, SnapshotRecorder, SyncRecorder,
    SyncWrite, TrackingRecorder, ViewRecorder,
};
pub use rows::{
    cleared_row, cleared_since, is_private, text_order, Bound, IndexKey, Row, RowChanges, RowQuery, ViewDefinition, CLEARED, PRIVATE,
};
pub(crate) use transcoder::python_float;
