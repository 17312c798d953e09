//! `CalendarIntervalTrigger`: calendar steps (years, months, then weeks and days) at a
//! fixed wall-clock time of day.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};

use crate::time::aware::ZoneId;
use crate::time::civil::{naive_to_micros, MAX_YEAR, MIN_YEAR};
use crate::time::{Aware, TimeZone};

#[derive(Clone, Debug)]
pub struct CalendarInterval {
    pub years: i64,
    pub months: i64,
    pub weeks: i64,
    pub days: i64,
    pub time: NaiveTime,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

impl CalendarInterval {
    /// `previous` is the date part of the previous fire time, read in its own zone.
    /// `jitter` draws the random delay in microseconds, if the trigger has one.
    /// `step` computes the next date from a previous one; [`CalendarInterval::step`] is
    /// the native rule.
    pub fn next_fire_time<Z: TimeZone>(
        &self,
        zone: &Z,
        id: ZoneId,
        mut previous: Option<NaiveDate>,
        mut step: impl FnMut(NaiveDate) -> Result<Option<NaiveDate>, Z::Error>,
        jitter: impl FnOnce() -> Option<i64>,
    ) -> Result<Option<Aware>, Z::Error> {
        loop {
            let date = match previous {
                Some(previous) => match step(previous)? {
                    Some(date) => date,
                    None => return Ok(None),
                },
                None => self.start_date,
            };
            if self.end_date.is_some_and(|end| date > end) {
                return Ok(None);
            }
            // Read the wall-clock time with fold=0, then normalise through UTC: a time
            // inside a DST gap comes back shifted, and such a day is skipped.
            let local = date.and_time(self.time);
            let utc = naive_to_micros(local) - zone.utcoffset(local, false)?;
            let Some(fire) = Aware::from_utc(zone, id, utc)? else { return Ok(None) };
            if fire.local.time() != self.time {
                previous = Some(fire.local.date());
                continue;
            }
            return match jitter() {
                Some(delay) => Ok(fire.wall_add(zone, delay)?.or(Some(fire))),
                None => Ok(Some(fire)),
            };
        }
    }

    /// Adds years and months keeping the day of the month (repeating while that day
    /// doesn't exist), then weeks and days.
    pub fn step(&self, previous: NaiveDate) -> Option<NaiveDate> {
        let (mut year, mut month) = (i64::from(previous.year()), i64::from(previous.month()));
        loop {
            month += self.months;
            year += self.years + (month - 1).div_euclid(12);
            month = (month - 1).rem_euclid(12) + 1;
            // Differs from APScheduler: running out of years ends the schedule; the
            // reference keeps looking for a valid date for ever.
            if !(i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&year) {
                return None;
            }
            if let Some(date) = NaiveDate::from_ymd_opt(year as i32, month as u32, previous.day()) {
                let date = date.checked_add_signed(Duration::days(self.days + self.weeks * 7))?;
                return (date.year() <= MAX_YEAR && date.year() >= MIN_YEAR).then_some(date);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Zone;

    #[test]
    fn skips_days_missing_from_a_month() {
        let trigger = CalendarInterval {
            years: 0,
            months: 1,
            weeks: 0,
            days: 0,
            time: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
            start_date: NaiveDate::from_ymd_opt(2016, 3, 31).unwrap(),
            end_date: None,
        };
        let utc = Zone::UTC;
        let step = |d| Ok(trigger.step(d));
        let first = trigger.next_fire_time(&utc, 1, None, step, || None).unwrap().unwrap();
        assert_eq!(first.local.date(), NaiveDate::from_ymd_opt(2016, 3, 31).unwrap());
        let second = trigger.next_fire_time(&utc, 1, Some(first.local.date()), step, || None).unwrap().unwrap();
        assert_eq!(second.local.date(), NaiveDate::from_ymd_opt(2016, 5, 31).unwrap());
    }
}
