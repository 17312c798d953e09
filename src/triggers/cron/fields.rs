//! The eight fields of a cron trigger: which date part each reads, its bounds, and the
//! union of its expressions.

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::expressions::{self, Bounds, DateParts, Expr};
use crate::time::civil;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    Year,
    Month,
    Day,
    Week,
    DayOfWeek,
    Hour,
    Minute,
    Second,
}

/// In the order the reference walks them, most significant first.
pub const FIELD_ORDER: [FieldKind; 8] = [
    FieldKind::Year,
    FieldKind::Month,
    FieldKind::Day,
    FieldKind::Week,
    FieldKind::DayOfWeek,
    FieldKind::Hour,
    FieldKind::Minute,
    FieldKind::Second,
];

impl FieldKind {
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Year => "year",
            FieldKind::Month => "month",
            FieldKind::Day => "day",
            FieldKind::Week => "week",
            FieldKind::DayOfWeek => "day_of_week",
            FieldKind::Hour => "hour",
            FieldKind::Minute => "minute",
            FieldKind::Second => "second",
        }
    }

    pub fn from_name(name: &str) -> Option<FieldKind> {
        FIELD_ORDER.iter().copied().find(|kind| kind.name() == name)
    }

    pub fn min(self) -> i64 {
        match self {
            FieldKind::Year => 1970,
            FieldKind::Month | FieldKind::Day | FieldKind::Week => 1,
            _ => 0,
        }
    }

    pub fn max(self) -> i64 {
        match self {
            FieldKind::Year => 9999,
            FieldKind::Month => 12,
            FieldKind::Day => 31,
            FieldKind::Week => 53,
            FieldKind::DayOfWeek => 6,
            FieldKind::Hour => 23,
            FieldKind::Minute | FieldKind::Second => 59,
        }
    }

    /// Week and weekday are derived from the date rather than set on it, so the search
    /// never assigns them directly: it moves the day instead.
    pub fn is_real(self) -> bool {
        !matches!(self, FieldKind::Week | FieldKind::DayOfWeek)
    }

    /// The value used when a less significant field is left out (see `CronTrigger`).
    pub fn default_expression(self) -> &'static str {
        match self {
            FieldKind::Month | FieldKind::Day => "1",
            FieldKind::Hour | FieldKind::Minute | FieldKind::Second => "0",
            _ => "*",
        }
    }

    pub fn value(self, date: NaiveDateTime) -> i64 {
        i64::from(match self {
            FieldKind::Year => return i64::from(date.year()),
            FieldKind::Month => date.month(),
            FieldKind::Day => date.day(),
            FieldKind::Week => date.iso_week().week(),
            FieldKind::DayOfWeek => civil::weekday(date.date()),
            FieldKind::Hour => date.hour(),
            FieldKind::Minute => date.minute(),
            FieldKind::Second => date.second(),
        })
    }

    /// The upper bound in the context of a date: the day field ends with its month.
    pub fn max_at(self, date: NaiveDateTime) -> i64 {
        match self {
            FieldKind::Day => i64::from(civil::days_in_month(date.year(), date.month())),
            _ => self.max(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub kind: FieldKind,
    expressions: Expressions,
    pub is_default: bool,
    /// Holds a plain `*`, so every value matches and the search can pass it by.
    pub matches_all: bool,
}

/// Nearly every field is a single expression; keeping it inline saves an allocation
/// per field, which is most of the cost of building a trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expressions {
    One([Expr; 1]),
    Many(Vec<Expr>),
}

impl Field {
    /// Compiles a field from its text (`str(value)` of what the user passed).
    pub fn parse(kind: FieldKind, text: &str, is_default: bool) -> Result<Field, String> {
        let text = text.trim();
        // The reference splits on ` *, *`: spaces around commas belong to the separator.
        let last = text.bytes().filter(|&b| b == b',').count();
        if last == 0 {
            let one = Expressions::One([expressions::parse(kind, text)?]);
            return Ok(Field::from_expressions(kind, one, is_default));
        }
        let mut parsed = Vec::with_capacity(last + 1);
        for (i, piece) in text.split(',').enumerate() {
            let piece = if i > 0 { piece.trim_start_matches(' ') } else { piece };
            let piece = if i < last { piece.trim_end_matches(' ') } else { piece };
            parsed.push(expressions::parse(kind, piece)?);
        }
        Ok(Field::new(kind, parsed, is_default))
    }

    /// A plain `*` (what an omitted field means), built without parsing.
    pub fn all(kind: FieldKind, is_default: bool) -> Field {
        Field::from_expressions(kind, Expressions::One([Expr::All { step: None }]), is_default)
    }

    pub fn new(kind: FieldKind, mut expressions: Vec<Expr>, is_default: bool) -> Field {
        let expressions = match expressions.len() {
            1 => Expressions::One([expressions.remove(0)]),
            _ => Expressions::Many(expressions),
        };
        Field::from_expressions(kind, expressions, is_default)
    }

    fn from_expressions(kind: FieldKind, expressions: Expressions, is_default: bool) -> Field {
        let mut field = Field { kind, expressions, is_default, matches_all: false };
        field.matches_all = field.expressions().contains(&Expr::All { step: None });
        field
    }

    pub fn expressions(&self) -> &[Expr] {
        match &self.expressions {
            Expressions::One(one) => one,
            Expressions::Many(many) => many,
        }
    }

    /// The smallest value any expression allows at or after the date's current value.
    pub fn next_value(&self, date: NaiveDateTime) -> Option<i64> {
        let value = self.kind.value(date);
        if self.matches_all {
            return Some(value);
        }
        let bounds = Bounds { value, min: self.kind.min(), max: self.kind.max_at(date) };
        let parts = DateParts { year: date.year(), month: date.month(), day: date.day() };
        let mut smallest = None;
        for expr in self.expressions() {
            if let Some(next) = expr.next_value(bounds, parts) {
                smallest = Some(smallest.map_or(next, |s: i64| s.min(next)));
            }
        }
        smallest
    }

    /// Whether the date's current value is allowed.
    pub fn matches(&self, date: NaiveDateTime) -> bool {
        self.next_value(date) == Some(self.kind.value(date))
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, expr) in self.expressions().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{expr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        civil::naive(y, m, d, h, 0, 0, 0).unwrap()
    }

    #[test]
    fn splits_lists_like_the_reference() {
        let field = Field::parse(FieldKind::Day, " 1-2 ,  4-7 ", false).unwrap();
        assert_eq!(field.to_string(), "1-2,4-7");
        assert!(Field::parse(FieldKind::Day, "1-2,", false).is_err());
    }

    #[test]
    fn next_value_is_the_smallest_of_the_expressions() {
        let field = Field::parse(FieldKind::Day, "6,8", false).unwrap();
        assert_eq!(field.next_value(at(2009, 12, 7, 0)), Some(8));
        assert_eq!(field.next_value(at(2009, 12, 9, 0)), None);
        let weekday = Field::parse(FieldKind::DayOfWeek, "TUE-SAT", false).unwrap();
        assert_eq!(weekday.next_value(at(2008, 2, 7, 0)), Some(3));
        let week = Field::parse(FieldKind::Week, "8", false).unwrap();
        assert!(week.matches(at(2009, 2, 16, 0)));
        assert!(!week.matches(at(2009, 2, 15, 0)));
    }
}
