//! Calendar helpers on naive dates and times, with Python's conventions
//! (weekday 0 is Monday, ISO week numbers, proleptic Gregorian calendar, years 1..=9999).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{Micros, MICROS_PER_SECOND};

pub const MIN_YEAR: i32 = 1;
pub const MAX_YEAR: i32 = 9999;

pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Weekday of a date, Monday = 0, as `date.weekday()`.
pub fn weekday(date: NaiveDate) -> u32 {
    date.weekday().num_days_from_monday()
}

/// `calendar.monthrange()`: weekday of the 1st and the number of days.
pub fn month_range(year: i32, month: u32) -> Option<(u32, u32)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some((weekday(first), days_in_month(year, month)))
}

/// Wall-clock microseconds since 1970-01-01 00:00 of the same calendar, ignoring zones.
pub fn naive_to_micros(naive: NaiveDateTime) -> Micros {
    naive.and_utc().timestamp_micros()
}

/// The inverse of [`naive_to_micros`]; `None` outside Python's year range.
pub fn micros_to_naive(micros: Micros) -> Option<NaiveDateTime> {
    let naive = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    (MIN_YEAR..=MAX_YEAR).contains(&naive.year()).then_some(naive)
}

/// Whole seconds since the epoch of a wall-clock time, dropping microseconds
/// (what `zoneinfo` uses to look up transitions).
pub fn naive_to_seconds(naive: NaiveDateTime) -> i64 {
    naive.and_utc().timestamp()
}

pub fn microsecond(naive: NaiveDateTime) -> u32 {
    naive.nanosecond() / 1000
}

/// Builds a naive datetime from Python-style fields; `None` when a field is out of range.
pub fn naive(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micro: u32,
) -> Option<NaiveDateTime> {
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)?.and_hms_micro_opt(hour, minute, second, micro)
}

/// Seconds since the epoch at which a given year starts (proleptic Gregorian).
pub fn days_before_year(year: i32) -> i64 {
    let y = i64::from(year) - 1;
    y * 365 + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400) - 719_162
}

pub fn micros_of_seconds(seconds: i64) -> Micros {
    seconds * MICROS_PER_SECOND
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_range_matches_python_calendar() {
        // calendar.monthrange(2008, 2) == (4, 29); (2009, 2) == (6, 28)
        assert_eq!(month_range(2008, 2), Some((4, 29)));
        assert_eq!(month_range(2009, 2), Some((6, 28)));
        assert_eq!(month_range(2100, 2), Some((0, 28)));
    }

    #[test]
    fn days_before_year_is_relative_to_epoch() {
        assert_eq!(days_before_year(1970), 0);
        assert_eq!(days_before_year(1971), 365);
        assert_eq!(days_before_year(2000), 10957);
    }

    #[test]
    fn micros_round_trip() {
        let n = naive(2024, 2, 29, 23, 59, 59, 999_999).unwrap();
        assert_eq!(micros_to_naive(naive_to_micros(n)), Some(n));
        assert!(micros_to_naive(naive_to_micros(n) * 200).is_none());
    }
}
