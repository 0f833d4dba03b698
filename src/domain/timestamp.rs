//! UTC timestamps at microsecond precision, written the way Python's
//! `datetime.isoformat()` writes them, so stored events round-trip byte for byte.

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};

use crate::error::{Error, Result};

/// A moment in UTC. Always truncated to microseconds, like Python's `datetime`.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds.
pub fn now() -> Timestamp {
    Utc::now().trunc_subsecs(6)
}

/// `2024-01-02T03:04:05.678901+00:00`, or without the fraction when it is zero.
pub fn to_iso(timestamp: &Timestamp) -> String {
    let mut out = String::with_capacity(32);
    write_iso(&mut out, timestamp);
    out
}

/// Writes [`to_iso`]'s text, digit by digit: every stored event and every event
/// handed to JavaScript has one, and a format string is parsed each time.
pub(crate) fn write_iso(out: &mut String, timestamp: &Timestamp) {
    let digits = |out: &mut String, value: u32, width: u32| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    };
    // Python's years are 1 to 9999; others (never stored: they do not parse) get ISO's sign.
    let year = timestamp.year();
    if !(0..=9999).contains(&year) {
        out.push(if year < 0 { '-' } else { '+' });
        digits(out, year.unsigned_abs(), 6);
    } else {
        digits(out, year as u32, 4);
    }
    for (separator, value) in
        [('-', timestamp.month()), ('-', timestamp.day()), ('T', timestamp.hour()), (':', timestamp.minute()), (':', timestamp.second())]
    {
        out.push(separator);
        digits(out, value, 2);
    }
    let micros = timestamp.timestamp_subsec_micros();
    if micros != 0 {
        out.push('.');
        digits(out, micros.min(999_999), 6);
    }
    out.push_str("+00:00");
}

/// Reads an ISO 8601 timestamp with an offset (or `Z`); one without is taken as UTC.
pub fn parse_iso(text: &str) -> Result<Timestamp> {
    let parsed = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc3339(&format!("{text}+00:00")))
        .map_err(|_| Error::invalid(format!("{text:?} is not an ISO 8601 timestamp")))?;
    Ok(parsed.with_timezone(&Utc).trunc_subsecs(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_without_an_offset_is_utc_and_other_text_is_refused() {
        assert_eq!(to_iso(&parse_iso("2024-01-02T03:04:05.678901").unwrap()), "2024-01-02T03:04:05.678901+00:00");
        assert_eq!(to_iso(&parse_iso("2024-01-02T04:04:05+01:00").unwrap()), "2024-01-02T03:04:05+00:00");
        for bad in ["", "2024-01-02", "yesterday", "2024-13-02T03:04:05", "+275760-09-13T00:00:00.000Z"] {
            assert!(parse_iso(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_text_is_what_python_isoformat_writes_for_any_moment() {
        let moments = [
            "2024-01-02T03:04:05.678901+00:00",
            "2024-01-02T03:04:05+00:00",
            "0001-01-01T00:00:00.000001+00:00",
            "9999-12-31T23:59:59.999999+00:00",
        ];
        for text in moments {
            assert_eq!(to_iso(&parse_iso(text).unwrap()), text);
        }
        for micros in (0..500i64).map(|k| k * 7_919_777_777_777) {
            let moment = DateTime::from_timestamp_micros(micros).unwrap();
            let expected = if moment.timestamp_subsec_micros() == 0 {
                moment.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
            } else {
                moment.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
            };
            assert_eq!(to_iso(&moment), expected);
        }
    }
}
