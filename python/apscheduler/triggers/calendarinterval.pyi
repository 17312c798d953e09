from datetime import date, datetime, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger

class CalendarIntervalTrigger(BaseTrigger):
    years: int
    months: int
    weeks: int
    days: int
    start_date: date
    end_date: date | None
    timezone: tzinfo
    jitter: int | None
    def __init__(
        self,
        *,
        years: int = 0,
        months: int = 0,
        weeks: int = 0,
        days: int = 0,
        hour: int = 0,
        minute: int = 0,
        second: int = 0,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        timezone: str | tzinfo | None = None,
        jitter: int | None = None,
    ) -> None: ...
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...
    def __getstate__(self) -> dict[str, Any]: ...
    def __setstate__(self, state: dict[str, Any]) -> None: ...
