//! Values by a number (a notification id, a version) as a sorted `Vec`: the log
//! and the streams grow at their end, and a `BTreeMap` of each value type would
//! cost the wasm a few KB of code.

/// Values by position, in position order.
pub(super) struct ByPosition<T>(Vec<(u64, T)>);

impl<T> Default for ByPosition<T> {
    fn default() -> Self {
        ByPosition(Vec::new())
    }
}

impl<T> ByPosition<T> {
    fn find(&self, position: u64) -> Result<usize, usize> {
        self.0.binary_search_by_key(&position, |(p, _)| *p)
    }

    /// Puts `value` at `position`, replacing what was there.
    pub(super) fn insert(&mut self, position: u64, value: T) {
        if self.0.last().is_none_or(|(last, _)| *last < position) {
            return self.0.push((position, value));
        }
        match self.find(position) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (position, value)),
        }
    }

    pub(super) fn get(&self, position: u64) -> Option<&T> {
        self.find(position).ok().map(|at| &self.0[at].1)
    }

    pub(super) fn contains(&self, position: u64) -> bool {
        self.find(position).is_ok()
    }

    pub(super) fn remove(&mut self, position: u64) {
        if let Ok(at) = self.find(position) {
            self.0.remove(at);
        }
    }

    /// Keeps the entries whose position passes `keep`.
    pub(super) fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        self.0.retain(|(position, _)| keep(*position));
    }

    /// Removes the first `count` entries.
    pub(super) fn drop_first(&mut self, count: usize) {
        self.0.drain(..count.min(self.0.len()));
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn last_position(&self) -> Option<u64> {
        self.0.last().map(|(position, _)| *position)
    }

    /// The entries in position order.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &T)> {
        self.0.iter().map(|(position, value)| (*position, value))
    }

    /// The values from `start` on, in position order.
    pub(super) fn from(&self, start: u64) -> impl Iterator<Item = &T> {
        let at = self.0.partition_point(|(position, _)| *position < start);
        self.0[at..].iter().map(|(_, value)| value)
    }
}
