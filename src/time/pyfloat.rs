//! Python's float timestamps.
//!
//! `IntervalTrigger` does its arithmetic on `datetime.timestamp()` floats, so reproducing
//! its results to the microsecond means reproducing both conversions exactly.

use super::Micros;

/// `datetime.timestamp()` of an aware datetime: the exact microsecond count divided by
/// 10**6. Python divides two integers with correct rounding; both operands are exact
/// doubles here (|micros| < 2**53 for years 1..=9999), so one IEEE division is the same.
pub fn timestamp(utc: Micros) -> f64 {
    if utc.unsigned_abs() < 1 << 53 {
        return utc as f64 / 1e6;
    }
    // Past 2**53 µs (about year 2255) the count itself isn't an exact double; divide in
    // integers, scaled so that the quotient has exactly 53 significant bits, and round
    // half to even once, as Python's integer true division does.
    let magnitude = u128::from(utc.unsigned_abs());
    let mut shift = 0;
    while (magnitude << shift) / 1_000_000 < 1 << 52 {
        shift += 1;
    }
    let scaled = magnitude << shift;
    let (mut quotient, remainder) = (scaled / 1_000_000, scaled % 1_000_000);
    if 2 * remainder > 1_000_000 || (2 * remainder == 1_000_000 && quotient & 1 == 1) {
        quotient += 1;
    }
    let value = quotient as f64 / f64::from(1u32 << shift);
    if utc < 0 { -value } else { value }
}

/// The microsecond instant `datetime.fromtimestamp(ts, tz)` lands on: the fraction is
/// scaled to microseconds and rounded half to even, as CPython's `_PyTime` does.
/// `None` when the value is not finite or out of range.
pub fn from_timestamp(ts: f64) -> Option<Micros> {
    if !ts.is_finite() {
        return None;
    }
    let whole = ts.trunc();
    let mut frac = ((ts - whole) * 1e6).round_ties_even();
    let mut seconds = whole;
    if frac >= 1e6 {
        frac -= 1e6;
        seconds += 1.0;
    } else if frac < 0.0 {
        frac += 1e6;
        seconds -= 1.0;
    }
    if seconds.abs() > 1e13 {
        return None;
    }
    Some(seconds as i64 * 1_000_000 + frac as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_whole_and_fractional_seconds() {
        assert_eq!(from_timestamp(timestamp(1_500_000_000_123_456)), Some(1_500_000_000_123_456));
        assert_eq!(from_timestamp(-1.5), Some(-1_500_000));
        assert_eq!(from_timestamp(f64::NAN), None);
        // Beyond 2**53 µs: Python gives 45392867999.74081 for this count.
        assert_eq!(timestamp(45_392_867_999_740_807), 45392867999.74081);
    }
}
