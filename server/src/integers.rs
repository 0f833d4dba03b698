//! Versions and ids as SQL's signed 64-bit integers, both ways: one rule for
//! every database adapter.

use tributary::{Error, Result};

/// A version or id as a SQL bigint; bounds above it select nothing anyway.
pub fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A number from storage that must be a whole number from 0.
pub fn whole(n: i64, what: &str) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::corrupt(format!("a stored {what} is {n}")))
}
