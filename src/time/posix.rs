//! The POSIX TZ rule at the end of a TZif file (`EST5EDT,M3.2.0,M11.1.0`).
//!
//! `zoneinfo` uses it for every time after the file's last explicit transition, so DST
//! keeps switching in 2100 and 9999. chrono-tz stops at a fixed horizon instead, which
//! is one reason zones are read from TZif files here.

use super::civil;

#[derive(Clone, Debug, PartialEq)]
pub enum After {
    /// No DST: one offset forever, in seconds.
    Fixed(i32),
    Rule(Rule),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    std_offset: i32,
    dst_offset: i32,
    start: TransitionDate,
    end: TransitionDate,
}

#[derive(Clone, Debug, PartialEq)]
enum Day {
    /// `Jn` (1..=365, February 29 never counted) or `n` (0..=365).
    Ordinal { day: i64, julian: bool },
    /// `Mm.w.d`: day `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    Calendar { month: u32, week: u32, weekday: u32 },
}

#[derive(Clone, Debug, PartialEq)]
struct TransitionDate {
    day: Day,
    /// Local time of the transition, in seconds (may be negative or past 24h).
    seconds: i64,
}

impl TransitionDate {
    /// Local "epoch" seconds of the transition in `year`, as zoneinfo computes it.
    fn year_to_epoch(&self, year: i32) -> i64 {
        // zoneinfo counts days from a base one day before 1970-01-01 here.
        let days_before_year = civil::days_before_year(year) - 1;
        let days = match self.day {
            Day::Ordinal { day, julian } => {
                let leap_shift = julian && day >= 59 && civil::is_leap(year);
                days_before_year + day + i64::from(leap_shift)
            }
            Day::Calendar { month, week, weekday } => {
                let (first_weekday, month_days) =
                    civil::month_range(year, month).unwrap_or((0, 31));
                // Monday-based weekday of the 1st, shifted to POSIX's Sunday = 0 origin.
                let mut month_day =
                    (i64::from(weekday) - (i64::from(first_weekday) + 1)).rem_euclid(7) + 1;
                month_day += (i64::from(week) - 1) * 7;
                if month_day > i64::from(month_days) {
                    month_day -= 7;
                }
                let before_month = days_before_month(year, month);
                days_before_year + before_month + month_day
            }
        };
        days * 86_400 + self.seconds
    }
}

fn days_before_month(year: i32, month: u32) -> i64 {
    const CUMULATIVE: [i64; 13] = [-1, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    CUMULATIVE[month as usize] + i64::from(month > 2 && civil::is_leap(year))
}

impl Rule {
    fn dst_diff(&self) -> i64 {
        i64::from(self.dst_offset - self.std_offset)
    }

    /// Offset for a local time (`ts` in local epoch seconds) in `year` with `fold`.
    pub fn utcoffset(&self, ts: i64, year: i32, fold: bool) -> i32 {
        let mut start = self.start.year_to_epoch(year);
        let mut end = self.end.year_to_epoch(year);
        let diff = self.dst_diff();
        // The period with the smaller offset starts at the end of the gap and ends at
        // the end of the fold for fold=0; for fold=1 it runs from the start of the gap
        // to the start of the fold. Which end moves depends on the sign of DST.
        if fold == (diff >= 0) {
            end -= diff;
        } else {
            start += diff;
        }
        let is_dst = if start < end {
            start <= ts && ts < end
        } else {
            !(end <= ts && ts < start)
        };
        if is_dst {
            self.dst_offset
        } else {
            self.std_offset
        }
    }

    /// Offset and fold for a UTC time (`ts` in epoch seconds) in UTC year `year`.
    pub fn fromutc(&self, ts: i64, year: i32) -> (i32, bool) {
        let start = self.start.year_to_epoch(year) - i64::from(self.std_offset);
        let end = self.end.year_to_epoch(year) - i64::from(self.dst_offset);
        let is_dst = if start < end {
            start <= ts && ts < end
        } else {
            !(end <= ts && ts < start)
        };
        let diff = self.dst_diff();
        let (ambiguous_start, ambiguous_end) = if diff > 0 {
            (end, end + diff)
        } else {
            (start, start - diff)
        };
        let fold = ambiguous_start <= ts && ts < ambiguous_end;
        (if is_dst { self.dst_offset } else { self.std_offset }, fold)
    }
}

/// Parses a TZ string; `None` when it is not one zoneinfo would accept.
pub fn parse(tz: &str) -> Option<After> {
    let (offsets, rules) = match tz.split_once(',') {
        Some((offsets, rules)) => (offsets, Some(rules)),
        None => (tz, None),
    };
    let mut rest = offsets;
    let _std_name = take_name(&mut rest)?;
    if rest.is_empty() {
        return if rules.is_none() { Some(After::Fixed(0)) } else { None };
    }
    let std_offset = take_offset(&mut rest)?;
    if rest.is_empty() {
        return if rules.is_none() { Some(After::Fixed(std_offset)) } else { None };
    }
    let _dst_name = take_name(&mut rest)?;
    let dst_offset = if rest.is_empty() { std_offset + 3600 } else { take_offset(&mut rest)? };
    if !rest.is_empty() {
        return None;
    }
    let (start, end) = rules?.split_once(',')?;
    Some(After::Rule(Rule {
        std_offset,
        dst_offset,
        start: parse_transition(start)?,
        end: parse_transition(end)?,
    }))
}

fn take_name<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let text = *rest;
    let len = if let Some(quoted) = text.strip_prefix('<') {
        let close = quoted.find('>')?;
        let inner = &quoted[..close];
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-') {
            return None;
        }
        close + 2
    } else {
        text.find(|c: char| c.is_ascii_digit() || matches!(c, '<' | ':' | '.' | '+' | '-'))
            .unwrap_or(text.len())
    };
    if len == 0 {
        return None;
    }
    *rest = &text[len..];
    Some(&text[..len])
}

/// `[+-]hh[:mm[:ss]]`; POSIX offsets are west-positive, so the sign flips.
fn take_offset(rest: &mut &str) -> Option<i32> {
    let text = *rest;
    let len = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, ':' | '+' | '-')))
        .unwrap_or(text.len());
    let (hours, minutes, seconds, negative) = parse_hms(&text[..len])?;
    if hours > 24 {
        return None;
    }
    *rest = &text[len..];
    let total = (hours * 3600 + minutes * 60 + seconds) as i32;
    Some(if negative { total } else { -total })
}

fn parse_hms(text: &str) -> Option<(i64, i64, i64, bool)> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut parts = body.split(':');
    let hours = parts.next().filter(|h| (1..=3).contains(&h.len()))?;
    let minutes = parts.next();
    let seconds = parts.next();
    if parts.next().is_some() || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let two_digits = |p: Option<&str>| -> Option<i64> {
        match p {
            None => Some(0),
            Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
            Some(_) => None,
        }
    };
    Some((hours.parse().ok()?, two_digits(minutes)?, two_digits(seconds)?, negative))
}

fn parse_transition(text: &str) -> Option<TransitionDate> {
    let (date, time) = match text.split_once('/') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let day = if let Some(spec) = date.strip_prefix('M') {
        let mut parts = spec.split('.');
        let month: u32 = parts.next()?.parse().ok()?;
        let week: u32 = parts.next()?.parse().ok()?;
        let weekday: u32 = parts.next()?.parse().ok()?;
        if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=5).contains(&week) || weekday > 6 {
            return None;
        }
        Day::Calendar { month, week, weekday }
    } else {
        let (digits, julian) = match date.strip_prefix('J') {
            Some(digits) => (digits, true),
            None => (date, false),
        };
        let day: i64 = digits.parse().ok()?;
        if !(i64::from(julian)..=365).contains(&day) {
            return None;
        }
        Day::Ordinal { day, julian }
    };
    let seconds = match time {
        None => 2 * 3600,
        Some(time) => {
            let (hours, minutes, seconds, negative) = parse_hms(time)?;
            if hours > 167 {
                return None;
            }
            let total = hours * 3600 + minutes * 60 + seconds;
            if negative { -total } else { total }
        }
    };
    Some(TransitionDate { day, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(tz: &str) -> Rule {
        match parse(tz) {
            Some(After::Rule(rule)) => rule,
            other => panic!("{tz}: {other:?}"),
        }
    }

    #[test]
    fn parses_fixed_and_quoted_names() {
        assert_eq!(parse("UTC0"), Some(After::Fixed(0)));
        assert_eq!(parse("<+0330>-3:30"), Some(After::Fixed(12600)));
        assert_eq!(parse("EST5"), Some(After::Fixed(-18000)));
        assert_eq!(parse("EST5EDT"), None); // DST without rules
    }

    #[test]
    fn new_york_switches_in_2100() {
        let ny = rule("EST5EDT,M3.2.0,M11.1.0");
        // 2100-07-01 12:00 local: DST.
        let july = (civil::days_before_year(2100) + 181) * 86_400 + 12 * 3600;
        assert_eq!(ny.utcoffset(july, 2100, false), -4 * 3600);
        let january = civil::days_before_year(2100) * 86_400 + 12 * 3600;
        assert_eq!(ny.utcoffset(january, 2100, false), -5 * 3600);
    }

    #[test]
    fn negative_dst_in_dublin() {
        let dublin = rule("IST-1GMT0,M10.5.0,M3.5.0/1");
        let january = civil::days_before_year(2200) * 86_400 + 12 * 3600;
        assert_eq!(dublin.utcoffset(january, 2200, false), 0);
        let july = (civil::days_before_year(2200) + 181) * 86_400 + 12 * 3600;
        assert_eq!(dublin.utcoffset(july, 2200, false), 3600);
    }
}
