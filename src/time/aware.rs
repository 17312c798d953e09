//! Aware datetimes with Python's comparison rules.
//!
//! Python compares two aware datetimes that share one `tzinfo` object by their wall-clock
//! fields alone, ignoring `fold`; with different `tzinfo` objects it compares UTC
//! instants, and `==` is false for an ambiguous time against another zone (PEP 495).
//! The reference's triggers depend on both rules at DST changes, so ours do too.

use std::cmp::Ordering;

use chrono::{Duration, NaiveDateTime};

use super::civil::{micros_to_naive, naive_to_micros};
use super::zone::TimeZone;
use super::Micros;

/// Identity of a `tzinfo` object: equal ids mean the very same object.
pub type ZoneId = usize;

/// The zone id of naive datetimes (read as local system time where Python allows it).
pub const NAIVE: ZoneId = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aware {
    pub local: NaiveDateTime,
    pub fold: bool,
    /// `utcoffset()` in microseconds.
    pub offset: i64,
    pub zone: ZoneId,
    /// The UTC instant, kept because the searches compare and shift instants often.
    utc: Micros,
}

/// Python's datetime range, 0001-01-01 to 9999-12-31 23:59:59.999999, as epoch micros.
const MIN_MICROS: Micros = -62_135_596_800_000_000;
const MAX_MICROS: Micros = 253_402_300_799_999_999;

impl Aware {
    pub fn new(local: NaiveDateTime, fold: bool, offset: i64, zone: ZoneId) -> Aware {
        Aware { local, fold, offset, zone, utc: naive_to_micros(local) - offset }
    }

    pub fn utc(&self) -> Micros {
        self.utc
    }

    /// The wall-clock reading of a UTC instant in `zone` (`datetime.astimezone`);
    /// `None` outside Python's year range.
    pub fn from_utc<Z: TimeZone>(zone: &Z, id: ZoneId, utc: Micros) -> Result<Option<Aware>, Z::Error> {
        if !(MIN_MICROS..=MAX_MICROS).contains(&utc) {
            return Ok(None);
        }
        let (offset, fold) = zone.fromutc(utc)?;
        let Some(local) = micros_to_naive(utc + offset) else { return Ok(None) };
        Ok(Some(Aware { local, fold, offset, zone: id, utc }))
    }

    /// A wall-clock time taken as is (`datetime(..., tzinfo=zone, fold=fold)`), which
    /// may name a time inside a DST gap.
    pub fn from_local<Z: TimeZone>(zone: &Z, id: ZoneId, local: NaiveDateTime, fold: bool) -> Result<Aware, Z::Error> {
        let offset = zone.utcoffset(local, fold)?;
        Ok(Aware::new(local, fold, offset, id))
    }

    /// `datetime_utc_add`: add a duration to the UTC instant, then read it back in the
    /// same zone.
    pub fn utc_add<Z: TimeZone>(&self, zone: &Z, micros: i64) -> Result<Option<Aware>, Z::Error> {
        Aware::from_utc(zone, self.zone, self.utc() + micros)
    }

    /// `aware + timedelta`: wall-clock addition keeping the zone; Python resets `fold`.
    pub fn wall_add<Z: TimeZone>(&self, zone: &Z, micros: i64) -> Result<Option<Aware>, Z::Error> {
        match self.local.checked_add_signed(Duration::microseconds(micros)) {
            Some(local) if micros_to_naive(naive_to_micros(local)).is_some() => {
                Aware::from_local(zone, self.zone, local, false).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// `<`, `>` and friends.
    pub fn py_cmp(&self, other: &Aware) -> Ordering {
        if self.zone == other.zone {
            self.local.cmp(&other.local)
        } else {
            self.utc().cmp(&other.utc())
        }
    }

    /// Python's `min(self, other)`: the first unless the second is smaller.
    pub fn py_min(self, other: Aware) -> Aware {
        if other.py_cmp(&self) == Ordering::Less { other } else { self }
    }

    /// Python's `max(self, other)`: the first unless the second is larger.
    pub fn py_max(self, other: Aware) -> Aware {
        if other.py_cmp(&self) == Ordering::Greater { other } else { self }
    }
}

/// `a == b`. `flipped_offsets` gives each side's `utcoffset()` with its fold flipped;
/// it is consulted only when the two have different zones.
pub fn py_eq(a: &Aware, b: &Aware, flipped_offsets: impl FnOnce() -> (i64, i64)) -> bool {
    if a.zone == b.zone {
        return a.local == b.local;
    }
    // A naive datetime never equals an aware one.
    if a.zone == NAIVE || b.zone == NAIVE {
        return false;
    }
    if a.utc() != b.utc() {
        return false;
    }
    // PEP 495: an ambiguous time never equals a time in another zone.
    let (a_flip, b_flip) = flipped_offsets();
    let exception = (a_flip != a.offset && a_flip != b.offset) || (b_flip != b.offset && b_flip != a.offset);
    !exception
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::civil::naive;
    use crate::time::Zone;

    #[test]
    fn same_zone_compares_wall_clock_and_ignores_fold() {
        let zone = Zone::Fixed(0);
        let t = naive(2020, 1, 1, 1, 30, 0, 0).unwrap();
        let a = Aware::from_local(&zone, 1, t, false).unwrap();
        let mut b = Aware::new(t, true, -3600 * 1_000_000, 1);
        assert_eq!(a.py_cmp(&b), Ordering::Equal);
        assert!(py_eq(&a, &b, || (a.offset, b.offset)));
        b = Aware::new(t, true, -3600 * 1_000_000, 2);
        assert_eq!(a.py_cmp(&b), Ordering::Less);
        assert!(!py_eq(&a, &b, || (a.offset, b.offset)));
    }
}
