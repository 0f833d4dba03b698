//! Conflicts as the application sees them, and their resolution: local events
//! that lost to the server's, rebased after its newest version or discarded.

use serde_json::Value;
use uuid::Uuid;

use super::SyncClient;
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use crate::persistence::{EventQuery, RowChanges, RowQuery, StoredEvent, SyncWrite};
use crate::sync::conflict::{Conflict, Kept, Resolution, PREFIX};

impl SyncClient {
    /// The conflicts held for the application, oldest first (by when their
    /// first lost event was recorded). A conflict's
    /// server side is what the log holds of the aggregate from its version on,
    /// less this client's own events not yet pushed (another conflict's
    /// rebased events, say): those are not the server's.
    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        let rows = self.recorder.query_rows(&self.private_view(), &RowQuery::default()).await?;
        let kept =
            rows.into_iter().filter(|row| row.key.starts_with(PREFIX)).map(|row| Kept::read(row.value)).collect::<Result<Vec<_>>>()?;
        if kept.is_empty() {
            return Ok(Vec::new());
        }
        let pending = self.pending(&mut self.state().await?).await?;
        let mut conflicts = Vec::new();
        for kept in kept {
            let mut server =
                self.app.events(kept.originator_id, EventQuery { gt: kept.version.checked_sub(1), ..EventQuery::all() }).await?;
            server.retain(|e| !pending.contains_key(&(e.originator_id, e.originator_version)));
            conflicts.push(Conflict::decoded(&kept, self.app.mapper(), server)?);
        }
        // Rows come in the order of their random ids.
        conflicts.sort_by_key(|c| (c.recorded_on(), c.originator_id, c.version));
        Ok(conflicts)
    }

    /// Resolves a conflict: rebase its events after the server's newest version
    /// (through the aggregate's fold: if that fails, the conflict stays), or discard them.
    pub async fn resolve(&self, id: Uuid, resolution: Resolution) -> Result<()> {
        let key = format!("{PREFIX}{id}");
        let view = self.private_view();
        let row = self.recorder.get_row(&view, &key).await?.ok_or_else(|| Error::NotFound(format!("conflict {id}")))?;
        let kept = Kept::read(row)?;
        let events = match resolution {
            Resolution::Discard => Vec::new(),
            Resolution::Rebase => self.rebased(&kept).await?,
        };
        let mut rows = RowChanges::new();
        rows.insert(key, None);
        self.recorder.write_sync(SyncWrite { events: &events, rows: &[(&view, &rows)], ..SyncWrite::default() }).await?;
        Ok(())
    }

    /// With `rebase_conflicts`, rebases every conflict held (in version order): those
    /// a pull just kept, and those a round cut off between its pull and their
    /// rebase left (a page closed). One that cannot be rebased stays for the application.
    pub(super) async fn rebase_held(&self) -> Result<()> {
        if !self.options.rebase_conflicts {
            return Ok(());
        }
        let rows = self.recorder.query_rows(&self.private_view(), &RowQuery::default()).await?;
        let mut held: Vec<Kept> =
            rows.into_iter().filter(|row| row.key.starts_with(PREFIX)).filter_map(|row| Kept::read(row.value).ok()).collect();
        held.sort_by_key(|kept| (kept.originator_id, kept.version));
        for kept in held {
            let _ = self.resolve(kept.id, Resolution::Rebase).await;
        }
        Ok(())
    }

    /// A conflict's lost events, recorded again after the aggregate's newest.
    async fn rebased(&self, kept: &Kept) -> Result<Vec<StoredEvent>> {
        let lost = kept.stored()?.iter().map(|e| self.app.mapper().to_domain_event(e)).collect::<Result<Vec<_>>>()?;
        let current = self.app.replay(kept.originator_id, crate::application::At::Latest).await?;
        let aggregate_type = self.app.registry().aggregate(&current.aggregate_type)?;
        let mut version = current.version;
        let events: Vec<DomainEvent> = lost
            .into_iter()
            .map(|event| {
                version += 1;
                DomainEvent::new(
                    event.originator_id,
                    version,
                    event.topic,
                    event.timestamp.max(current.modified_on),
                    Value::Object(event.payload),
                )
            })
            .collect::<Result<_>>()?;
        aggregate_type.fold.apply(current.state, &events)?;
        events.iter().map(|e| self.app.mapper().to_stored_event(e)).collect()
    }
}
