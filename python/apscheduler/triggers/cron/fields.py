"""Fields represent CronTrigger options which map to :class:`~datetime.datetime` fields.

``CronTrigger.fields`` is a list of these objects, built on demand from the trigger's
native form; their attributes (and pickled form) are those of APScheduler 3.x.
"""

__all__ = (
    "DEFAULT_VALUES",
    "MAX_VALUES",
    "MIN_VALUES",
    "BaseField",
    "DayOfMonthField",
    "DayOfWeekField",
    "WeekField",
)

import re
from calendar import monthrange

from apscheduler import _core
from apscheduler.triggers.cron.expressions import (
    AllExpression,
    LastDayOfMonthExpression,
    MonthRangeExpression,
    RangeExpression,
    WeekdayPositionExpression,
    WeekdayRangeExpression,
    _from_spec,
)

# The separator between a field's expressions, as the reference defines it.
SEPARATOR = re.compile(" *, *")

MIN_VALUES = {
    "year": 1970,
    "month": 1,
    "day": 1,
    "week": 1,
    "day_of_week": 0,
    "hour": 0,
    "minute": 0,
    "second": 0,
}
MAX_VALUES = {
    "year": 9999,
    "month": 12,
    "day": 31,
    "week": 53,
    "day_of_week": 6,
    "hour": 23,
    "minute": 59,
    "second": 59,
}
DEFAULT_VALUES = {
    "year": "*",
    "month": 1,
    "day": 1,
    "week": "*",
    "day_of_week": "*",
    "hour": 0,
    "minute": 0,
    "second": 0,
}


class BaseField:
    REAL = True
    COMPILERS = [AllExpression, RangeExpression]

    def __init__(self, name, exprs, is_default=False):
        self.name = name
        self.is_default = is_default
        self.compile_expressions(exprs)

    def get_min(self, dateval):
        return MIN_VALUES[self.name]

    def get_max(self, dateval):
        return MAX_VALUES[self.name]

    def get_value(self, dateval):
        return getattr(dateval, self.name)

    def get_next_value(self, dateval):
        values = [expr.get_next_value(dateval, self) for expr in self.expressions]
        values = [value for value in values if value is not None]
        return min(values) if values else None

    def compile_expressions(self, exprs):
        # Parsing is native: the same parser compiles the trigger itself.
        self.expressions = [_from_spec(spec) for spec in _core.parse_field(self.name, exprs)]

    def compile_expression(self, expr):
        self.expressions.extend(_from_spec(spec) for spec in _core.parse_field(self.name, expr))

    def __eq__(self, other):
        return isinstance(self, self.__class__) and self.expressions == other.expressions

    def __str__(self):
        return ",".join(str(expr) for expr in self.expressions)

    def __repr__(self):
        return f"{type(self).__name__}('{self.name}', '{self}')"


class WeekField(BaseField):
    REAL = False

    def get_value(self, dateval):
        return dateval.isocalendar()[1]


class DayOfMonthField(BaseField):
    COMPILERS = BaseField.COMPILERS + [WeekdayPositionExpression, LastDayOfMonthExpression]

    def get_max(self, dateval):
        return monthrange(dateval.year, dateval.month)[1]


class DayOfWeekField(BaseField):
    REAL = False
    COMPILERS = BaseField.COMPILERS + [WeekdayRangeExpression]

    def get_value(self, dateval):
        return dateval.weekday()


class MonthField(BaseField):
    COMPILERS = BaseField.COMPILERS + [MonthRangeExpression]


_FIELD_CLASSES = {
    "year": BaseField,
    "month": MonthField,
    "day": DayOfMonthField,
    "week": WeekField,
    "day_of_week": DayOfWeekField,
    "hour": BaseField,
    "minute": BaseField,
    "second": BaseField,
}


def _build_fields(described):
    """Field objects from ``(name, is_default, expression specs)`` triples."""
    fields = []
    for name, is_default, specs in described:
        cls = _FIELD_CLASSES[name]
        field = cls.__new__(cls)
        field.name = name
        field.is_default = is_default
        field.expressions = [_from_spec(spec) for spec in specs]
        fields.append(field)
    return fields
