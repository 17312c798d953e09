from datetime import datetime
from re import Pattern
from typing import ClassVar

from apscheduler.triggers.cron.fields import BaseField

__all__ = (
    "AllExpression",
    "LastDayOfMonthExpression",
    "RangeExpression",
    "WeekdayPositionExpression",
    "WeekdayRangeExpression",
)

WEEKDAYS: list[str]
MONTHS: list[str]

class AllExpression:
    value_re: ClassVar[Pattern[str]]
    step: int | None
    def __init__(self, step: int | str | None = None) -> None: ...
    def validate_range(self, field_name: str) -> None: ...
    def get_next_value(self, date: datetime, field: BaseField) -> int | None: ...
    def __eq__(self, other: object) -> bool: ...

class RangeExpression(AllExpression):
    first: int
    last: int | None
    def __init__(
        self, first: int | str, last: int | str | None = None, step: int | str | None = None
    ) -> None: ...

class MonthRangeExpression(RangeExpression):
    def __init__(self, first: str, last: str | None = None) -> None: ...

class WeekdayRangeExpression(RangeExpression):
    def __init__(self, first: str, last: str | None = None) -> None: ...

class WeekdayPositionExpression(AllExpression):
    options: ClassVar[list[str]]
    option_num: int
    weekday: int
    def __init__(self, option_name: str, weekday_name: str) -> None: ...

class LastDayOfMonthExpression(AllExpression):
    def __init__(self) -> None: ...
