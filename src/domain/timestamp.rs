//! UTC timestamps at microsecond precision, written the way Python's
//! `datetime.isoformat()` writes them, so stored events round-trip byte for byte.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

use crate::error::{Error, Result};

/// A moment in UTC. Always truncated to microseconds, like Python's `datetime`.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds.
pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

/// `2024-01-02T03:04:05.678901+00:00`, or without the fraction when it is zero.
pub fn to_iso(timestamp: &Timestamp) -> String {
    let micros = timestamp.timestamp_subsec_micros();
    if micros == 0 {
        timestamp.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        format!("{}.{micros:06}+00:00", timestamp.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// Reads an ISO 8601 timestamp with an offset (or `Z`); one without is taken as UTC.
pub fn parse_iso(text: &str) -> Result<Timestamp> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .map_err(|_| Error::invalid(format!("{text:?} is not an ISO 8601 timestamp")))?;
    Ok(parsed.trunc_subsecs(6))
}
