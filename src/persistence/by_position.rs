//! Values by a number (a notification id, a version) as a sorted `Vec`: the
//! in-memory log and streams, and the ids a sync client awaits, grow at their
//! end, and a `BTreeMap` of each value type would cost the wasm a few KB of code.
//! As JSON it is what a `BTreeMap<u64, T>` is: an object keyed by the number.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// Values by position, in position order.
pub(crate) struct ByPosition<T>(Vec<(u64, T)>);

impl<T: Clone> Clone for ByPosition<T> {
    fn clone(&self) -> Self {
        ByPosition(self.0.clone())
    }
}

impl<T: fmt::Debug> fmt::Debug for ByPosition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(position, value)| (position, value))).finish()
    }
}

impl<T: PartialEq> PartialEq for ByPosition<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Eq> Eq for ByPosition<T> {}

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
    pub(crate) fn insert(&mut self, position: u64, value: T) {
        if self.0.last().is_none_or(|(last, _)| *last < position) {
            return self.0.push((position, value));
        }
        match self.find(position) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (position, value)),
        }
    }

    pub(crate) fn get(&self, position: u64) -> Option<&T> {
        self.find(position).ok().map(|at| &self.0[at].1)
    }

    pub(crate) fn contains(&self, position: u64) -> bool {
        self.find(position).is_ok()
    }

    /// Takes out the value at `position`, if there is one.
    pub(crate) fn remove(&mut self, position: u64) -> Option<T> {
        self.find(position).ok().map(|at| self.0.remove(at).1)
    }

    /// Keeps the entries whose position passes `keep`.
    pub(crate) fn retain(&mut self, keep: impl Fn(u64) -> bool) {
        self.0.retain(|(position, _)| keep(*position));
    }

    /// Removes the first `count` entries.
    pub(crate) fn drop_first(&mut self, count: usize) {
        self.0.drain(..count.min(self.0.len()));
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn last_position(&self) -> Option<u64> {
        self.0.last().map(|(position, _)| *position)
    }

    /// The entries in position order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &T)> {
        self.0.iter().map(|(position, value)| (*position, value))
    }

    /// The values from `start` on, in position order.
    pub(crate) fn from(&self, start: u64) -> impl Iterator<Item = &T> {
        let at = self.0.partition_point(|(position, _)| *position < start);
        self.0[at..].iter().map(|(_, value)| value)
    }
}

impl<T: Serialize> Serialize for ByPosition<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ByPosition<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = ByPosition<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> std::result::Result<Self::Value, A::Error> {
                let mut out = ByPosition::default();
                while let Some((position, value)) = entries.next_entry::<u64, T>()? {
                    out.insert(position, value);
                }
                Ok(out)
            }
        }

        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::ByPosition;

    #[test]
    fn its_json_is_a_btreemaps_both_ways() {
        let map: BTreeMap<u64, (String, u64)> = [(12, ("b".into(), 2)), (3, ("a".into(), 1)), (40, ("c".into(), 9))].into();
        let mut by_position = ByPosition::default();
        for (position, value) in map.clone() {
            by_position.insert(position, value);
        }
        let json = serde_json::to_value(&map).unwrap();
        assert_eq!(serde_json::to_value(&by_position).unwrap(), json);
        let read: ByPosition<(String, u64)> = serde_json::from_value(json).unwrap();
        assert_eq!(read, by_position);
        assert!(serde_json::from_value::<ByPosition<u64>>(serde_json::json!({ "x": 1 })).is_err());
    }
}
