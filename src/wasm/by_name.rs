//! A map by name as a sorted `Vec`: the boundary's few small maps, each of which
//! as a `BTreeMap` of its own type would cost the wasm a few KB of code.

/// Values by name, in name order.
pub(crate) struct ByName<T>(Vec<(String, T)>);

impl<T> Default for ByName<T> {
    fn default() -> Self {
        ByName(Vec::new())
    }
}

impl<T: Clone> Clone for ByName<T> {
    fn clone(&self) -> Self {
        ByName(self.0.clone())
    }
}

impl<T> ByName<T> {
    /// Puts `value` under `name`, replacing what was there.
    pub(crate) fn insert(&mut self, name: String, value: T) {
        match self.0.binary_search_by(|(n, _)| n.cmp(&name)) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (name, value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&T> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok().map(|at| &self.0[at].1)
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok().map(|at| &mut self.0[at].1)
    }

    /// The values in name order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, value)| value)
    }
}

impl<T> IntoIterator for ByName<T> {
    type Item = (String, T);
    type IntoIter = std::vec::IntoIter<(String, T)>;

    /// The entries in name order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
