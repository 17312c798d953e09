from datetime import date, datetime, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger

class DateTrigger(BaseTrigger):
    run_date: datetime
    def __init__(
        self, run_date: datetime | date | str | None = None, timezone: tzinfo | str | None = None
    ) -> None: ...
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...
    def __getstate__(self) -> dict[str, Any]: ...
    def __setstate__(self, state: dict[str, Any]) -> None: ...
