//! Getting an aggregate back: the newest usable snapshot, then the events after
//! it, up to a version or a time, read and folded a bounded batch at a time so
//! that an aggregate of any size can be replayed.

use serde_json::Value;
use uuid::Uuid;

use super::Application;
use crate::domain::{AggregateType, DomainEvent, Fold, Snapshot, Timestamp};
use crate::error::{Error, Result};
use crate::persistence::{EventQuery, StoredEvent};

/// Which state of an aggregate to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// After its newest event.
    Latest,
    /// After the event at this version.
    Version(u64),
    /// After its newest event at or before this time.
    Time(Timestamp),
}

/// An aggregate replayed as JSON, for types known only by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub id: Uuid,
    pub aggregate_type: String,
    pub version: u64,
    pub created_on: Timestamp,
    pub modified_on: Timestamp,
    pub state: Value,
}

/// Where a replay ended: everything about the aggregate but its state, which
/// stays with the [`Folding`] that built it.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub aggregate_type: String,
    pub version: u64,
    pub created_on: Timestamp,
    pub modified_on: Timestamp,
}

/// Builds an aggregate's state during a replay, one bounded batch of events
/// at a time, so that a fold living elsewhere (in JavaScript) keeps its state
/// there and only events cross.
pub trait Folding {
    /// Starts from a snapshot's state, or from the type's initial state.
    fn start(&mut self, aggregate_type: &AggregateType, snapshot: Option<Value>) -> Result<()>;
    fn apply(&mut self, events: &[DomainEvent]) -> Result<()>;
    /// Whether each call of `apply` passes over the whole state (a state kept
    /// as JSON): such a fold gets events gathered across pages, up to
    /// 4 MiB (`CHUNK_BYTES`) a call; others get each page as it is read.
    fn whole_state_per_call(&self) -> bool {
        false
    }
}

/// Events read from storage in one go: the first page, and at most. Pages in
/// between hold about [`PAGE_BYTES`], judged by the events read so far. Each
/// next page is asked for before one is folded, so that storage reads it
/// meanwhile: pages small enough to overlap, large enough to be few.
const FIRST_PAGE: usize = 250;
const MAX_PAGE: usize = 2_000;
const PAGE_BYTES: usize = 1 << 20;
/// At most this many bytes of stored state per call of [`Folding::apply`].
const CHUNK_BYTES: usize = 4 << 20;

/// Folds by the registry's [`Fold`], keeping the state as JSON.
#[derive(Default)]
pub(super) struct JsonFolding {
    fold: Option<std::rc::Rc<dyn Fold>>,
    pub(super) state: Value,
}

impl Folding for JsonFolding {
    fn start(&mut self, aggregate_type: &AggregateType, snapshot: Option<Value>) -> Result<()> {
        self.state = match snapshot {
            Some(state) => aggregate_type.fold.read_snapshot(state)?,
            None => aggregate_type.fold.initial()?,
        };
        self.fold = Some(aggregate_type.fold.clone());
        Ok(())
    }

    fn apply(&mut self, events: &[DomainEvent]) -> Result<()> {
        let fold = self.fold.as_ref().ok_or_else(|| Error::corrupt("a replay applied events before it started"))?;
        self.state = fold.apply(std::mem::take(&mut self.state), events)?;
        Ok(())
    }

    fn whole_state_per_call(&self) -> bool {
        true
    }
}

impl Application {
    /// Any aggregate, folded as JSON by its registered type.
    pub async fn replay(&self, id: Uuid, at: At) -> Result<Replayed> {
        let mut folding = JsonFolding::default();
        let head = self.replay_with(id, at, None, &mut folding).await?;
        Ok(Replayed {
            id,
            aggregate_type: head.aggregate_type,
            version: head.version,
            created_on: head.created_on,
            modified_on: head.modified_on,
            state: folding.state,
        })
    }

    /// Replays an aggregate into `folding`: from the newest snapshot usable for
    /// `at`, then the events after it, a page at a time. With `expected`, an
    /// aggregate of another type is refused before anything is folded. A
    /// snapshot the type cannot read (another program's) is passed over: the
    /// events are the record, a snapshot only a shortcut.
    pub async fn replay_with(&self, id: Uuid, at: At, expected: Option<&str>, folding: &mut dyn Folding) -> Result<Head> {
        if id.is_nil() {
            return Err(Error::invalid("the aggregate id must not be the nil UUID"));
        }
        let lte = match at {
            At::Version(version) => Some(version),
            _ => None,
        };
        if let Some(expected) = expected {
            self.registry().aggregate(expected)?;
        }
        let mut head = None;
        let mut last = None;
        // The first page is read alongside the snapshot (one wait, not two); it
        // is of use when there is no snapshot, the usual case for small aggregates.
        let first = EventQuery { lte, limit: Some(FIRST_PAGE), ..EventQuery::all() };
        let (snapshot, first_page) = futures::future::join(self.usable_snapshot(id, at, lte), self.recorder.select_events(id, first)).await;
        let mut first_page = Some(first_page?);
        if let Some(snapshot) = snapshot? {
            let aggregate_type = self.checked_type(&snapshot.aggregate_type, expected)?;
            match folding.start(aggregate_type, Some(snapshot.state)) {
                Err(Error::Corrupt(_)) => {}
                started => {
                    started?;
                    first_page = None;
                    head = Some(Head {
                        aggregate_type: aggregate_type.name.clone(),
                        version: snapshot.originator_version,
                        created_on: snapshot.created_on,
                        modified_on: snapshot.modified_on,
                    });
                    last = Some(snapshot.originator_version);
                }
            }
        }
        let mut page_size = FIRST_PAGE;
        let mut ahead = None;
        let (mut pending, mut pending_bytes) = (Vec::new(), 0);
        let folded = async {
            loop {
                let page = match (first_page.take(), ahead.take()) {
                    (Some(page), _) => page,
                    (None, Some(read)) => read_ahead(read).await?,
                    (None, None) => {
                        self.recorder.select_events(id, EventQuery { gt: last, lte, limit: Some(page_size), ..EventQuery::all() }).await?
                    }
                };
                let full = page.len() == page_size;
                let mean = page.iter().map(|e| e.state.len()).sum::<usize>() / page.len().max(1);
                page_size = (PAGE_BYTES / mean.max(1)).clamp(1, MAX_PAGE);
                // Unless the page ends where the replay must.
                if let (true, Some(newest)) = (full, page.last().filter(|newest| lte != Some(newest.originator_version))) {
                    let next = EventQuery { gt: Some(newest.originator_version), lte, limit: Some(page_size), ..EventQuery::all() };
                    ahead = Some(started(self.recorder.select_events(id, next)).await);
                }
                let mut events = Vec::with_capacity(page.len());
                let mut passed_time = false;
                for record in &page {
                    let event = self.mapper().to_domain_event(record)?;
                    if matches!(at, At::Time(time) if event.timestamp > time) {
                        passed_time = true;
                        break;
                    }
                    events.push(event);
                }
                let Some(first) = events.first() else { break };
                let head = match &mut head {
                    Some(head) => head,
                    None => {
                        let aggregate_type = self.checked_type(self.registry().resolve(&first.topic)?.aggregate_type, expected)?;
                        folding.start(aggregate_type, None)?;
                        let name = aggregate_type.name.clone();
                        head.insert(Head { aggregate_type: name, version: 0, created_on: first.timestamp, modified_on: first.timestamp })
                    }
                };
                for (event, record) in events.into_iter().zip(&page) {
                    if let Some(last) = last.filter(|last| event.originator_version != last + 1) {
                        return Err(Error::corrupt(format!("aggregate {id}: version {} follows {last}", event.originator_version)));
                    }
                    last = Some(event.originator_version);
                    head.version = event.originator_version;
                    head.modified_on = event.timestamp;
                    pending_bytes += record.state.len();
                    pending.push(event);
                    if pending_bytes >= CHUNK_BYTES {
                        folding.apply(&std::mem::take(&mut pending))?;
                        pending_bytes = 0;
                    }
                }
                if !folding.whole_state_per_call() {
                    folding.apply(&std::mem::take(&mut pending))?;
                    pending_bytes = 0;
                }
                if passed_time || !full {
                    break;
                }
            }
            match pending.is_empty() {
                true => Ok(()),
                false => folding.apply(&pending),
            }
        }
        .await;
        // A page still being read is let finish: dropped mid-read, its request
        // would call back into closures already freed.
        if let Some(read) = ahead.take() {
            let _ = read_ahead(read).await;
        }
        folded?;
        let Some(head) = head else {
            return Err(Error::NotFound(match at {
                At::Time(time) => format!("aggregate {id} at {time} (none, or not yet created)"),
                _ => format!("aggregate {id}"),
            }));
        };
        match lte {
            Some(version) if head.version < version => {
                Err(Error::NotFound(format!("aggregate {id} at version {version}: its latest is {}", head.version)))
            }
            _ => Ok(head),
        }
    }

    /// The registered type of this name, if it is the one expected.
    fn checked_type(&self, found: &str, expected: Option<&str>) -> Result<&AggregateType> {
        let aggregate_type = self.registry().aggregate(found)?;
        match expected {
            Some(expected) if expected != aggregate_type.name => {
                Err(Error::invalid(format!("the aggregate is a {}, not a {expected}", aggregate_type.name)))
            }
            _ => Ok(aggregate_type),
        }
    }

    async fn usable_snapshot(&self, id: Uuid, at: At, lte: Option<u64>) -> Result<Option<Snapshot>> {
        match at {
            At::Time(time) => {
                for record in self.snapshots.select_events(id, EventQuery { desc: true, ..EventQuery::all() }).await? {
                    match self.mapper().to_usable_snapshot(&record)? {
                        Some(snapshot) if snapshot.modified_on <= time => return Ok(Some(snapshot)),
                        _ => {}
                    }
                }
                Ok(None)
            }
            // One of a newer release is passed over: the events rebuild the aggregate.
            _ => match self.snapshots.select_events(id, EventQuery::last(lte)).await?.first() {
                Some(record) => self.mapper().to_usable_snapshot(record),
                None => Ok(None),
            },
        }
    }
}

/// A read started at once (its first poll asks storage), to be awaited later.
type Ahead<'a> = futures::future::MaybeDone<futures::future::LocalBoxFuture<'a, Result<Vec<StoredEvent>>>>;

async fn started<'a>(read: impl std::future::Future<Output = Result<Vec<StoredEvent>>> + 'a) -> Ahead<'a> {
    let mut read = futures::future::maybe_done(futures::FutureExt::boxed_local(read));
    let _ = futures::poll!(&mut read);
    read
}

async fn read_ahead(mut read: Ahead<'_>) -> Result<Vec<StoredEvent>> {
    (&mut read).await;
    std::pin::Pin::new(&mut read).take_output().unwrap_or_else(|| Err(Error::Storage("a page read ahead was lost".into())))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::domain::{Aggregate, EventType};
    use crate::persistence::MemoryApplicationRecorder;
    use crate::NewEvent;

    thread_local! {
        /// How many times a `Counter` state was read from JSON.
        static READS: Cell<usize> = const { Cell::new(0) };
    }

    #[derive(Clone, Default, Serialize)]
    struct Counter {
        count: u64,
    }

    impl<'de> Deserialize<'de> for Counter {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
            #[derive(Deserialize)]
            struct Plain {
                count: u64,
            }
            READS.with(|reads| reads.set(reads.get() + 1));
            Plain::deserialize(deserializer).map(|plain| Counter { count: plain.count })
        }
    }

    impl Aggregate for Counter {
        const TYPE: &'static str = "Counter";
        const EVENTS: &'static [EventType] = &[EventType::new("Counted")];

        fn apply(&mut self, _: &DomainEvent) -> Result<()> {
            self.count += 1;
            Ok(())
        }
    }

    #[test]
    fn a_fold_keeping_its_state_as_json_gets_events_gathered_across_pages() {
        futures::executor::block_on(async {
            let mut app = Application::new("counters", Rc::new(MemoryApplicationRecorder::new()));
            app.register::<Counter>();
            let id = uuid::Uuid::new_v4();
            let counted = || NewEvent {
                aggregate_type: "Counter".into(),
                id: Some(id),
                event: "Counted".into(),
                payload: json!({}),
                expected_version: None,
            };
            for _ in 0..10 {
                app.record(&(0..1000).map(|_| counted()).collect::<Vec<_>>()).await.unwrap();
            }
            READS.with(|reads| reads.set(0));
            // read in six pages (250, then 2,000 at a time), folded by name through JSON
            let replayed = app.replay(id, At::Latest).await.unwrap();
            assert_eq!(replayed.state, json!({ "count": 10_000 }));
            let reads = READS.with(Cell::get);
            assert!(reads <= 2, "the state went through JSON {reads} times");
        });
    }
}
