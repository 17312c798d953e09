from datetime import date, datetime, timezone, tzinfo
from typing import Any, ClassVar

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron.fields import DEFAULT_VALUES as DEFAULT_VALUES, BaseField

UTC: timezone

class CronTrigger(BaseTrigger):
    FIELD_NAMES: ClassVar[tuple[str, ...]]
    FIELDS_MAP: ClassVar[dict[str, type[BaseField]]]
    fields: list[BaseField]
    start_date: datetime | None
    end_date: datetime | None
    timezone: tzinfo
    jitter: int | None
    def __init__(
        self,
        year: int | str | None = None,
        month: int | str | None = None,
        day: int | str | None = None,
        week: int | str | None = None,
        day_of_week: int | str | None = None,
        hour: int | str | None = None,
        minute: int | str | None = None,
        second: int | str | None = None,
        start_date: datetime | date | str | None = None,
        end_date: datetime | date | str | None = None,
        timezone: tzinfo | str | None = None,
        jitter: int | None = None,
    ) -> None: ...
    @classmethod
    def from_crontab(cls, expr: str, timezone: tzinfo | str | None = None) -> CronTrigger: ...
    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None: ...
    def __getstate__(self) -> dict[str, Any]: ...
    def __setstate__(self, state: dict[str, Any]) -> None: ...
