"""The expressions a cron field is made of.

These objects describe a compiled field for code that inspects ``CronTrigger.fields``;
the trigger itself computes with the same expressions in Rust. Their attributes (and so
their pickled form) are those of APScheduler 3.x.
"""

__all__ = (
    "AllExpression",
    "LastDayOfMonthExpression",
    "RangeExpression",
    "WeekdayPositionExpression",
    "WeekdayRangeExpression",
)

import re

from apscheduler import _core
from apscheduler.util import asint

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _field_name(field):
    return field if isinstance(field, str) else field.name


class AllExpression:
    value_re = re.compile(r"\*(?:/(?P<step>\d+))?$")

    def __init__(self, step=None):
        self.step = asint(step)
        if self.step == 0:
            raise ValueError("Increment must be higher than 0")

    def validate_range(self, field_name):
        # Compiling the text checks the same bounds, with the same messages.
        _core.parse_field(field_name, str(self))

    def get_next_value(self, date, field):
        return _core.expression_next_value(_field_name(field), str(self), date)

    def __eq__(self, other):
        return isinstance(other, self.__class__) and self.step == other.step

    def __str__(self):
        return f"*/{self.step}" if self.step else "*"

    def __repr__(self):
        return f"{type(self).__name__}({self.step})"


class RangeExpression(AllExpression):
    value_re = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?(?:/(?P<step>\d+))?$")

    def __init__(self, first, last=None, step=None):
        super().__init__(step)
        first = asint(first)
        last = asint(last)
        if last is None and step is None:
            last = first
        if last is not None and first > last:
            raise ValueError(
                "The minimum value in a range must not be higher than the maximum"
            )
        self.first = first
        self.last = last

    def __eq__(self, other):
        return (
            isinstance(other, self.__class__)
            and self.first == other.first
            and self.last == other.last
        )

    def _range_text(self):
        if self.last is not None and self.last != self.first:
            return f"{self.first}-{self.last}"
        return str(self.first)

    def __str__(self):
        text = self._range_text()
        return f"{text}/{self.step}" if self.step else text

    def __repr__(self):
        args = [str(self.first)]
        if (self.last is not None and self.last != self.first) or self.step:
            args.append(str(self.last))
        if self.step:
            args.append(str(self.step))
        return f"{type(self).__name__}({', '.join(args)})"


class _NamedRangeExpression(RangeExpression):
    value_re = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?", re.IGNORECASE)
    _names = ()
    _base = 0
    _what = ""

    def __init__(self, first, last=None):
        first_num = self._number(first)
        last_num = self._number(last) if last else None
        super().__init__(first_num, last_num)

    def _number(self, name):
        try:
            return self._names.index(name.lower()) + self._base
        except ValueError:
            raise ValueError(f'Invalid {self._what} name "{name}"') from None

    def _name(self, number):
        return self._names[number - self._base]

    def __str__(self):
        if self.last is not None and self.last != self.first:
            return f"{self._name(self.first)}-{self._name(self.last)}"
        return self._name(self.first)

    def __repr__(self):
        args = [f"'{self._name(self.first)}'"]
        if self.last is not None and self.last != self.first:
            args.append(f"'{self._name(self.last)}'")
        return f"{type(self).__name__}({', '.join(args)})"


class MonthRangeExpression(_NamedRangeExpression):
    _names = MONTHS
    _base = 1
    _what = "month"

    # Differs from APScheduler: its repr() names the month after the first one (and
    # raises IndexError for December); this one names the right month.


class WeekdayRangeExpression(_NamedRangeExpression):
    _names = WEEKDAYS
    _base = 0
    _what = "weekday"


class WeekdayPositionExpression(AllExpression):
    options = ["1st", "2nd", "3rd", "4th", "5th", "last"]
    value_re = re.compile(
        r"(?P<option_name>{}) +(?P<weekday_name>(?:\d+|\w+))".format("|".join(options)),
        re.IGNORECASE,
    )

    def __init__(self, option_name, weekday_name):
        super().__init__(None)
        try:
            self.option_num = self.options.index(option_name.lower())
        except ValueError:
            raise ValueError(f'Invalid weekday position "{option_name}"') from None
        try:
            self.weekday = WEEKDAYS.index(weekday_name.lower())
        except ValueError:
            raise ValueError(f'Invalid weekday name "{weekday_name}"') from None

    def get_next_value(self, date, field):
        # Only the day of the month takes positions, whatever field is passed.
        return _core.expression_next_value("day", str(self), date)

    def __eq__(self, other):
        return (
            super().__eq__(other)
            and self.option_num == other.option_num
            and self.weekday == other.weekday
        )

    def __str__(self):
        return f"{self.options[self.option_num]} {WEEKDAYS[self.weekday]}"

    def __repr__(self):
        return (
            f"{type(self).__name__}('{self.options[self.option_num]}', "
            f"'{WEEKDAYS[self.weekday]}')"
        )


class LastDayOfMonthExpression(AllExpression):
    value_re = re.compile(r"last", re.IGNORECASE)

    def __init__(self):
        super().__init__(None)

    def get_next_value(self, date, field):
        return _core.expression_next_value("day", "last", date)

    def __str__(self):
        return "last"

    def __repr__(self):
        return f"{type(self).__name__}()"


def _from_spec(spec):
    """Builds an expression object from the tuple the native parser returns."""
    kind, *args = spec
    if kind == "all":
        return AllExpression(*args)
    if kind == "range":
        expr = RangeExpression.__new__(RangeExpression)
        expr.step, expr.first, expr.last = args[2], args[0], args[1]
        return expr
    if kind in ("month", "weekday"):
        cls = MonthRangeExpression if kind == "month" else WeekdayRangeExpression
        expr = cls.__new__(cls)
        expr.step, expr.first, expr.last = None, args[0], args[1]
        return expr
    if kind == "position":
        expr = WeekdayPositionExpression.__new__(WeekdayPositionExpression)
        expr.step, expr.option_num, expr.weekday = None, args[0], args[1]
        return expr
    return LastDayOfMonthExpression()
