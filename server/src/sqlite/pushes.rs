//! A group of pushes in one SQLite transaction, begun IMMEDIATE: the write
//! lock is taken before anything is read, so what the group decides on is
//! what it writes over, and the group costs one commit (one fsync).

use async_trait::async_trait;
use rusqlite::TransactionBehavior;
use tributary::persistence::validate_batch;
use tributary::Result;
use uuid::Uuid;

use super::events::{fits, ids_at, insert_events, insert_tracking, tracked};
use super::{storage, SqliteRecorder};
use crate::recorder::{Decide, Found, ServerRecorder};

#[async_trait(?Send)]
impl ServerRecorder for SqliteRecorder {
    async fn record_pushes(
        &self,
        names: &[String],
        _firsts: &[u64],
        positions: &[(Uuid, u64)],
        decide: Decide<'_, '_>,
    ) -> Result<Vec<u64>> {
        self.with(|connection| {
            let tx =
                connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| storage("starting a transaction", e))?;
            let tracked = names.iter().map(|name| tracked(&tx, name)).collect::<Result<Vec<_>>>()?;
            let write = decide(Found { tracked, ids: ids_at(&tx, positions)? });
            validate_batch(write.events.iter().copied())?;
            fits(write.events.iter().copied())?;
            let ids = insert_events(&tx, write.events.iter().copied(), None)?;
            for tracking in &write.tracking {
                insert_tracking(&tx, tracking)?;
            }
            tx.commit().map_err(|e| storage("committing", e))?;
            Ok(ids)
        })
    }
}
