//! The expressions a cron field is made of, their parser and their "next value" rule.
//!
//! Parsing follows the reference's regular expressions to the letter, including their
//! quirks: month and weekday names match as a prefix (`jan5` reads as `jan`, `mon-fri/2`
//! as `mon-fri`), and `$` also matches before a final newline.

use std::fmt;

use super::fields::FieldKind;
use crate::time::civil;

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
pub const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
pub const POSITIONS: [&str; 6] = ["1st", "2nd", "3rd", "4th", "5th", "last"];

/// Numbers in expressions are Python ints; i128 holds any that fits in 38 digits.
pub type Num = i128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `*` or `*/step`.
    All { step: Option<Num> },
    /// `a`, `a-b`, `a/step`, `a-b/step`. `last` is `None` only for `a/step`.
    Range { first: Num, last: Option<Num>, step: Option<Num> },
    /// `jan` or `jan-mar` (1-based month numbers).
    MonthRange { first: Num, last: Num },
    /// `mon` or `mon-fri` (0 = Monday).
    WeekdayRange { first: Num, last: Num },
    /// `2nd fri`, `last sun`: position 0..=4 for 1st..5th, 5 for last.
    WeekdayPosition { position: u8, weekday: u8 },
    /// `last`: the last day of the month.
    LastDayOfMonth,
}

/// What a field's value is computed from: the wall-clock date and time.
#[derive(Clone, Copy, Debug)]
pub struct DateParts {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// The context a "next value" is computed in: the field's current value and bounds.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub value: i64,
    pub min: i64,
    pub max: i64,
}

impl Expr {
    /// The smallest value at or after the current one this expression allows, within
    /// the field's bounds, or `None`.
    pub fn next_value(&self, bounds: Bounds, date: DateParts) -> Option<i64> {
        match *self {
            Expr::All { step } => {
                let start = bounds.value.max(bounds.min);
                let next = match step {
                    Some(step) => start + step_distance(step, start - bounds.min)?,
                    None => start,
                };
                (next <= bounds.max).then_some(next)
            }
            Expr::Range { first, last, step } => {
                let min = bounds.min.max(clamp(first));
                let max = last.map_or(bounds.max, |last| bounds.max.min(clamp(last)));
                let mut next = min.max(bounds.value);
                if let Some(step) = step {
                    next += step_distance(step, next - min)?;
                }
                (next <= max).then_some(next)
            }
            Expr::MonthRange { first, last } | Expr::WeekdayRange { first, last } => {
                Expr::Range { first, last: Some(last), step: None }.next_value(bounds, date)
            }
            Expr::WeekdayPosition { position, weekday } => {
                let (first_weekday, last_day) = civil::month_range(date.year, date.month)?;
                let mut first_hit = i64::from(weekday) - i64::from(first_weekday) + 1;
                if first_hit <= 0 {
                    first_hit += 7;
                }
                let last_day = i64::from(last_day);
                let target = if position < 5 {
                    first_hit + i64::from(position) * 7
                } else {
                    first_hit + (last_day - first_hit).div_euclid(7) * 7
                };
                (target <= last_day && target >= i64::from(date.day)).then_some(target)
            }
            Expr::LastDayOfMonth => civil::month_range(date.year, date.month).map(|(_, d)| i64::from(d)),
        }
    }

    /// The range check the reference runs after building an expression.
    pub fn validate(&self, kind: FieldKind) -> Result<(), String> {
        let (min, max) = (Num::from(kind.min()), Num::from(kind.max()));
        let step_check = |step: Option<Num>, range: Num| match step {
            Some(step) if step > range => Err(format!(
                "the step value ({step}) is higher than the total range of the expression ({range})"
            )),
            _ => Ok(()),
        };
        match *self {
            Expr::All { step } => step_check(step, max - min),
            Expr::Range { first, last, step } => {
                range_checks(first, last, step, min, max, step_check)
            }
            Expr::MonthRange { first, last } | Expr::WeekdayRange { first, last } => {
                range_checks(first, Some(last), None, min, max, step_check)
            }
            Expr::WeekdayPosition { .. } | Expr::LastDayOfMonth => Ok(()),
        }
    }
}

fn range_checks(
    first: Num,
    last: Option<Num>,
    step: Option<Num>,
    min: Num,
    max: Num,
    step_check: impl Fn(Option<Num>, Num) -> Result<(), String>,
) -> Result<(), String> {
    step_check(step, max - min)?;
    if first < min {
        return Err(format!("the first value ({first}) is lower than the minimum value ({min})"));
    }
    if let Some(last) = last.filter(|&last| last > max) {
        return Err(format!("the last value ({last}) is higher than the maximum value ({max})"));
    }
    // The reference writes `(self.last or MAX)`: a last value of 0 counts as absent.
    let upper = last.filter(|&last| last != 0).unwrap_or(max);
    step_check(step, upper - first)
}

/// Distance to the next multiple of `step` counted from the range start (Python `%`).
fn step_distance(step: Num, offset: i64) -> Option<i64> {
    let step = i64::try_from(step).ok()?;
    Some((step - offset).rem_euclid(step))
}

/// Expression numbers beyond i64 can never be reached by a date field.
fn clamp(value: Num) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Expr::All { step: None } => f.write_str("*"),
            Expr::All { step: Some(step) } => write!(f, "*/{step}"),
            Expr::Range { first, last, step } => {
                match last {
                    Some(last) if last != first => write!(f, "{first}-{last}")?,
                    _ => write!(f, "{first}")?,
                }
                match step {
                    Some(step) if step != 0 => write!(f, "/{step}"),
                    _ => Ok(()),
                }
            }
            Expr::MonthRange { first, last } => names(f, &MONTHS, first - 1, last - 1),
            Expr::WeekdayRange { first, last } => names(f, &WEEKDAYS, first, last),
            Expr::WeekdayPosition { position, weekday } => {
                write!(f, "{} {}", POSITIONS[usize::from(position)], WEEKDAYS[usize::from(weekday)])
            }
            Expr::LastDayOfMonth => f.write_str("last"),
        }
    }
}

fn names(f: &mut fmt::Formatter<'_>, table: &[&str], first: Num, last: Num) -> fmt::Result {
    let name = |i: Num| table.get(usize::try_from(i).unwrap_or(usize::MAX)).copied().unwrap_or("?");
    if last != first {
        write!(f, "{}-{}", name(first), name(last))
    } else {
        f.write_str(name(first))
    }
}

/// Parses one expression (no commas) for a field, with the reference's messages.
pub fn parse(kind: FieldKind, text: &str) -> Result<Expr, String> {
    let compiled = try_all(text)
        .or_else(|| try_range(text))
        .or_else(|| match kind {
            FieldKind::Month => try_names(text, &MONTHS, 1, "month"),
            FieldKind::DayOfWeek => try_names(text, &WEEKDAYS, 0, "weekday"),
            FieldKind::Day => try_position(text).or_else(|| try_last(text)),
            _ => None,
        });
    let expr = match compiled {
        Some(result) => result?,
        None => {
            return Err(format!("Unrecognized expression \"{text}\" for field \"{}\"", kind.name()))
        }
    };
    expr.validate(kind)
        .map_err(|e| format!("Error validating expression {}: {e}", py_repr_str(text)))?;
    Ok(expr)
}

/// Python's `$`: the end of the text, or just before a final newline.
fn at_end(rest: &str) -> bool {
    rest.is_empty() || rest == "\n"
}

/// Differs from APScheduler: its `\d` also matches non-ASCII decimal digits (which
/// `int()` then reads); only ASCII digits are numbers here.
fn take_digits(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text.split_at(end)
}

fn number(digits: &str) -> Num {
    // Digits only, so parsing fails only on overflow; such a number is past every bound.
    digits.parse().unwrap_or(Num::MAX)
}

/// `\*(?:/(\d+))?$`
fn try_all(text: &str) -> Option<Result<Expr, String>> {
    let rest = text.strip_prefix('*')?;
    let (step, rest) = match rest.strip_prefix('/') {
        Some(after) => match take_digits(after) {
            ("", _) => (None, rest),
            (digits, rest) => (Some(number(digits)), rest),
        },
        None => (None, rest),
    };
    if !at_end(rest) {
        return None;
    }
    Some(check_step(step).map(|step| Expr::All { step }))
}

fn check_step(step: Option<Num>) -> Result<Option<Num>, String> {
    if step == Some(0) {
        return Err("Increment must be higher than 0".to_string());
    }
    Ok(step)
}

/// `(\d+)(?:-(\d+))?(?:/(\d+))?$`
fn try_range(text: &str) -> Option<Result<Expr, String>> {
    let (first, mut rest) = take_digits(text);
    if first.is_empty() {
        return None;
    }
    let mut last = None;
    if let Some(after) = rest.strip_prefix('-') {
        let (digits, after) = take_digits(after);
        if !digits.is_empty() {
            last = Some(number(digits));
            rest = after;
        }
    }
    let mut step = None;
    if let Some(after) = rest.strip_prefix('/') {
        let (digits, after) = take_digits(after);
        if !digits.is_empty() {
            step = Some(number(digits));
            rest = after;
        }
    }
    if !at_end(rest) {
        return None;
    }
    let first = number(first);
    Some(check_step(step).and_then(|step| {
        let last = if last.is_none() && step.is_none() { Some(first) } else { last };
        match last {
            Some(last) if first > last => {
                Err("The minimum value in a range must not be higher than the maximum".to_string())
            }
            _ => Ok(Expr::Range { first, last, step }),
        }
    }))
}

fn take_letters(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(text.len());
    text.split_at(end)
}

/// `([a-z]+)(?:-([a-z]+))?`, case-insensitive, matched as a prefix.
fn try_names(text: &str, table: &[&str], base: Num, what: &str) -> Option<Result<Expr, String>> {
    let (first, rest) = take_letters(text);
    if first.is_empty() {
        return None;
    }
    let last = rest.strip_prefix('-').map(|after| take_letters(after).0).filter(|l| !l.is_empty());
    let lookup = |name: &str| {
        table
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| i as Num + base)
            .ok_or_else(|| format!("Invalid {what} name \"{name}\""))
    };
    Some((|| {
        let first_num = lookup(first)?;
        let last_num = match last {
            Some(last) => lookup(last)?,
            None => first_num,
        };
        if first_num > last_num {
            return Err("The minimum value in a range must not be higher than the maximum".to_string());
        }
        Ok(if base == 1 {
            Expr::MonthRange { first: first_num, last: last_num }
        } else {
            Expr::WeekdayRange { first: first_num, last: last_num }
        })
    })())
}

/// `(1st|2nd|3rd|4th|5th|last) +(\d+|\w+)`, case-insensitive, matched as a prefix.
fn try_position(text: &str) -> Option<Result<Expr, String>> {
    let position = POSITIONS.iter().position(|p| {
        text.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p))
    })?;
    let rest = &text[POSITIONS[position].len()..];
    let after_spaces = rest.trim_start_matches(' ');
    if after_spaces.len() == rest.len() {
        return None;
    }
    let name_len = if after_spaces.starts_with(|c: char| c.is_ascii_digit()) {
        take_digits(after_spaces).0.len()
    } else {
        after_spaces
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after_spaces.len())
    };
    if name_len == 0 {
        return None;
    }
    let name = &after_spaces[..name_len];
    Some(
        WEEKDAYS
            .iter()
            .position(|w| w.eq_ignore_ascii_case(name))
            .map(|weekday| Expr::WeekdayPosition { position: position as u8, weekday: weekday as u8 })
            .ok_or_else(|| format!("Invalid weekday name \"{name}\"")),
    )
}

/// `last`, case-insensitive, matched as a prefix.
fn try_last(text: &str) -> Option<Result<Expr, String>> {
    text.get(..4)
        .filter(|head| head.eq_ignore_ascii_case("last"))
        .map(|_| Ok(Expr::LastDayOfMonth))
}

/// `repr()` of a Python string, for error messages.
pub fn py_repr_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: FieldKind, text: &str) -> Result<Expr, String> {
        parse(kind, text)
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(p(FieldKind::Hour, "*"), Ok(Expr::All { step: None }));
        assert_eq!(p(FieldKind::Hour, "*/3"), Ok(Expr::All { step: Some(3) }));
        assert_eq!(p(FieldKind::Hour, "5"), Ok(Expr::Range { first: 5, last: Some(5), step: None }));
        assert_eq!(p(FieldKind::Hour, "5/2"), Ok(Expr::Range { first: 5, last: None, step: Some(2) }));
        assert_eq!(p(FieldKind::Month, "Jan-MAR"), Ok(Expr::MonthRange { first: 1, last: 3 }));
        assert_eq!(p(FieldKind::DayOfWeek, "mon-fri/2"), Ok(Expr::WeekdayRange { first: 0, last: 4 }));
        assert_eq!(p(FieldKind::Day, "LAST fri"), Ok(Expr::WeekdayPosition { position: 5, weekday: 4 }));
        assert_eq!(p(FieldKind::Day, "last"), Ok(Expr::LastDayOfMonth));
        assert_eq!(p(FieldKind::Day, "7\n"), Ok(Expr::Range { first: 7, last: Some(7), step: None }));
    }

    #[test]
    fn reports_the_reference_messages() {
        assert_eq!(p(FieldKind::Hour, "*/0"), Err("Increment must be higher than 0".into()));
        assert_eq!(
            p(FieldKind::Day, "*/31"),
            Err("Error validating expression '*/31': the step value (31) is higher than the total range of the expression (30)".into())
        );
        assert_eq!(
            p(FieldKind::Hour, "0-24"),
            Err("Error validating expression '0-24': the last value (24) is higher than the maximum value (23)".into())
        );
        assert_eq!(
            p(FieldKind::Day, "0-3"),
            Err("Error validating expression '0-3': the first value (0) is lower than the minimum value (1)".into())
        );
        assert_eq!(
            p(FieldKind::Hour, "5-2"),
            Err("The minimum value in a range must not be higher than the maximum".into())
        );
        assert_eq!(p(FieldKind::Month, "foo"), Err("Invalid month name \"foo\"".into()));
        assert_eq!(p(FieldKind::Day, "6th fri"), Err("Unrecognized expression \"6th fri\" for field \"day\"".into()));
        assert_eq!(p(FieldKind::Day, "1st moh"), Err("Invalid weekday name \"moh\"".into()));
        assert_eq!(
            p(FieldKind::Year, "2009-fault"),
            Err("Unrecognized expression \"2009-fault\" for field \"year\"".into())
        );
    }

    #[test]
    fn next_values() {
        let d = DateParts { year: 2008, month: 2, day: 1 };
        let b = |value| Bounds { value, min: 1, max: 29 };
        assert_eq!(Expr::WeekdayPosition { position: 0, weekday: 4 }.next_value(b(1), d), Some(1));
        assert_eq!(Expr::WeekdayPosition { position: 1, weekday: 2 }.next_value(b(1), d), Some(13));
        assert_eq!(Expr::WeekdayPosition { position: 5, weekday: 4 }.next_value(b(1), d), Some(29));
        let hours = |value| Bounds { value, min: 0, max: 23 };
        assert_eq!(Expr::All { step: Some(3) }.next_value(hours(7), d), Some(9));
        assert_eq!(Expr::All { step: Some(3) }.next_value(hours(22), d), None);
        let days = |value| Bounds { value, min: 1, max: 31 };
        let r = Expr::Range { first: 2, last: Some(9), step: Some(3) };
        assert_eq!(r.next_value(days(3), d), Some(5));
        assert_eq!(r.next_value(days(9), d), None);
    }

    #[test]
    fn displays_like_the_reference() {
        assert_eq!(p(FieldKind::Month, "feb-dec").unwrap().to_string(), "feb-dec");
        assert_eq!(p(FieldKind::Hour, "0005").unwrap().to_string(), "5");
        assert_eq!(p(FieldKind::Hour, "3-3").unwrap().to_string(), "3");
        assert_eq!(p(FieldKind::Day, "2nd WED").unwrap().to_string(), "2nd wed");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
    }
}
