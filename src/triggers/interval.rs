//! `IntervalTrigger`: fixed steps on the UTC time line.
//!
//! The reference computes with float timestamps, not with timedeltas; fire times are
//! reproduced to the microsecond by doing the same float arithmetic.

use std::cmp::Ordering;

use crate::time::aware::ZoneId;
use crate::time::pyfloat::{from_timestamp, timestamp};
use crate::time::{Aware, TimeZone};

#[derive(Clone, Debug)]
pub struct Interval {
    /// `interval.total_seconds()`.
    pub length: f64,
    pub start_date: Aware,
    pub end_date: Option<Aware>,
}

impl Interval {
    /// The next fire time as the reference's float timestamp, or `None` past the end
    /// date. `jitter` is the random delay in seconds already drawn, if any.
    pub fn next_timestamp(&self, previous: Option<&Aware>, now: &Aware, jitter: Option<f64>) -> Option<f64> {
        let start = timestamp(self.start_date.utc());
        let mut next = if let Some(previous) = previous {
            timestamp(previous.utc()) + self.length
        } else if self.start_date.py_cmp(now) == Ordering::Greater {
            start
        } else {
            let elapsed = timestamp(now.utc()) - start;
            start + self.length * (elapsed / self.length).ceil()
        };
        if let Some(jitter) = jitter {
            next += jitter;
        }
        match &self.end_date {
            Some(end) if next > timestamp(end.utc()) => None,
            _ => Some(next),
        }
    }

    /// `get_next_fire_time`; a time outside Python's datetime range ends the schedule.
    pub fn next_fire_time<Z: TimeZone>(
        &self,
        zone: &Z,
        id: ZoneId,
        previous: Option<&Aware>,
        now: &Aware,
        jitter: Option<f64>,
    ) -> Result<Option<Aware>, Z::Error> {
        match self.next_timestamp(previous, now, jitter).and_then(from_timestamp) {
            Some(micros) => Aware::from_utc(zone, id, micros),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::civil::naive;
    use crate::time::Zone;

    #[test]
    fn steps_from_the_start_date() {
        let utc = Zone::UTC;
        let at = |s, us| Aware::from_local(&utc, 1, naive(2009, 8, 4, 0, 0, s, us).unwrap(), false).unwrap();
        let trigger = Interval { length: 1.0, start_date: at(2, 0), end_date: None };
        let fire = |now: &Aware| trigger.next_fire_time(&utc, 1, None, now, None).unwrap().unwrap().local;
        assert_eq!(fire(&at(0, 0)), at(2, 0).local);
        assert_eq!(fire(&at(2, 1000)), at(3, 0).local);
        let after = trigger.next_fire_time(&utc, 1, Some(&at(3, 0)), &at(0, 0), None).unwrap().unwrap();
        assert_eq!(after.local, at(4, 0).local);
    }
}
