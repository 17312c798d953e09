//! Time zones as Python's `tzinfo` protocol sees them.

use std::convert::Infallible;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::Micros;

use super::tzif::TzifZone;

/// The two questions every trigger asks of a time zone, answered with Python's
/// semantics: `utcoffset()` of a wall-clock time (where `fold` picks the first or the
/// second of two ambiguous readings, and for a time inside a gap picks the offset from
/// before or after the gap), and `fromutc()`, which also reports whether the wall-clock
/// result is the second reading of a repeated time.
///
/// Zones backed by Python objects can fail, hence the associated error type.
pub trait TimeZone {
    type Error;

    /// UTC offset in microseconds.
    fn utcoffset(&self, local: NaiveDateTime, fold: bool) -> Result<i64, Self::Error>;

    /// `fromutc()` of a UTC instant: the offset (microseconds) of its wall-clock reading,
    /// and the fold of that reading.
    fn fromutc(&self, utc: Micros) -> Result<(i64, bool), Self::Error>;
}

/// A zone computed entirely in Rust.
#[derive(Clone, Debug)]
pub enum Zone {
    /// A constant offset in microseconds (`datetime.timezone`, UTC).
    Fixed(i64),
    /// A zone of the tz database, read from the same TZif file `zoneinfo` reads.
    Tzif(Arc<TzifZone>),
}

impl Zone {
    pub const UTC: Zone = Zone::Fixed(0);
}

impl TimeZone for Zone {
    type Error = Infallible;

    fn utcoffset(&self, local: NaiveDateTime, fold: bool) -> Result<i64, Infallible> {
        Ok(match self {
            Zone::Fixed(offset) => *offset,
            Zone::Tzif(zone) => i64::from(zone.utcoffset(local, fold)) * 1_000_000,
        })
    }

    fn fromutc(&self, utc: Micros) -> Result<(i64, bool), Infallible> {
        Ok(match self {
            Zone::Fixed(offset) => (*offset, false),
            Zone::Tzif(zone) => {
                let (offset, fold) = zone.fromutc(utc.div_euclid(1_000_000));
                (i64::from(offset) * 1_000_000, fold)
            }
        })
    }
}
