//! A pull's decisions, without I/O: the request for the next page, what its
//! reply holds, and how each pulled notification meets the local log: this
//! client's own coming back, a pending event whose acknowledgement was lost,
//! the server's winning over local ones (kept aside as a conflict), or new.

use std::collections::HashMap;

use uuid::Uuid;

use super::conflict::Kept;
use super::http::{Method, Request, Response};
use super::protocol::read_notifications;
use super::round::Page;
use super::state::State;
use crate::error::{Error, Result};
use crate::persistence::{Notification, Removal, StoredEvent};

/// Times a pulled page is sorted again when a save made meanwhile refuses its write.
pub const ATTEMPTS: usize = 3;

/// The request for up to `batch` notifications after `position`.
pub fn request(url: &str, token: Option<&str>, position: u64, batch: usize) -> Request {
    let url = format!("{url}/notifications?start={}&limit={batch}", position + 1);
    Request { method: Method::Get, url, token: token.map(str::to_owned), body: None }
}

/// The notifications of a reply to [`request`], checked, and what the page said of the rest.
pub fn read(response: Response, position: u64, batch: usize) -> Result<(Vec<Notification>, Page)> {
    let more = response.more;
    let notifications = read_notifications(&response.ok("pulling")?, position + 1, batch)?;
    let page = Page { received: notifications.len(), more };
    Ok((notifications, page))
}

/// A pulled page sorted against the local log: what to write, in one write with the position.
#[derive(Debug, Default)]
pub(crate) struct Sorted {
    /// New to the local log.
    pub pulled: Vec<StoredEvent>,
    /// Pending local events the server's took the versions of.
    pub removed: Vec<Removal>,
    /// Those events, kept aside as conflicts.
    pub kept: Vec<Kept>,
}

/// Sorts `notifications` (up to `last`) against the `pending` local events,
/// settling in `state` what the server now holds.
pub(crate) fn sort(
    state: &mut State,
    mut pending: HashMap<(Uuid, u64), Notification>,
    notifications: &[Notification],
    last: u64,
) -> Sorted {
    let mut sorted = Sorted::default();
    for notification in notifications {
        let (id, version) = (notification.originator_id, notification.originator_version);
        if state.returning.remove(notification.id).is_some() {
            continue; // this client's own event, already in the log
        }
        match pending.get(&(id, version)) {
            Some(local) if local.topic == notification.topic && local.state == notification.state => {
                state.settled.insert((id, version)); // ours, whose acknowledgement was lost
                pending.remove(&(id, version));
                continue;
            }
            Some(_) => {
                // The server's event wins; the local ones from that version on are kept aside.
                let mut lost: Vec<Notification> =
                    pending.values().filter(|n| n.originator_id == id && n.originator_version >= version).cloned().collect();
                lost.sort_by_key(|n| n.originator_version);
                for n in &lost {
                    pending.remove(&(id, n.originator_version));
                    sorted.removed.push(Removal { notification_id: n.id, originator_id: id, originator_version: n.originator_version });
                }
                sorted.kept.push(Kept::new(id, &lost.iter().map(Notification::stored_event).collect::<Vec<_>>()));
            }
            None => {}
        }
        // On the server already: never to be pushed.
        state.settled.insert((id, version));
        sorted.pulled.push(notification.stored_event());
    }
    state.returning.retain(|server_id| server_id > last);
    sorted
}

/// What a pull does when the local log refused the write of a sorted page.
#[derive(Debug)]
pub(crate) enum Refused {
    /// A save made meanwhile on an aggregate losing events: read what is pending and sort again.
    Again,
    /// Another runner wrote this page meanwhile (tabs without Web Locks sync at once): read on from there.
    ReadOn,
    Fail(Error),
}

/// Decides after the write of attempt `attempt` (from 1) failed with `error`.
pub(crate) fn refused(error: Error, attempt: usize) -> Refused {
    match error {
        Error::Conflict { .. } if attempt < ATTEMPTS => Refused::Again,
        Error::DuplicateTracking { .. } => Refused::ReadOn,
        // Still taken: a position the server served before, or saves racing every attempt.
        // Not a conflict to resolve: the next round sees it.
        Error::Conflict { originator_id, originator_version, .. } => Refused::Fail(Error::Sync(format!(
            "pulling: {originator_id} v{originator_version} is in the local log already (recorded meanwhile, or served before by the server); nothing of the page was written"
        ))),
        error => Refused::Fail(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u128, version: u64, state: &[u8]) -> StoredEvent {
        StoredEvent { originator_id: Uuid::from_u128(id), originator_version: version, topic: "t:Happened".into(), state: state.to_vec() }
    }

    fn pending(notifications: &[Notification]) -> HashMap<(Uuid, u64), Notification> {
        notifications.iter().map(|n| ((n.originator_id, n.originator_version), n.clone())).collect()
    }

    #[test]
    fn own_events_coming_back_and_lost_acknowledgements_are_not_pulled_again() {
        let mut state = State::new();
        state.returning.insert(5, (Uuid::from_u128(1), 1));
        let local = [Notification::new(3, event(2, 1, b"{}"))];
        let page =
            [Notification::new(5, event(1, 1, b"{}")), Notification::new(6, event(2, 1, b"{}")), Notification::new(7, event(3, 1, b"{}"))];
        let sorted = sort(&mut state, pending(&local), &page, 7);
        assert_eq!(sorted.pulled, [event(3, 1, b"{}")], "only the new one");
        assert!(sorted.removed.is_empty() && sorted.kept.is_empty());
        assert!(state.settled.contains(&(Uuid::from_u128(2), 1)), "the lost acknowledgement settles it");
        assert!(state.returning.len() == 0);
    }

    #[test]
    fn the_servers_event_wins_a_version_and_the_local_ones_from_it_are_kept_aside() {
        let mut state = State::new();
        let local = [Notification::new(4, event(1, 2, b"{\"mine\":1}")), Notification::new(5, event(1, 3, b"{\"mine\":2}"))];
        let page = [Notification::new(9, event(1, 2, b"{\"theirs\":1}"))];
        let sorted = sort(&mut state, pending(&local), &page, 9);
        assert_eq!(sorted.pulled, [event(1, 2, b"{\"theirs\":1}")]);
        let removed: Vec<u64> = sorted.removed.iter().map(|r| r.notification_id).collect();
        assert_eq!(removed, [4, 5], "both, in version order");
        assert_eq!(sorted.kept.len(), 1);
        assert_eq!(sorted.kept[0].stored().unwrap(), [event(1, 2, b"{\"mine\":1}"), event(1, 3, b"{\"mine\":2}")]);
    }

    #[test]
    fn a_refused_write_is_tried_again_a_few_times_read_on_from_or_given_up() {
        let conflict = || Error::Conflict { originator_id: Uuid::nil(), originator_version: 2, detail: String::new() };
        assert!(matches!(refused(conflict(), 1), Refused::Again));
        assert!(matches!(refused(conflict(), ATTEMPTS), Refused::Fail(Error::Sync(_))));
        let duplicate = Error::DuplicateTracking { application_name: "sync:x".into(), notification_id: 3 };
        assert!(matches!(refused(duplicate, ATTEMPTS), Refused::ReadOn));
        assert!(matches!(refused(Error::Storage("full".into()), 1), Refused::Fail(Error::Storage(_))));
    }

    #[test]
    fn a_reply_is_read_only_when_it_succeeded_and_holds_the_page_asked_for() {
        let reply = |status, body: &str, more| Response { status, body: body.as_bytes().to_vec(), more };
        let (notifications, page) = read(reply(200, "[]", true), 4, 10).unwrap();
        assert!(notifications.is_empty());
        assert_eq!(page, Page { received: 0, more: true });
        assert!(matches!(read(reply(401, "", false), 4, 10), Err(Error::Auth(_))));
        assert!(matches!(read(reply(503, "", false), 4, 10), Err(Error::Sync(_))));
        let early =
            r#"[{"id": 4, "originator_id": "00000000000000000000000000000001", "originator_version": 1, "topic": "t", "state": ""}]"#;
        assert!(matches!(read(reply(200, early, false), 4, 10), Err(Error::Sync(_))), "a notification before the one asked for");
        assert_eq!(request("http://h/t/a", None, 4, 10).url, "http://h/t/a/notifications?start=5&limit=10");
    }
}
