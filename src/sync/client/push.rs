//! Pushing: one batch of pending local events, recorded by the server once,
//! and what its reply settles.

use super::SyncClient;
use crate::error::{Error, Result};
use crate::persistence::{Notification, RowChanges, SyncWrite, Tracking, MAX_SAFE};
use crate::sync::http::Method;
use crate::sync::limits::PUSH_BYTES;
use crate::sync::protocol::{malformed, ConflictReply, PushReply, PushRequest, PushedEvent};
use crate::sync::Progress;

impl SyncClient {
    /// Pushes one batch of pending local events; a refusal for conflicts is
    /// [`Error::Conflict`] (nothing was written on the server: pull, then push again).
    pub async fn push(&self) -> Result<Progress> {
        let mut state = self.state().await?;
        // Read first: every local event up to it is in the pending read after, or settled, or gone.
        let head = self.app.max_notification_id().await?;
        let pending = self.pending_in_order(&mut state, self.options.batch + 1).await?;
        if pending.is_empty() {
            self.save_state(&state).await?;
            return Ok(Progress { position: self.position().await?, ..Progress::default() });
        }
        let mut bytes = 0;
        let batch: Vec<&Notification> = pending
            .iter()
            .take(self.options.batch)
            .take_while(|n| {
                bytes += n.state.len();
                bytes <= PUSH_BYTES
            })
            .collect();
        let batch = if batch.is_empty() { vec![&pending[0]] } else { batch };
        // Positions up to the next pending event (or the head read before) that this push
        // leaves out are gone from the log for good: the server's position for this
        // client moves past them, so that a late copy of an older push holding them
        // cannot record them after a conflict took them out.
        let last = batch.last().map_or(0, |n| n.id);
        let through = pending.get(batch.len()).map_or(head, |next| (next.id - 1).min(head)).max(last);
        let events = batch.iter().map(|n| PushedEvent::new(n.id, &n.stored_event())).collect();
        let request = PushRequest { client_id: state.client_id, events, through: Some(through) };
        let body = serde_json::to_vec(&request).map_err(|e| Error::invalid(format!("a push request: {e}")))?;
        let response = self.send(Method::Post, format!("{}/push", self.options.url), Some(body), "pushing").await?;
        if response.status == 409 {
            let reply: ConflictReply = serde_json::from_slice(&response.body).map_err(|e| malformed(format!("the conflict reply: {e}")))?;
            let first = reply.conflicts.first().ok_or_else(|| malformed("a conflict reply names no event"))?;
            let originator_id = first.originator_id.parse().map_err(|_| malformed("a conflict names no valid aggregate"))?;
            // Only an event of this push can conflict: another would send the round pulling and pushing again for nothing.
            if !batch.iter().any(|n| n.originator_id == originator_id && n.originator_version == first.originator_version) {
                return Err(malformed(format!(
                    "a conflict names {originator_id} v{}, which this push did not hold",
                    first.originator_version
                )));
            }
            return Err(Error::Conflict { originator_id, originator_version: first.originator_version, detail: reply.message });
        }
        let reply: PushReply = serde_json::from_slice(&response.ok("pushing")?).map_err(|e| malformed(format!("the push reply: {e}")))?;
        if reply.notification_ids.len() != batch.len() || reply.notification_ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(malformed(format!("{} notification ids for {} events pushed", reply.notification_ids.len(), batch.len())));
        }
        // Ids count from 1: a 0 would settle an event the server has given no place;
        // past 2^53 - 1, the local log could not hold the position it reaches.
        if reply.notification_ids.first() == Some(&0) || reply.notification_ids.last().is_some_and(|id| *id > MAX_SAFE) {
            return Err(malformed(format!(
                "a pushed event was given a notification id outside 1 to 2^53 - 1: {:?}",
                reply.notification_ids
            )));
        }
        let position = self.position().await?;
        for (notification, server_id) in batch.iter().zip(&reply.notification_ids) {
            let at = (notification.originator_id, notification.originator_version);
            state.settled.insert(at);
            if *server_id > position {
                state.returning.insert(*server_id, at);
            }
        }
        // When the server gave this push the ids right after the pull position,
        // nobody else wrote in between: the pull position moves past them at once,
        // instead of pulling this client's own events back.
        let first = reply.notification_ids.first().copied().unwrap_or(0);
        let last = reply.notification_ids.last().copied().unwrap_or(0);
        let contiguous = first == position + 1 && last - first + 1 == reply.notification_ids.len() as u64;
        let reached = contiguous.then(|| Tracking { application_name: self.upstream(), notification_id: last });
        if reached.is_some() {
            state.returning.retain(|server_id| server_id > last);
        }
        let mut rows = RowChanges::new();
        rows.insert("state".into(), Some(state.row()?));
        let write = SyncWrite { tracking: reached.as_ref(), rows: &[(&self.private_view(), &rows)], ..SyncWrite::default() };
        self.recorder.write_sync(write).await?;
        Ok(Progress { pushed: batch.len() as u64, position: reached.map_or(position, |t| t.notification_id), ..Progress::default() })
    }
}
