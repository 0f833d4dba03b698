//! What crosses the wire between a sync client and a server, as data: the push
//! request and its replies, the notifications a server serves (the Python
//! library's `get_notifications` JSON), and the long-poll reply. Replies are
//! checked before anything of them is used: a hostile server can fail a sync,
//! never corrupt the local log.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::persistence::{Notification, StoredEvent, MAX_SAFE};

/// One event a client pushes: a stored event and its place in the client's log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedEvent {
    /// The client's own notification id: increasing, so a retried push is recognised.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 9_007_199_254_740_991_f64))]
    pub position: u64,
    /// Hyphenated or 32 hex digits.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
    )]
    pub originator_id: String,
    #[cfg_attr(feature = "openapi", schema(maximum = 9_007_199_254_740_991_f64))]
    pub originator_version: u64,
    pub topic: String,
    /// Standard base64 of the stored bytes (compressed or encrypted as the client stores them).
    pub state: String,
}

/// `POST {base}/push`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub client_id: Uuid,
    pub events: Vec<PushedEvent>,
    /// The client will never push a position up to here that this push leaves
    /// out (it took those events out of its log): the server moves the client's
    /// position here, so that a late copy of an older push cannot record them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(maximum = 9_007_199_254_740_991_f64))]
    pub through: Option<u64>,
}

/// A push's events, checked: positions strictly increasing from 1, each a valid stored event.
pub struct Push {
    pub client_id: Uuid,
    pub events: Vec<(u64, StoredEvent)>,
    /// The client's position once recorded: its last event's, or further ([`PushRequest::through`]).
    pub through: u64,
}

impl PushedEvent {
    pub fn new(position: u64, event: &StoredEvent) -> Self {
        PushedEvent {
            position,
            originator_id: event.originator_id.simple().to_string(),
            originator_version: event.originator_version,
            topic: event.topic.clone(),
            state: STANDARD.encode(&event.state),
        }
    }
}

impl PushRequest {
    /// Checks every event before any of them is used.
    pub fn checked(self) -> Result<Push> {
        if self.client_id.is_nil() {
            return Err(Error::invalid("client_id must not be the nil UUID"));
        }
        let mut last = 0;
        let mut events = Vec::with_capacity(self.events.len());
        for (i, pushed) in self.events.into_iter().enumerate() {
            if pushed.position <= last || pushed.position > MAX_SAFE {
                return Err(Error::invalid(format!(
                    "event {i}: positions must increase from 1 to 2^53 - 1 ({} after {last})",
                    pushed.position
                )));
            }
            last = pushed.position;
            let event = stored(&pushed.originator_id, pushed.originator_version, pushed.topic, &pushed.state)
                .map_err(|e| Error::invalid(format!("event {i}: {e}")))?;
            events.push((pushed.position, event));
        }
        let mut seen = std::collections::HashSet::with_capacity(events.len());
        if let Some((_, twice)) = events.iter().find(|(_, e)| !seen.insert((e.originator_id, e.originator_version))) {
            return Err(Error::invalid(format!("the push holds a position twice: {} v{}", twice.originator_id, twice.originator_version)));
        }
        if self.through.is_some_and(|through| through < last || through > MAX_SAFE) {
            return Err(Error::invalid(format!("through must be from the last position ({last}) to 2^53 - 1")));
        }
        Ok(Push { client_id: self.client_id, events, through: self.through.unwrap_or(last) })
    }
}

/// The reply to a push that was recorded (now or by an earlier, identical push).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushReply {
    /// The server's notification id of each pushed event, in order.
    pub notification_ids: Vec<u64>,
    /// The client's last position the server has recorded.
    pub position: u64,
}

/// An event of a push whose aggregate version another client took first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushConflict {
    pub position: u64,
    /// 32 hex digits.
    pub originator_id: String,
    pub originator_version: u64,
}

/// The reply to a push refused for conflicts (HTTP 409): nothing of it was written.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictReply {
    pub error: String,
    pub message: String,
    pub conflicts: Vec<PushConflict>,
}

/// The reply of `GET {base}/wait`: the newest notification id.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitReply {
    pub max_notification_id: u64,
}

/// One item of the Python library's notification JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    id: u64,
    originator_id: String,
    originator_version: u64,
    topic: String,
    state: String,
}

/// Reads a `get_notifications` reply for notifications from `start` (inclusive),
/// at most `limit`: ids increasing, none before `start`, each a valid event, no
/// aggregate version twice (which the local write would take for a conflict).
pub fn read_notifications(body: &[u8], start: u64, limit: usize) -> Result<Vec<Notification>> {
    let items: Vec<Item> =
        serde_json::from_slice(body).map_err(|e| malformed(format!("the notifications are not the expected JSON list: {e}")))?;
    if items.len() > limit {
        return Err(malformed(format!("{} notifications came back for a limit of {limit}", items.len())));
    }
    let mut last = start.saturating_sub(1);
    let mut notifications = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        if item.id <= last {
            return Err(malformed(format!("notification {} came after {last}: ids must increase from {start}", item.id)));
        }
        // A browser's log (IndexedDB) holds no id past it.
        if item.id > MAX_SAFE {
            return Err(malformed(format!("notification {}: ids end at 2^53 - 1", item.id)));
        }
        last = item.id;
        let event = stored(&item.originator_id, item.originator_version, item.topic, &item.state)
            .map_err(|e| malformed(format!("notification {}: {e}", item.id)))?;
        if !seen.insert((event.originator_id, event.originator_version)) {
            return Err(malformed(format!("notification {} holds {} v{} again", item.id, event.originator_id, event.originator_version)));
        }
        notifications.push(Notification::new(item.id, event));
    }
    Ok(notifications)
}

/// A stored event from its wire fields, checked: its version within what a
/// browser's log holds, so that no server serves one every browser must refuse.
fn stored(originator_id: &str, originator_version: u64, topic: String, state: &str) -> Result<StoredEvent> {
    if originator_version > MAX_SAFE {
        return Err(Error::invalid(format!("originator_version {originator_version} is past 2^53 - 1")));
    }
    // 32 hex digits, or hyphenated (36): not the braced or URN forms the uuid crate also reads.
    let originator_id: Uuid = Some(originator_id)
        .filter(|id| id.len() == 32 || id.len() == 36)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::invalid(format!("originator_id {originator_id:?} is not a UUID (32 hex digits, or hyphenated)")))?;
    let state = STANDARD.decode(state).map_err(|e| Error::invalid(format!("state is not standard base64: {e}")))?;
    let event = StoredEvent { originator_id, originator_version, topic, state };
    event.validate()?;
    Ok(event)
}

/// A reply the client cannot use.
pub(crate) fn malformed(why: impl std::fmt::Display) -> Error {
    Error::Sync(format!("the server's reply is malformed: {why}"))
}
