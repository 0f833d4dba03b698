//! The snapshot recorder over the `snapshots` store of an application's database.

use std::rc::Rc;

use async_trait::async_trait;
use futures::future::join_all;
use rexie::TransactionMode;
use uuid::Uuid;

use super::codec::snapshot_row;
use super::columns::read_rows;
use super::failure::storage;
use super::query::{versions, Positions};
use super::recorder::Connection;
use super::schema::SNAPSHOTS;
use super::write::{add_all, Row};
use crate::error::Result;
use crate::persistence::{validate_batch, AggregateRecorder, EventQuery, SnapshotRecorder, StoredEvent};

/// Snapshots beside an [`IndexedDbRecorder`](super::IndexedDbRecorder)'s events.
#[derive(Clone)]
pub struct IndexedDbSnapshots {
    connection: Rc<Connection>,
}

impl IndexedDbSnapshots {
    pub(crate) fn new(connection: Rc<Connection>) -> Self {
        IndexedDbSnapshots { connection }
    }
}

#[async_trait(?Send)]
impl AggregateRecorder for IndexedDbSnapshots {
    async fn insert_events(&self, snapshots: &[StoredEvent]) -> Result<Vec<u64>> {
        validate_batch(snapshots)?;
        let transaction = self.connection.transaction(&[SNAPSHOTS], TransactionMode::ReadWrite)?;
        let store = transaction.store(SNAPSHOTS).map_err(|e| storage("writing snapshots", e))?;
        let rows = snapshots.iter().map(|s| Ok((&store, snapshot_row(s)?, Row::Snapshot(s)))).collect::<Result<Vec<_>>>()?;
        add_all(transaction, rows).await?;
        Ok(vec![])
    }

    async fn select_events(&self, originator_id: Uuid, query: EventQuery) -> Result<Vec<StoredEvent>> {
        let transaction = self.connection.transaction(&[SNAPSHOTS], TransactionMode::ReadOnly)?;
        let store = transaction.store(SNAPSHOTS).map_err(|e| storage("reading snapshots", e))?;
        Ok(read_rows(&Positions::Store(store).select(&originator_id, &query).await?)?.into_iter().map(|(_, snapshot)| snapshot).collect())
    }
}

#[async_trait(?Send)]
impl SnapshotRecorder for IndexedDbSnapshots {
    async fn prune(&self, originator_id: Uuid, keep: usize) -> Result<usize> {
        let Some(all) = versions(&originator_id, &EventQuery::all())? else { return Ok(0) };
        let transaction = self.connection.transaction(&[SNAPSHOTS], TransactionMode::ReadWrite)?;
        let store = transaction.store(SNAPSHOTS).map_err(|e| storage("pruning snapshots", e))?;
        let keys = store.get_all_keys(Some(all), None).await.map_err(|e| storage("pruning snapshots", e))?;
        let excess = keys.len().saturating_sub(keep);
        for outcome in join_all(keys.into_iter().take(excess).map(|key| store.delete(key))).await {
            outcome.map_err(|e| storage("pruning snapshots", e))?;
        }
        transaction.done().await.map_err(|e| storage("pruning snapshots", e))?;
        Ok(excess)
    }
}
