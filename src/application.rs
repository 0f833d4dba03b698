//! The application layer: saves aggregates atomically, gets them back (latest,
//! at a version, at a time), keeps snapshots, and presents the notification log.

mod loading;
mod notification_log;
mod recording;
mod section_json;
mod snapshotting;

use std::collections::HashMap;
use std::rc::Rc;

use uuid::Uuid;

pub use loading::{At, Folding, Head, Replayed};
pub use notification_log::{
    encoded_notifications_to_json, notification_to_json, notifications_to_json, NotificationLog, Section, SectionId, DEFAULT_SECTION_SIZE,
};
pub use recording::{NewEvent, Recorded};

use crate::domain::{Aggregate, DomainEvent, Pending, Registry, Root};
use crate::error::{Error, Result};
use crate::persistence::{
    ApplicationRecorder, Codec, Mapper, MemoryApplicationRecorder, Notification, NotificationQuery, Recording, SnapshotRecorder, Tracking,
};

/// An event-sourced application: one log of events, its snapshots, its types.
/// Cloning is cheap and shares the storage.
#[derive(Clone)]
pub struct Application {
    name: String,
    recorder: Rc<dyn ApplicationRecorder>,
    snapshots: Rc<dyn SnapshotRecorder>,
    mapper: Mapper,
    /// Aggregate type -> take a snapshot at every multiple of this version.
    snapshot_every: HashMap<String, u64>,
    /// Keep at most this many snapshots per aggregate.
    keep_snapshots: Option<usize>,
    section_size: usize,
    /// Held while recording by name, so that this process's appends queue
    /// instead of racing for the same versions (clones share it).
    recording: Rc<futures::lock::Mutex<()>>,
}

impl Application {
    /// An application over a recorder (and the snapshot store beside it).
    pub fn new(name: impl Into<String>, recorder: Rc<dyn ApplicationRecorder>) -> Self {
        Application {
            name: name.into(),
            snapshots: recorder.snapshots(),
            recorder,
            mapper: Mapper::default(),
            snapshot_every: HashMap::new(),
            keep_snapshots: None,
            section_size: DEFAULT_SECTION_SIZE,
            recording: Rc::default(),
        }
    }

    /// An application kept in memory.
    pub fn in_memory(name: impl Into<String>) -> Self {
        Self::new(name, Rc::new(MemoryApplicationRecorder::new()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers a Rust aggregate type, so its events can be saved and read.
    pub fn register<A: Aggregate + 'static>(&mut self) -> &mut Self {
        self.mapper.registry_mut().register_aggregate::<A>();
        self
    }

    /// The registry of types, renames and upcasters.
    pub fn registry(&self) -> &Registry {
        self.mapper.registry()
    }

    pub fn registry_mut(&mut self) -> &mut Registry {
        self.mapper.registry_mut()
    }

    /// Takes a snapshot of every `aggregate_type` whose version reaches a multiple of `every`.
    pub fn snapshot_every(&mut self, aggregate_type: impl Into<String>, every: u64) -> Result<&mut Self> {
        if every == 0 {
            return Err(Error::invalid("a snapshot interval must be at least 1"));
        }
        self.snapshot_every.insert(aggregate_type.into(), every);
        Ok(self)
    }

    /// Keeps only the newest `keep` snapshots of each aggregate.
    pub fn keep_snapshots(&mut self, keep: usize) -> Result<&mut Self> {
        if keep == 0 {
            return Err(Error::invalid("keep at least one snapshot per aggregate"));
        }
        self.keep_snapshots = Some(keep);
        Ok(self)
    }

    /// Sets how many notifications a log section holds at most.
    pub fn section_size(&mut self, size: usize) -> Result<&mut Self> {
        if size == 0 {
            return Err(Error::invalid("a section holds at least one notification"));
        }
        self.section_size = size;
        Ok(self)
    }

    /// Saves the pending events of many aggregates in one atomic insert and
    /// returns their notification ids. On error nothing is saved and the
    /// aggregates keep their pending events.
    pub async fn save(&self, aggregates: &mut [&mut dyn Pending]) -> Result<Vec<u64>> {
        let events: Vec<DomainEvent> = aggregates.iter().flat_map(|a| a.pending_events().iter().cloned()).collect();
        let ids = self.save_events(&events).await?;
        aggregates.iter_mut().for_each(|a| a.clear_pending());
        Ok(ids)
    }

    /// Saves events, and the snapshots they are due, in one atomic insert.
    pub async fn save_events(&self, events: &[DomainEvent]) -> Result<Vec<u64>> {
        self.save_tracked(events, None).await
    }

    /// Saves events with the tracking record of the upstream notification that
    /// caused them: both or neither, so that it is processed exactly once.
    /// Each aggregate's first event must follow its newest stored version (or
    /// be a new one's first): a gap would leave it unreadable.
    pub async fn save_tracked(&self, events: &[DomainEvent], tracking: Option<&Tracking>) -> Result<Vec<u64>> {
        self.check_follows(events).await?;
        self.save_prepared(events, tracking).await
    }

    /// [`Self::save_tracked`] for events just prepared after the stored heads.
    pub(crate) async fn save_prepared(&self, events: &[DomainEvent], tracking: Option<&Tracking>) -> Result<Vec<u64>> {
        let stored = events.iter().map(|e| self.mapper.to_stored_event(e)).collect::<Result<Vec<_>>>()?;
        let snapshots = self.due_snapshots(events).await?;
        let snapshots = snapshots.iter().map(|s| self.stored_snapshot(s)).collect::<Result<Vec<_>>>()?;
        let ids = self.recorder.record(Recording { events: &stored, snapshots: &snapshots, tracking }).await?;
        self.prune_snapshots(&snapshots).await;
        Ok(ids)
    }

    /// An aggregate at its latest version.
    pub async fn get<A: Aggregate + 'static>(&self, id: Uuid) -> Result<Root<A>> {
        self.get_at(id, At::Latest).await
    }

    /// An aggregate as it was at a version or a time.
    pub async fn get_at<A: Aggregate + 'static>(&self, id: Uuid, at: At) -> Result<Root<A>> {
        let mut folding = Typed::<A>(None);
        let head = self.replay_with(id, at, Some(A::TYPE), &mut folding).await?;
        let state = folding.0.ok_or_else(|| Error::corrupt(format!("aggregate {id} replayed no state")))?;
        Ok(Root::restored(id, head.version, head.created_on, head.modified_on, state))
    }

    /// The id of the newest notification in the log (0 while it is empty).
    pub async fn max_notification_id(&self) -> Result<u64> {
        Ok(self.recorder.max_notification_id().await?.unwrap_or(0))
    }

    /// The recorder: events, notifications, tracking (and views, for adapters that keep them).
    pub fn recorder(&self) -> &Rc<dyn ApplicationRecorder> {
        &self.recorder
    }

    /// Notifications from the log, as the query says (its topics are
    /// tributary's: events stored under mapped topics match them too).
    pub async fn notifications(&self, query: &NotificationQuery) -> Result<Vec<Notification>> {
        self.recorder.select_notifications(&self.stored_query(query)).await
    }

    /// Notifications as the query says, with the newest notification id when
    /// they were read (the query's topics are tributary's).
    pub async fn notifications_with_head(&self, query: &NotificationQuery) -> Result<(Vec<Notification>, u64)> {
        self.recorder.select_notifications_with_head(&self.stored_query(query)).await
    }

    fn stored_query(&self, query: &NotificationQuery) -> NotificationQuery {
        NotificationQuery { topics: self.registry().stored_topics(&query.topics), ..query.clone() }
    }

    /// The notification log, in sections.
    pub fn notification_log(&self) -> NotificationLog<'_> {
        NotificationLog::new(self.recorder.as_ref(), self.section_size)
    }

    pub fn mapper(&self) -> &Mapper {
        &self.mapper
    }

    /// Compresses and encrypts stored state with `codec` (and reads it so).
    pub fn set_codec(&mut self, codec: Codec) -> &mut Self {
        self.mapper.set_codec(codec);
        self
    }

    /// Reads the newest stored event with this application's codec, so that a
    /// store written with another key (or none, or another compression) is a
    /// typed error when opened rather than a log of mixed keys later.
    pub async fn check_codec(&self) -> Result<()> {
        let head = self.max_notification_id().await?;
        if head == 0 {
            return Ok(());
        }
        match self.notifications(&NotificationQuery::new(head, 1)).await?.first() {
            Some(newest) => self.mapper.readable(&newest.stored_event()),
            None => Ok(()),
        }
    }
}

/// Folds a Rust aggregate type directly, without going through JSON.
struct Typed<A>(Option<A>);

impl<A: Aggregate> Folding for Typed<A> {
    fn start(&mut self, _: &crate::domain::AggregateType, snapshot: Option<serde_json::Value>) -> Result<()> {
        let state = match snapshot {
            Some(state) => serde_json::from_value(state).map_err(|e| Error::corrupt(format!("{} snapshot: {e}", A::TYPE)))?,
            None => A::default(),
        };
        self.0 = Some(state);
        Ok(())
    }

    fn apply(&mut self, events: &[DomainEvent]) -> Result<()> {
        let state = self.0.as_mut().ok_or_else(|| Error::corrupt("a replay applied events before it started"))?;
        events.iter().try_for_each(|event| state.apply(event))
    }
}
