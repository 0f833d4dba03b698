//! The newest notifications a process has read, kept encoded for every
//! device: devices pulling an application's log mostly ask for the same newest
//! pages, and encoding them (ids, base64 states, escaped topics) once per
//! device was most of the readers' work under load.
//!
//! It holds a run of the log, `first..=last`, with every notification
//! committed in it (ids may have gaps: ids that were never committed, which
//! stay gaps). A read of the log from `n` on sees every notification from `n`
//! up to the last it returns: writers give ids in commit order under the log's
//! lock, so one committed later takes a higher id. So a run only grows by
//! such reads, and holds what any later read would return. The log only
//! grows: neither the server's API nor the Python library removes events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tributary::application::encoded_notifications_to_json;

/// How many bytes of encoded notifications an application keeps per process
/// (all let go when its readers rest: see `store::read`).
const BUDGET: usize = 16 << 20;

/// An encoded notification: its id and its JSON item.
pub type Item = (u64, Arc<str>);

/// A run of the log's newest notifications, encoded, shared by an
/// application's readers.
#[derive(Default)]
pub struct Recent {
    run: Mutex<Run>,
}

#[derive(Default)]
struct Run {
    /// The first id the run holds everything from (0: it holds nothing).
    first: u64,
    /// The last id it holds everything up to.
    last: u64,
    items: VecDeque<Item>,
    bytes: usize,
}

impl Recent {
    /// The notifications it holds from `start` on (at most `limit`), and the
    /// id to read the log from for the rest: `start` itself when it does not
    /// hold `start`.
    pub fn from(&self, start: u64, limit: usize) -> (Vec<Item>, u64) {
        let start = start.max(1);
        let run = self.run.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if run.first == 0 || start < run.first || start > run.last.saturating_add(1) {
            return (vec![], start);
        }
        let at = run.items.partition_point(|(id, _)| *id < start);
        let items: Vec<Item> = run.items.range(at..).take(limit).cloned().collect();
        let next = match items.last() {
            Some((id, _)) if items.len() == limit => id + 1,
            _ => run.last + 1,
        };
        (items, next)
    }

    /// Notes what a read of the log from `start` on returned (every
    /// notification committed from `start` up to its last, in order).
    pub fn note(&self, start: u64, read: &[Item]) {
        let Some((newest, _)) = read.last() else { return };
        let mut run = self.run.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if run.first != 0 && start <= run.last.saturating_add(1) && start >= run.first {
            // It continues the run (or overlaps its end).
            let known = run.last;
            for item in read.iter().filter(|(id, _)| *id > known) {
                run.push(item.clone());
            }
            run.last = run.last.max(*newest);
        } else if run.first == 0 || start > run.last {
            // Past the run's end with a gap between (or none yet): where
            // devices read now, so the run starts again there.
            *run = Run { first: start.max(1), last: *newest, ..Run::default() };
            read.iter().for_each(|item| run.push(item.clone()));
        }
        // Before the run's start: a device catching up; not kept.
        while run.bytes > BUDGET {
            let Some((id, item)) = run.items.pop_front() else { break };
            run.bytes -= item.len();
            run.first = id + 1;
        }
    }
}

impl Recent {
    /// Lets go of everything held.
    pub fn forget(&self) {
        *self.run.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Run::default();
    }

    /// How many bytes of encoded notifications it holds.
    pub fn held(&self) -> usize {
        self.run.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).bytes
    }
}

impl Run {
    fn push(&mut self, item: Item) {
        self.bytes += item.1.len();
        self.items.push_back(item);
    }
}

/// A page of items as `notifications_to_json` writes it.
pub fn page(items: &[Item]) -> String {
    encoded_notifications_to_json(items.iter().map(|(_, item)| &**item))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(ids: &[u64]) -> Vec<Item> {
        ids.iter().map(|id| (*id, Arc::from(format!("{{\"id\": {id}}}")))).collect()
    }

    fn ids(items: &[Item]) -> Vec<u64> {
        items.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn an_empty_cache_sends_every_read_to_the_log() {
        let recent = Recent::default();
        assert_eq!(recent.from(0, 10), (vec![], 1));
        assert_eq!(recent.from(7, 10), (vec![], 7));
        recent.note(3, &[]);
        assert_eq!(recent.from(3, 10), (vec![], 3));
    }

    #[test]
    fn a_read_is_kept_and_answered_with_where_the_log_must_be_read_next() {
        let recent = Recent::default();
        // Ids 4 and 6 were never committed: the read from 3 saw 3, 5 and 7.
        recent.note(3, &items(&[3, 5, 7]));
        let (got, next) = recent.from(3, 10);
        assert_eq!((ids(&got), next), (vec![3, 5, 7], 8));
        let (got, next) = recent.from(4, 10);
        assert_eq!((ids(&got), next), (vec![5, 7], 8));
        let (got, next) = recent.from(3, 2);
        assert_eq!((ids(&got), next), (vec![3, 5], 6));
        assert_eq!(recent.from(8, 10), (vec![], 8));
        // Outside the run: the log.
        assert_eq!(recent.from(2, 10), (vec![], 2));
        assert_eq!(recent.from(9, 10), (vec![], 9));
    }

    #[test]
    fn reads_that_continue_the_run_extend_it_and_overlaps_are_kept_once() {
        let recent = Recent::default();
        recent.note(1, &items(&[1, 2, 3]));
        recent.note(4, &items(&[4, 5]));
        recent.note(2, &items(&[2, 3, 4, 5, 6]));
        let (got, next) = recent.from(1, 100);
        assert_eq!((ids(&got), next), (vec![1, 2, 3, 4, 5, 6], 7));
    }

    #[test]
    fn a_read_past_a_gap_starts_the_run_again_and_one_before_it_is_not_kept() {
        let recent = Recent::default();
        recent.note(1, &items(&[1, 2]));
        recent.note(10, &items(&[10, 11]));
        assert_eq!(recent.from(1, 10), (vec![], 1));
        let (got, next) = recent.from(10, 10);
        assert_eq!((ids(&got), next), (vec![10, 11], 12));
        recent.note(5, &items(&[5, 6]));
        assert_eq!(recent.from(5, 10), (vec![], 5));
        let (got, _) = recent.from(10, 10);
        assert_eq!(ids(&got), vec![10, 11]);
    }

    #[test]
    fn the_oldest_are_let_go_past_the_budget() {
        let recent = Recent::default();
        let big: Arc<str> = Arc::from("x".repeat(BUDGET / 4));
        let read: Vec<Item> = (1..=6).map(|id| (id, big.clone())).collect();
        recent.note(1, &read);
        let (got, next) = recent.from(1, 10);
        assert_eq!((ids(&got), next), (vec![], 1));
        let (got, next) = recent.from(3, 10);
        assert_eq!((ids(&got), next), (vec![3, 4, 5, 6], 7));
    }

    #[test]
    fn a_page_is_written_as_the_core_writes_a_list() {
        use tributary::application::{notification_to_json, notifications_to_json};
        use tributary::persistence::Notification;
        let notifications: Vec<Notification> = (1..=3)
            .map(|id| Notification {
                id,
                originator_id: uuid::Uuid::from_u128(id as u128),
                originator_version: id,
                topic: format!("Dog.Trick\u{e9}{id}"),
                state: vec![id as u8; id as usize * 5],
            })
            .collect();
        let items: Vec<Item> = notifications.iter().map(|n| (n.id, Arc::from(notification_to_json(n)))).collect();
        assert_eq!(page(&items), notifications_to_json(&notifications));
        assert_eq!(page(&[]), notifications_to_json(&[]));
    }
}
