import re
from datetime import datetime
from typing import ClassVar

from apscheduler.triggers.cron.expressions import AllExpression

__all__ = (
    "DEFAULT_VALUES",
    "MAX_VALUES",
    "MIN_VALUES",
    "BaseField",
    "DayOfMonthField",
    "DayOfWeekField",
    "WeekField",
)

SEPARATOR: re.Pattern[str]
MIN_VALUES: dict[str, int]
MAX_VALUES: dict[str, int]
DEFAULT_VALUES: dict[str, int | str]

class BaseField:
    REAL: ClassVar[bool]
    COMPILERS: ClassVar[list[type[AllExpression]]]
    name: str
    is_default: bool
    expressions: list[AllExpression]
    def __init__(self, name: str, exprs: int | str, is_default: bool = False) -> None: ...
    def get_min(self, dateval: datetime) -> int: ...
    def get_max(self, dateval: datetime) -> int: ...
    def get_value(self, dateval: datetime) -> int: ...
    def get_next_value(self, dateval: datetime) -> int | None: ...
    def compile_expressions(self, exprs: int | str) -> None: ...
    def compile_expression(self, expr: str) -> None: ...
    def __eq__(self, other: object) -> bool: ...

class WeekField(BaseField): ...
class DayOfMonthField(BaseField): ...
class DayOfWeekField(BaseField): ...
class MonthField(BaseField): ...
