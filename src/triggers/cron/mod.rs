//! The cron trigger's search for the next matching time.
//!
//! The search walks the fields from year to second on the wall clock of the trigger's
//! zone, exactly as the reference does: a field with no valid value left rolls the more
//! significant field over, a real field jumps to its next valid value, and week and
//! weekday (which can't be set directly) move the day. Rolling over adds the wall-clock
//! difference to the UTC instant, which is how DST gaps push a time forward; jumping sets
//! the wall clock directly and keeps `fold`, which is how a time inside a gap can come
//! out as is. Reproducing both is what keeps results identical across DST changes.

pub mod expressions;
pub mod fields;

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDateTime};

use self::fields::{Field, FieldKind, FIELD_ORDER};
use crate::time::aware::{py_eq, ZoneId};
use crate::time::civil::{self, naive_to_micros};
use crate::time::{Aware, TimeZone};

#[derive(Debug)]
pub struct Cron {
    /// One field per entry of [`FIELD_ORDER`].
    pub fields: Arc<[Field]>,
    pub start_date: Option<Aware>,
    pub end_date: Option<Aware>,
    /// Which years of the 400-year Gregorian cycle have a date the calendar fields
    /// accept; computed only when a search runs for years without a match.
    calendar_years: OnceLock<Box<[bool; 400]>>,
}

/// How many years a search may run before it checks whether a match is possible at all.
const YEARS_BEFORE_FEASIBILITY_CHECK: i32 = 2;

impl Cron {
    /// A schedule of the compiled `fields`, which triggers of the same expressions may
    /// share.
    pub fn new(fields: impl Into<Arc<[Field]>>, start_date: Option<Aware>, end_date: Option<Aware>) -> Cron {
        let fields = fields.into();
        debug_assert_eq!(fields.len(), FIELD_ORDER.len());
        Cron { fields, start_date, end_date, calendar_years: OnceLock::new() }
    }

    /// Compiles the fields the way the constructor of `CronTrigger` assigns them: given
    /// fields are parsed, fields more significant than the least significant given one
    /// are `*`, and less significant ones take their minimum (`hour=5` fires at 05:00:00).
    pub fn compile_fields(given: &[(FieldKind, String)]) -> Result<Vec<Field>, String> {
        let mut remaining = given.len();
        let mut assign_defaults = false;
        let mut fields = Vec::with_capacity(FIELD_ORDER.len());
        for kind in FIELD_ORDER {
            let field = if let Some((_, text)) = given.iter().find(|(k, _)| *k == kind) {
                remaining -= 1;
                assign_defaults = remaining == 0;
                Field::parse(kind, text, false)?
            } else if assign_defaults {
                Field::parse(kind, kind.default_expression(), true)?
            } else {
                Field::all(kind, true)
            };
            fields.push(field);
        }
        Ok(fields)
    }

    /// `get_next_fire_time(previous_fire_time, now)`.
    ///
    /// `previous` carries the previous fire time and its `utcoffset()` with the fold
    /// flipped (needed to compare it with another zone's time the way Python does).
    /// `jitter` draws the random delay in microseconds, if the trigger has one.
    pub fn next_fire_time<Z: TimeZone>(
        &self,
        zone: &Z,
        id: ZoneId,
        previous: Option<(&Aware, i64)>,
        now: &Aware,
        jitter: impl FnOnce() -> Option<i64>,
    ) -> Result<Option<Aware>, Z::Error> {
        let start = match previous {
            Some((prev, prev_flipped)) => {
                let utc = now.utc().min(prev.utc() + 1);
                let Some(mut start) = Aware::from_utc(zone, id, utc)? else { return Ok(None) };
                let flipped = if prev.zone == id { 0 } else { zone.utcoffset(start.local, !start.fold)? };
                if py_eq(&start, prev, || (flipped, prev_flipped)) {
                    match start.utc_add(zone, 1)? {
                        Some(later) => start = later,
                        None => return Ok(None),
                    }
                }
                start
            }
            None => match &self.start_date {
                Some(start_date) => match Aware::from_utc(zone, id, now.utc().max(start_date.utc()))? {
                    Some(start) => start,
                    None => return Ok(None),
                },
                None => *now,
            },
        };
        // Round up to a whole second, then read the time in the trigger's zone. Python's
        // astimezone() returns a datetime already in the target tzinfo object as it is,
        // unnormalised, so a `now` in the trigger's own zone keeps its fields and fold.
        let micro = i64::from(civil::microsecond(start.local));
        let mut next = if micro == 0 && start.zone == id {
            start
        } else {
            let ceiling = start.utc() + if micro > 0 { 1_000_000 - micro } else { 0 };
            match Aware::from_utc(zone, id, ceiling)? {
                Some(next) => next,
                None => return Ok(None),
            }
        };

        let start_year = next.local.year();
        let mut feasibility_checked = false;
        let mut fieldnum: isize = 0;
        while (0..FIELD_ORDER.len() as isize).contains(&fieldnum) {
            let field = &self.fields[fieldnum as usize];
            if field.matches_all {
                // Nothing to change in this field; only the end date check remains.
                fieldnum += 1;
                if let Some(end) = &self.end_date {
                    if next.py_cmp(end) == Ordering::Greater {
                        return Ok(None);
                    }
                }
                continue;
            }
            let current = field.kind.value(next.local);
            let step = match field.next_value(next.local) {
                None => self.increment(zone, &next, fieldnum - 1)?,
                Some(value) if value > current => {
                    if field.kind.is_real() {
                        Some((self.set_field(zone, &next, fieldnum as usize, value)?, fieldnum + 1))
                    } else {
                        self.increment(zone, &next, fieldnum)?
                    }
                }
                Some(_) => Some((next, fieldnum + 1)),
            };
            let Some((date, num)) = step else { return Ok(None) };
            next = date;
            fieldnum = num;
            if let Some(end) = &self.end_date {
                if next.py_cmp(end) == Ordering::Greater {
                    return Ok(None);
                }
            }
            // Differs from APScheduler: an expression that can never match (say
            // `day='2nd fri', day_of_week='sat,sun'`) makes the reference scan every
            // month up to year 9999, which takes seconds; the answer, None, is known as
            // soon as no remaining year can hold a matching date.
            if !feasibility_checked && next.local.year() > start_year + YEARS_BEFORE_FEASIBILITY_CHECK {
                feasibility_checked = true;
                if !self.some_year_can_match(next.local.year()) {
                    return Ok(None);
                }
            }
        }
        if fieldnum < 0 {
            return Ok(None);
        }
        if let Some(delay) = jitter() {
            if let Some(jittered) = next.wall_add(zone, delay)? {
                next = jittered;
            }
        }
        Ok(Some(match &self.end_date {
            Some(end) => next.py_min(*end),
            None => next,
        }))
    }

    /// Adds one to field `fieldnum` (carrying into more significant fields when it is at
    /// its maximum) and resets the less significant ones to their minimum. Returns the
    /// new date and the field actually incremented, or `None` once the years run out.
    fn increment<Z: TimeZone>(
        &self,
        zone: &Z,
        date: &Aware,
        mut fieldnum: isize,
    ) -> Result<Option<(Aware, isize)>, Z::Error> {
        let count = FIELD_ORDER.len() as isize;
        let mut values = [0i64; 8];
        let mut i: isize = 0;
        while i < count {
            if i < -count {
                return Ok(None);
            }
            // The reference indexes its field list with i, which may go negative while
            // carrying; Python then counts from the end of the list.
            let index = i.rem_euclid(count) as usize;
            let kind = FIELD_ORDER[index];
            if !kind.is_real() {
                if i == fieldnum {
                    fieldnum -= 1;
                    i -= 1;
                } else {
                    i += 1;
                }
                continue;
            }
            if i < fieldnum {
                values[index] = kind.value(date.local);
                i += 1;
            } else if i > fieldnum {
                values[index] = kind.min();
                i += 1;
            } else {
                let value = kind.value(date.local);
                if value == kind.max_at(date.local) {
                    fieldnum -= 1;
                    i -= 1;
                } else {
                    values[index] = value + 1;
                    i += 1;
                }
            }
        }
        if fieldnum < 0 {
            return Ok(None);
        }
        let Some(target) = naive_from_values(&values) else { return Ok(None) };
        let difference = naive_to_micros(target) - naive_to_micros(date.local);
        Ok(date.utc_add(zone, difference)?.map(|date| (date, fieldnum)))
    }

    /// Sets a real field to `value` on the wall clock, keeping the more significant
    /// fields and `fold`, and resetting the less significant ones.
    fn set_field<Z: TimeZone>(&self, zone: &Z, date: &Aware, fieldnum: usize, value: i64) -> Result<Aware, Z::Error> {
        let mut values = [0i64; 8];
        for (i, kind) in FIELD_ORDER.iter().enumerate() {
            values[i] = match i.cmp(&fieldnum) {
                Ordering::Less => kind.value(date.local),
                Ordering::Equal => value,
                Ordering::Greater => kind.min(),
            };
        }
        // Every value comes from a valid date or from a field's bounds in that date's
        // month, so the wall-clock time exists on the calendar.
        let local = naive_from_values(&values).unwrap_or(date.local);
        Aware::from_local(zone, date.zone, local, date.fold)
    }

    fn some_year_can_match(&self, from_year: i32) -> bool {
        let calendar = self.calendar_years.get_or_init(|| Box::new(self.calendar_cycle()));
        let year_field = &self.fields[0];
        (from_year..=civil::MAX_YEAR).any(|year| {
            calendar[year.rem_euclid(400) as usize]
                && civil::naive(year, 1, 1, 0, 0, 0, 0).is_some_and(|jan1| year_field.matches(jan1))
        })
    }

    /// Marks the years of the Gregorian cycle (which repeats dates, weekdays and ISO
    /// weeks every 400 years) that contain a date the month, day, week and weekday
    /// fields all accept.
    fn calendar_cycle(&self) -> [bool; 400] {
        let calendar_fields: Vec<&Field> =
            self.fields.iter().filter(|f| matches!(f.kind, FieldKind::Month | FieldKind::Day | FieldKind::Week | FieldKind::DayOfWeek)).collect();
        let mut years = [false; 400];
        for (offset, slot) in years.iter_mut().enumerate() {
            let year = 2000 + offset as i32;
            let Some(mut day) = chrono::NaiveDate::from_ymd_opt(year, 1, 1) else { continue };
            while day.year() == year {
                let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
                if calendar_fields.iter().all(|f| f.matches(midnight)) {
                    *slot = true;
                    break;
                }
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
        }
        years
    }
}

/// The wall-clock time from values indexed like [`FIELD_ORDER`] (week and weekday,
/// at 3 and 4, are not part of it).
fn naive_from_values(values: &[i64; 8]) -> Option<NaiveDateTime> {
    let small = |i: usize| u32::try_from(values[i]).ok();
    civil::naive(i32::try_from(values[0]).ok()?, small(1)?, small(2)?, small(5)?, small(6)?, small(7)?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    const OWN: ZoneId = 1;

    fn cron(given: &[(FieldKind, &str)]) -> Cron {
        let given: Vec<(FieldKind, String)> = given.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Cron::new(Cron::compile_fields(&given).unwrap(), None, None)
    }

    fn at(zone: &Zone, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Aware {
        Aware::from_local(zone, OWN, civil::naive(y, mo, d, h, mi, 0, 0).unwrap(), false).unwrap()
    }

    fn next(c: &Cron, zone: &Zone, now: &Aware) -> Option<NaiveDateTime> {
        c.next_fire_time(zone, OWN, None, now, || None).unwrap().map(|a| a.local)
    }

    #[test]
    fn defaults_follow_the_least_significant_given_field() {
        let c = cron(&[(FieldKind::Hour, "5")]);
        let text: Vec<String> = c.fields.iter().map(|f| f.to_string()).collect();
        assert_eq!(text, ["*", "*", "*", "*", "*", "5", "0", "0"]);
    }

    #[test]
    fn finds_the_reference_examples() {
        let utc = Zone::UTC;
        let c = cron(&[(FieldKind::Year, "2009/2"), (FieldKind::Month, "1/3"), (FieldKind::Day, "5-13")]);
        assert_eq!(next(&c, &utc, &at(&utc, 2009, 10, 14, 0, 0)), civil::naive(2011, 1, 5, 0, 0, 0, 0));
        let c = cron(&[(FieldKind::Year, "2009"), (FieldKind::Month, "1"), (FieldKind::Day, "4th wed")]);
        assert_eq!(next(&c, &utc, &at(&utc, 2009, 1, 1, 0, 0)), civil::naive(2009, 1, 28, 0, 0, 0, 0));
        let c = cron(&[(FieldKind::Year, "2009"), (FieldKind::Week, "15"), (FieldKind::DayOfWeek, "2")]);
        assert_eq!(next(&c, &utc, &at(&utc, 2009, 1, 1, 0, 0)), civil::naive(2009, 4, 8, 0, 0, 0, 0));
        let c = cron(&[(FieldKind::Day, "30")]);
        assert_eq!(next(&c, &utc, &at(&utc, 2016, 2, 1, 0, 0)), civil::naive(2016, 3, 30, 0, 0, 0, 0));
    }

    #[test]
    fn impossible_expressions_end_quickly() {
        let utc = Zone::UTC;
        let c = cron(&[(FieldKind::Day, "2nd fri"), (FieldKind::DayOfWeek, "sat,sun")]);
        let started = std::time::Instant::now();
        assert_eq!(next(&c, &utc, &at(&utc, 2020, 1, 1, 0, 0)), None);
        assert!(started.elapsed().as_millis() < 500);
        // Rare but possible: Feb 29 on a Monday, next in 2044.
        let c = cron(&[(FieldKind::Month, "2"), (FieldKind::Day, "29"), (FieldKind::DayOfWeek, "mon")]);
        assert_eq!(next(&c, &utc, &at(&utc, 2025, 1, 1, 0, 0)), civil::naive(2044, 2, 29, 0, 0, 0, 0));
    }
}

