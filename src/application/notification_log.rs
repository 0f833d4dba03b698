//! The notification log in sections, as the Python library serves it: section
//! ids `"first,last"` (1-based, inclusive), at most `section_size` items each.

use std::fmt;
use std::str::FromStr;

use super::section_json;
use crate::error::{Error, Result};
use crate::persistence::{ApplicationRecorder, Notification, NotificationQuery};

/// The Python library's default section size.
pub const DEFAULT_SECTION_SIZE: usize = 10;

/// A section id: `"first,last"`, 1-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionId {
    pub first: u64,
    pub last: u64,
}

impl FromStr for SectionId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = || Error::invalid(format!("section id {text:?} is not \"first,last\" with first >= 1 (e.g. \"1,10\")"));
        let (first, last) = text.split_once(',').ok_or_else(bad)?;
        let first: u64 = first.trim().parse().map_err(|_| bad())?;
        let last: u64 = last.trim().parse().map_err(|_| bad())?;
        if first == 0 {
            return Err(bad());
        }
        Ok(SectionId { first, last })
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.first, self.last)
    }
}

/// One section of the log: the ids it holds, the next section's id when this
/// one is full, and the notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: Option<SectionId>,
    pub next_id: Option<SectionId>,
    pub items: Vec<Notification>,
}

impl Section {
    /// Exactly the JSON of the Python library's `NotificationLogJSONService`.
    pub fn to_json(&self) -> String {
        section_json::write(self)
    }
}

/// Notifications exactly as the Python library's `NotificationLogJSONService.get_notifications` writes them.
pub fn notifications_to_json(notifications: &[Notification]) -> String {
    section_json::write_notifications(notifications)
}

/// One notification as an item of [`notifications_to_json`]'s list, for a
/// server that keeps items encoded (see [`encoded_notifications_to_json`]).
pub fn notification_to_json(notification: &Notification) -> String {
    let mut out = String::with_capacity(128 + notification.state.len() * 4 / 3);
    section_json::notification(&mut out, notification);
    out
}

/// Notifications encoded one by one with [`notification_to_json`], as
/// [`notifications_to_json`] writes them.
pub fn encoded_notifications_to_json<'a>(items: impl ExactSizeIterator<Item = &'a str> + Clone) -> String {
    let mut out = String::with_capacity(2 + items.clone().map(|item| item.len() + 2).sum::<usize>());
    section_json::list(&mut out, items, |out, item| out.push_str(item));
    out
}

/// Reads an application's log a section at a time.
pub struct NotificationLog<'a> {
    recorder: &'a dyn ApplicationRecorder,
    section_size: usize,
}

impl<'a> NotificationLog<'a> {
    pub(crate) fn new(recorder: &'a dyn ApplicationRecorder, section_size: usize) -> Self {
        NotificationLog { recorder, section_size }
    }

    /// The section `"first,last"`, capped at the section size.
    pub async fn section(&self, id: &str) -> Result<Section> {
        let wanted: SectionId = id.parse()?;
        let span = wanted.last.saturating_add(1).saturating_sub(wanted.first);
        let limit = usize::try_from(span).unwrap_or(usize::MAX).min(self.section_size);
        let items =
            if limit == 0 { vec![] } else { self.recorder.select_notifications(&NotificationQuery::new(wanted.first, limit)).await? };
        let (id, next_id) = match (items.first(), items.last()) {
            (Some(first), Some(last)) => {
                let full = items.len() == limit;
                (
                    Some(SectionId { first: first.id, last: last.id }),
                    full.then(|| SectionId { first: last.id.saturating_add(1), last: last.id.saturating_add(limit as u64) }),
                )
            }
            _ => (None, None),
        };
        Ok(Section { id, next_id, items })
    }
}
