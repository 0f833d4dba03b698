//! A page of `/notifications`, bounded in bytes as well as in count: a limit
//! of 10,000 over large events would otherwise be read and encoded whole for
//! one request (gigabytes, for each device asking). A page cut short for its
//! bytes says so (the [`MORE`] header), so that a client reads on rather than
//! take a short page for the log's end; the Python library's readers read on
//! until a page comes back empty, so short pages are nothing new to them.

use crate::recent::{page, Item};

/// A page stops once it holds this many bytes of encoded notifications (it
/// holds one at least, whatever its size).
pub const PAGE_BYTES: usize = 8 << 20;

/// Set (to `true`) on a page cut short for its bytes: more may follow it.
pub const MORE: &str = "tributary-more";

/// Rows a page's first read of the log asks for: events may be large (up to
/// the body limit each, or any size a Python writer gave), so later reads are
/// sized on what came.
const FIRST_READ: usize = 32;

/// Encoded notifications gathered for one page, in log order.
pub struct Page {
    items: Vec<Item>,
    bytes: usize,
    limit: usize,
}

impl Page {
    /// An empty page of at most `limit` notifications.
    pub fn new(limit: usize) -> Page {
        Page { items: Vec::new(), bytes: 0, limit }
    }

    /// Adds `items` in order while it has room.
    pub fn extend(&mut self, items: impl IntoIterator<Item = Item>) {
        for item in items {
            if self.is_full() {
                return;
            }
            self.bytes += item.1.len();
            self.items.push(item);
        }
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= self.limit || self.bytes >= PAGE_BYTES
    }

    /// Whether it stopped for its bytes with room left in its count.
    pub fn is_cut(&self) -> bool {
        self.items.len() < self.limit && self.bytes >= PAGE_BYTES
    }

    /// How many rows the next read of the log asks for: what fits the count,
    /// and the bytes left at the size of what came so far.
    pub fn next_read(&self) -> usize {
        let room = self.limit.saturating_sub(self.items.len());
        match self.items.len() {
            0 => room.min(FIRST_READ),
            held => {
                let average = (self.bytes / held).max(1);
                room.min((PAGE_BYTES.saturating_sub(self.bytes) / average).max(1))
            }
        }
    }

    /// The page as `notifications_to_json` writes a list.
    pub fn to_json(&self) -> String {
        page(&self.items)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn item(id: u64, bytes: usize) -> Item {
        (id, Arc::from("x".repeat(bytes)))
    }

    #[test]
    fn a_page_stops_at_its_count_or_its_bytes_and_holds_one_at_least() {
        let mut page = Page::new(3);
        page.extend((1..=5).map(|id| item(id, 10)));
        assert_eq!((page.items.len(), page.is_full(), page.is_cut()), (3, true, false));

        let mut page = Page::new(100);
        page.extend([item(1, PAGE_BYTES * 2), item(2, 1)]);
        assert_eq!((page.items.len(), page.is_full(), page.is_cut()), (1, true, true));

        let mut page = Page::new(100);
        page.extend((1..=5).map(|id| item(id, PAGE_BYTES / 4)));
        assert_eq!((page.items.len(), page.is_cut()), (4, true));
    }

    #[test]
    fn reads_are_sized_on_what_came() {
        let mut page = Page::new(10_000);
        assert_eq!(page.next_read(), FIRST_READ);
        page.extend((1..=32).map(|id| item(id, 100)));
        assert_eq!(page.next_read(), 10_000 - 32);
        let mut page = Page::new(10_000);
        page.extend((1..=4).map(|id| item(id, PAGE_BYTES / 8)));
        assert_eq!(page.next_read(), 4);
        assert_eq!(Page::new(5).next_read(), 5);
    }
}
