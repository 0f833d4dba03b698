//! Rows of views, their changes, and queries over their secondary indexes.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, Result};

/// A view: its name, the topics its projection wants (all when empty), and
/// the row fields it indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDefinition {
    pub name: String,
    pub topics: Vec<String>,
    pub indexes: Vec<String>,
}

impl ViewDefinition {
    pub fn new(name: impl Into<String>, topics: &[&str], indexes: &[&str]) -> Result<Self> {
        let definition = ViewDefinition {
            name: name.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            indexes: indexes.iter().map(|i| i.to_string()).collect(),
        };
        if definition.name.is_empty() || definition.indexes.iter().any(String::is_empty) {
            return Err(Error::invalid("a view needs a name, and its indexes need field names"));
        }
        Ok(definition)
    }

    /// What a view built by this definition says of it (its topics and indexes,
    /// sorted: an order alone changes nothing), so that another can tell.
    pub fn built_by(&self) -> Value {
        let sorted = |names: &[String]| {
            let mut names = names.to_vec();
            names.sort();
            names
        };
        serde_json::json!({ "topics": sorted(&self.topics), "indexes": sorted(&self.indexes) })
    }
}

/// Rows whose key starts with this are the projection's own bookkeeping
/// (a lookup it needs, say): readable by key, never listed or indexed.
pub const PRIVATE: char = '\u{0}';

/// The private row a clear by sync leaves in a view: a value no clear left
/// before. A runner reads it when it starts and commits with it, and a commit
/// whose `CLEARED` row is not the view's is [`Error::Stale`]: a step read before
/// a clear never commits after it, even when the view is back at the position
/// the step started from (0, after two clears).
pub const CLEARED: &str = "\u{0}cleared";

/// The row a clear by sync writes: [`CLEARED`], with a value no other clear gives.
pub fn cleared_row() -> RowChanges {
    [(CLEARED.to_owned(), Some(Value::String(uuid::Uuid::new_v4().to_string())))].into()
}

/// Whether a commit of `changes` is stale for the view's [`CLEARED`] row as stored.
pub fn cleared_since(changes: &RowChanges, stored: Option<&Value>) -> bool {
    changes.get(CLEARED).is_some_and(|expected| expected.as_ref() != stored)
}

/// Whether a row key is private to its projection.
pub fn is_private(key: &str) -> bool {
    key.starts_with(PRIVATE)
}

/// One row of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    pub value: Value,
}

/// Row changes by key: `Some` puts the value, `None` deletes the row.
pub type RowChanges = BTreeMap<String, Option<Value>>;

/// A value an index can order: numbers before strings, as IndexedDB orders keys.
/// Rows whose field is missing or of another type are not in that index.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    Number(f64),
    Text(String),
}

impl IndexKey {
    /// The index key of a row's field, if it has one.
    pub fn of(value: &Value, field: &str) -> Option<IndexKey> {
        match value.get(field)? {
            Value::Number(n) => n.as_f64().map(IndexKey::Number),
            Value::String(s) => Some(IndexKey::Text(s.clone())),
            _ => None,
        }
    }

    /// A bound given as JSON: a number or a string.
    pub fn from_json(value: &Value) -> Result<IndexKey> {
        match value {
            Value::Number(n) => Ok(IndexKey::Number(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Ok(IndexKey::Text(s.clone())),
            other => Err(Error::invalid(format!("an index bound must be a number or a string, not {other}"))),
        }
    }
}

impl PartialOrd for IndexKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (IndexKey::Number(a), IndexKey::Number(b)) => a.partial_cmp(b),
            (IndexKey::Text(a), IndexKey::Text(b)) => Some(text_order(a, b)),
            (IndexKey::Number(_), IndexKey::Text(_)) => Some(Ordering::Less),
            (IndexKey::Text(_), IndexKey::Number(_)) => Some(Ordering::Greater),
        }
    }
}

/// Strings in IndexedDB's order: by UTF-16 code unit. (Rust's is by code point,
/// which differs where a character above U+FFFF meets one from U+E000 to U+FFFF.)
pub fn text_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// One end of a range: its key, and whether the key itself is left out.
pub type Bound = (IndexKey, bool);

/// Which rows to read: all (by key), or those whose `index` field is in range
/// (by index value, then key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowQuery {
    pub index: Option<String>,
    pub gt: Option<IndexKey>,
    pub gte: Option<IndexKey>,
    pub lt: Option<IndexKey>,
    pub lte: Option<IndexKey>,
    pub limit: Option<usize>,
}

impl RowQuery {
    /// Rows whose `index` field equals `value`.
    pub fn equal(index: &str, value: IndexKey) -> Self {
        RowQuery { index: Some(index.into()), gte: Some(value.clone()), lte: Some(value), ..Self::default() }
    }

    /// Whether an index key is within the bounds.
    pub fn contains(&self, key: &IndexKey) -> bool {
        self.gt.as_ref().is_none_or(|b| key > b)
            && self.gte.as_ref().is_none_or(|b| key >= b)
            && self.lt.as_ref().is_none_or(|b| key < b)
            && self.lte.as_ref().is_none_or(|b| key <= b)
    }

    /// The range the bounds leave, each end the tighter of its two bounds (all
    /// of them hold), as `(lower, upper)`; `None` when no key is in it.
    pub fn range(&self) -> Option<(Option<Bound>, Option<Bound>)> {
        let tighter = |closed: &Option<IndexKey>, open: &Option<IndexKey>, wanted: Ordering| match (closed, open) {
            (Some(c), Some(o)) if c.partial_cmp(o) == Some(wanted) => Some((c.clone(), false)),
            (_, Some(o)) => Some((o.clone(), true)),
            (Some(c), None) => Some((c.clone(), false)),
            (None, None) => None,
        };
        let (lower, upper) = (tighter(&self.gte, &self.gt, Ordering::Greater), tighter(&self.lte, &self.lt, Ordering::Less));
        if let (Some((low, low_open)), Some((high, high_open))) = (&lower, &upper) {
            match low.partial_cmp(high) {
                Some(Ordering::Less) => {}
                Some(Ordering::Equal) if !low_open && !high_open => {}
                _ => return None,
            }
        }
        Some((lower, upper))
    }

    /// Checks the query against a view's declared indexes.
    pub fn validate(&self, view: &ViewDefinition) -> Result<()> {
        match &self.index {
            Some(index) if !view.indexes.contains(index) => {
                Err(Error::invalid(format!("view {:?} has no index {index:?}; it has {:?}", view.name, view.indexes)))
            }
            None if self.gt.is_some() || self.gte.is_some() || self.lt.is_some() || self.lte.is_some() => {
                Err(Error::invalid("a range needs an index"))
            }
            _ => Ok(()),
        }
    }
}
