//! A push's decisions, without I/O: which pending events go in the next batch
//! (and how far the client's position moves with them), what the server's reply
//! means, and what it settles.

use uuid::Uuid;

use super::http::{Method, Request, Response};
use super::limits::PUSH_BYTES;
use super::protocol::{malformed, ConflictReply, PushReply, PushRequest, PushedEvent};
use super::state::State;
use crate::error::{Error, Result};
use crate::persistence::{Notification, MAX_SAFE};

/// The next batch of pending events to push.
#[derive(Debug)]
pub struct Batch {
    pub events: Vec<Notification>,
    pub request: PushRequest,
}

impl Batch {
    /// The next batch from `pending` (log order, up to `limit` + 1 events: one more
    /// says where the next batch begins), and `head`, the local log's newest id read
    /// before them: at most `limit` events and [`PUSH_BYTES`] (but always one). `None`:
    /// nothing is pending.
    pub fn plan(client_id: Uuid, pending: &[Notification], head: u64, limit: usize) -> Option<Batch> {
        let first = pending.first()?;
        let mut bytes = 0;
        let mut events: Vec<Notification> = pending
            .iter()
            .take(limit)
            .take_while(|n| {
                bytes += n.state.len();
                bytes <= PUSH_BYTES
            })
            .cloned()
            .collect();
        if events.is_empty() {
            events.push(first.clone());
        }
        // Positions up to the next pending event (or the head read before) that this push
        // leaves out are gone from the log for good: the server's position for this
        // client moves past them, so that a late copy of an older push holding them
        // cannot record them after a conflict took them out.
        let last = events.last().map_or(0, |n| n.id);
        let through = pending.get(events.len()).map_or(head, |next| (next.id - 1).min(head)).max(last);
        let pushed = events.iter().map(|n| PushedEvent::new(n.id, &n.stored_event())).collect();
        Some(Batch { events, request: PushRequest { client_id, events: pushed, through: Some(through) } })
    }

    /// The HTTP request pushing this batch to the application at `url`.
    pub fn request(&self, url: &str, token: Option<&str>) -> Result<Request> {
        let body = serde_json::to_vec(&self.request).map_err(|e| Error::invalid(format!("a push request: {e}")))?;
        Ok(Request { method: Method::Post, url: format!("{url}/push"), token: token.map(str::to_owned), body: Some(body) })
    }

    /// The server's notification ids for the batch, in order; [`Error::Conflict`]
    /// when it refused the batch for conflicts (nothing was written: pull, then push
    /// again); a sync error for any reply that does not fit the batch.
    pub fn acknowledged(&self, response: Response) -> Result<Vec<u64>> {
        if response.status == 409 {
            let reply: ConflictReply = serde_json::from_slice(&response.body).map_err(|e| malformed(format!("the conflict reply: {e}")))?;
            let first = reply.conflicts.first().ok_or_else(|| malformed("a conflict reply names no event"))?;
            let originator_id = first.originator_id.parse().map_err(|_| malformed("a conflict names no valid aggregate"))?;
            // Only an event of this push can conflict: another would send the round pulling and pushing again for nothing.
            if !self.events.iter().any(|n| n.originator_id == originator_id && n.originator_version == first.originator_version) {
                return Err(malformed(format!(
                    "a conflict names {originator_id} v{}, which this push did not hold",
                    first.originator_version
                )));
            }
            return Err(Error::Conflict { originator_id, originator_version: first.originator_version, detail: reply.message });
        }
        let reply: PushReply = serde_json::from_slice(&response.ok("pushing")?).map_err(|e| malformed(format!("the push reply: {e}")))?;
        let ids = reply.notification_ids;
        if ids.len() != self.events.len() || ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(malformed(format!("{} notification ids for {} events pushed", ids.len(), self.events.len())));
        }
        // Ids count from 1: a 0 would settle an event the server has given no place;
        // past 2^53 - 1, the local log could not hold the position it reaches.
        if ids.first() == Some(&0) || ids.last().is_some_and(|id| *id > MAX_SAFE) {
            return Err(malformed(format!("a pushed event was given a notification id outside 1 to 2^53 - 1: {ids:?}")));
        }
        Ok(ids)
    }

    /// Settles the batch in `state`, given the server's `ids` for it and the
    /// pull `position`. When the server gave it the ids right after the position,
    /// nobody else wrote in between: the position moves past them (returned)
    /// rather than pulling this client's own events back.
    pub(crate) fn settle(&self, state: &mut State, ids: &[u64], position: u64) -> Option<u64> {
        for (notification, server_id) in self.events.iter().zip(ids) {
            let at = (notification.originator_id, notification.originator_version);
            state.settled.insert(at);
            if *server_id > position {
                state.returning.insert(*server_id, at);
            }
        }
        let (first, last) = (ids.first().copied()?, ids.last().copied()?);
        let contiguous = first == position + 1 && last - first + 1 == ids.len() as u64;
        contiguous.then(|| {
            state.returning.retain(|server_id| server_id > last);
            last
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::StoredEvent;

    fn pending(ids: &[u64], bytes: usize) -> Vec<Notification> {
        let event = |id: u64| StoredEvent {
            originator_id: Uuid::from_u128(1),
            originator_version: id,
            topic: "t".into(),
            state: vec![b'x'; bytes],
        };
        ids.iter().map(|id| Notification::new(*id, event(*id))).collect()
    }

    fn reply(status: u16, body: &str) -> Response {
        Response { status, body: body.as_bytes().to_vec(), more: false }
    }

    #[test]
    fn a_batch_holds_at_most_its_limit_and_its_bytes_and_moves_the_position_to_the_next_pending() {
        assert!(Batch::plan(Uuid::nil(), &[], 9, 10).is_none());
        let batch = Batch::plan(Uuid::nil(), &pending(&[3, 4, 7], 10), 9, 2).unwrap();
        assert_eq!(batch.events.len(), 2);
        assert_eq!(batch.request.through, Some(6), "4 and the removed 5 and 6, not the next pending 7");
        let all = Batch::plan(Uuid::nil(), &pending(&[3, 4], 10), 9, 5).unwrap();
        assert_eq!(all.request.through, Some(9), "up to the head read before");
        let big = Batch::plan(Uuid::nil(), &pending(&[1, 2], PUSH_BYTES), 2, 5).unwrap();
        assert_eq!(big.events.len(), 1, "one event over the bytes still goes alone");
    }

    #[test]
    fn a_reply_that_does_not_fit_the_batch_is_refused_before_anything_is_settled() {
        let batch = Batch::plan(Uuid::nil(), &pending(&[1, 2], 1), 2, 5).unwrap();
        assert_eq!(batch.acknowledged(reply(200, r#"{"notification_ids":[4,5],"position":2}"#)).unwrap(), [4, 5]);
        for body in [
            r#"{"notification_ids":[4],"position":2}"#,
            r#"{"notification_ids":[5,4],"position":2}"#,
            r#"{"notification_ids":[0,1],"position":2}"#,
            r#"{"notification_ids":[1,9007199254740992],"position":2}"#,
            "[]",
        ] {
            assert!(matches!(batch.acknowledged(reply(200, body)), Err(Error::Sync(_))), "{body}");
        }
        let other = r#"{"error":"ConflictError","message":"taken","conflicts":[{"position":1,"originator_id":"00000000000000000000000000000002","originator_version":1}]}"#;
        assert!(matches!(batch.acknowledged(reply(409, other)), Err(Error::Sync(_))), "a conflict on an event the push did not hold");
        let ours = other.replace("00000000000000000000000000000002", "00000000000000000000000000000001");
        assert!(matches!(batch.acknowledged(reply(409, &ours)), Err(Error::Conflict { originator_version: 1, .. })));
        assert!(matches!(batch.acknowledged(reply(403, "")), Err(Error::Auth(_))));
    }

    #[test]
    fn ids_right_after_the_position_move_it_others_come_back_with_the_next_pull() {
        let batch = Batch::plan(Uuid::nil(), &pending(&[1, 2], 1), 2, 5).unwrap();
        let mut state = State::new();
        assert_eq!(batch.settle(&mut state, &[8, 9], 7), Some(9));
        assert!(state.returning.len() == 0);
        let mut state = State::new();
        assert_eq!(batch.settle(&mut state, &[8, 10], 7), None, "another client wrote 9");
        assert_eq!(state.returning.len(), 2);
        assert_eq!(state.settled.len(), 2);
    }
}
