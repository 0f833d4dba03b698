//! A map by name as a sorted `Vec`: the registry's and the boundary's small
//! maps, each of which as a `BTreeMap` or `HashMap` of its own type would cost
//! the wasm a few KB of code.

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
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    /// Puts `value` under `name`; what was there, if anything.
    pub(crate) fn insert(&mut self, name: String, value: T) -> Option<T> {
        match self.find(&name) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (name, value));
                None
            }
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&T> {
        self.get_key_value(name).map(|(_, value)| value)
    }

    /// The stored name with its value.
    pub(crate) fn get_key_value(&self, name: &str) -> Option<(&String, &T)> {
        self.find(name).ok().map(|at| (&self.0[at].0, &self.0[at].1))
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // only the boundary changes a value in place
    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.find(name).ok().map(|at| &mut self.0[at].1)
    }

    pub(crate) fn remove(&mut self, name: &str) -> Option<T> {
        self.find(name).ok().map(|at| self.0.remove(at).1)
    }

    /// Keeps the entries that pass `keep`.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.0.retain(|(_, value)| keep(value));
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The values in name order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, value)| value)
    }

    /// The entries in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(name, value)| (name, value))
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
