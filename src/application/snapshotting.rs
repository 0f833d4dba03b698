//! Snapshots: taken on demand, or every N versions in the same transaction as
//! the events that reach them; pruned to the newest K.

use std::collections::HashSet;

use uuid::Uuid;

use super::{loading::At, Application};
use crate::domain::{now, DomainEvent, Snapshot};
use crate::error::{Error, Result};
use crate::persistence::{EventQuery, StoredEvent};

impl Application {
    /// Snapshots an aggregate at `version` (its latest when `None`). Taking the
    /// same snapshot twice is harmless: the state at a version never changes.
    pub async fn take_snapshot(&self, id: Uuid, version: Option<u64>) -> Result<Snapshot> {
        self.snapshot(id, version, None).await
    }

    /// Snapshots an aggregate that must be of `aggregate_type`: one of another
    /// type is refused before anything is replayed or written.
    pub async fn take_snapshot_of(&self, aggregate_type: &str, id: Uuid, version: Option<u64>) -> Result<Snapshot> {
        self.snapshot(id, version, Some(aggregate_type)).await
    }

    async fn snapshot(&self, id: Uuid, version: Option<u64>, expected: Option<&str>) -> Result<Snapshot> {
        let mut folding = super::loading::JsonFolding::default();
        let head = self.replay_with(id, version.map_or(At::Latest, At::Version), expected, &mut folding).await?;
        let snapshot = Snapshot {
            originator_id: id,
            originator_version: head.version,
            aggregate_type: head.aggregate_type,
            timestamp: now(),
            created_on: head.created_on,
            modified_on: head.modified_on,
            state: folding.state,
        };
        let stored = self.stored_snapshot(&snapshot)?;
        match self.snapshots.insert_events(std::slice::from_ref(&stored)).await {
            Ok(_) | Err(Error::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
        self.prune_snapshots(&[stored]).await;
        Ok(snapshot)
    }

    /// The snapshots due at the versions these unsaved events reach: the state
    /// before them (replayed), folded through them. Each aggregate's events in a
    /// batch must follow one another, so the fold is the aggregate's history.
    pub(crate) async fn due_snapshots(&self, events: &[DomainEvent]) -> Result<Vec<Snapshot>> {
        let mut due = Vec::new();
        for (id, run) in runs_by_aggregate(events)? {
            let aggregate_type = self.registry().aggregate(self.registry().resolve(&run[0].topic)?.aggregate_type)?;
            let Some(every) = self.snapshot_every.get(&aggregate_type.name).copied() else { continue };
            if !run.iter().any(|e| e.originator_version % every == 0) {
                continue;
            }
            let first = run[0].originator_version;
            // The first event is at the type's initial version (1, or 0 for types counting from 0).
            let (mut state, created_on) = if first == aggregate_type.initial_version {
                (aggregate_type.fold.initial()?, run[0].timestamp)
            } else {
                let Some(before) = first.checked_sub(1) else { continue }; // below the initial version: no history to fold
                match self.replay(id, At::Version(before)).await {
                    Ok(before) => (before.state, before.created_on),
                    Err(Error::NotFound(_)) => continue, // no history: refused by check_follows, or left to the insert
                    Err(error) => return Err(error),
                }
            };
            let mut applied = 0;
            for (i, event) in run.iter().enumerate().filter(|(_, e)| e.originator_version % every == 0) {
                state = aggregate_type.fold.apply(state, &run[applied..=i])?;
                applied = i + 1;
                due.push(Snapshot {
                    originator_id: id,
                    originator_version: event.originator_version,
                    aggregate_type: aggregate_type.name.clone(),
                    timestamp: now(),
                    created_on,
                    modified_on: event.timestamp,
                    state: state.clone(),
                });
            }
        }
        Ok(due)
    }

    /// Checks that each aggregate's first event in a save comes right after its
    /// newest stored version, or at its type's initial version when it has none.
    /// A version already taken is left to the insert, which refuses it atomically.
    pub(crate) async fn check_follows(&self, events: &[DomainEvent]) -> Result<()> {
        for (id, run) in runs_by_aggregate(events)? {
            let first = run[0].originator_version;
            let newest = self.recorder.select_events(id, EventQuery::last(None)).await?.pop().map(|e| e.originator_version);
            let initial = self.registry().aggregate(self.registry().resolve(&run[0].topic)?.aggregate_type)?.initial_version;
            let refused = match newest {
                Some(newest) => newest.checked_add(1).is_some_and(|next| first > next),
                None => first != initial,
            };
            if refused {
                let after = newest.map_or_else(|| format!("no event (the first is version {initial})"), |v| format!("version {v}"));
                return Err(Error::invalid(format!(
                    "aggregate {id}: version {first} does not follow {after}; versions must follow one another"
                )));
            }
        }
        Ok(())
    }

    /// A snapshot the aggregate's fold made, as stored: a state no snapshot can
    /// hold (not an object, or a key snapshots reserve) is the fold's fault, not the caller's.
    pub(crate) fn stored_snapshot(&self, snapshot: &Snapshot) -> Result<StoredEvent> {
        Snapshot::validate_state(&snapshot.aggregate_type, &snapshot.state).map_err(|e| match e {
            Error::Validation(why) => Error::Handler(format!("the state made by the initial state, apply or upcasters: {why}")),
            other => other,
        })?;
        self.mapper().to_stored_snapshot(snapshot)
    }

    /// Keeps the newest snapshots of each aggregate just snapshotted. Best
    /// effort: it runs after the write has committed, so a failure must not
    /// report that write as failed (its caller would make it again); the
    /// aggregate's next snapshot prunes what this one left.
    pub(crate) async fn prune_snapshots(&self, written: &[StoredEvent]) {
        let Some(keep) = self.keep_snapshots else { return };
        let ids: HashSet<Uuid> = written.iter().map(|s| s.originator_id).collect();
        for id in ids {
            let _ = self.snapshots.prune(id, keep).await;
        }
    }
}

/// Groups a batch's events by aggregate, in first-seen order, checking that
/// each aggregate's versions follow one another.
fn runs_by_aggregate(events: &[DomainEvent]) -> Result<Vec<(Uuid, Vec<DomainEvent>)>> {
    let mut runs: Vec<(Uuid, Vec<DomainEvent>)> = Vec::new();
    for event in events {
        match runs.iter_mut().find(|(id, _)| *id == event.originator_id) {
            Some((_, run)) => {
                let last = run.last().expect("runs are never empty").originator_version;
                if last.checked_add(1) != Some(event.originator_version) {
                    return Err(Error::invalid(format!(
                        "aggregate {}: version {} follows {last} in one save; versions must follow one another",
                        event.originator_id, event.originator_version
                    )));
                }
                run.push(event.clone());
            }
            None => runs.push((event.originator_id, vec![event.clone()])),
        }
    }
    Ok(runs)
}
