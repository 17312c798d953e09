from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from typing import Any

from tzlocal import get_localzone

from apscheduler._core import CalendarIntervalTriggerBase
from apscheduler.triggers._pickling import reduce_native
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import _check_version
from apscheduler.util import asdate, astimezone, timezone_repr


class CalendarIntervalTrigger(CalendarIntervalTriggerBase, BaseTrigger):
    """
    Runs the task on specified calendar-based intervals always at the same exact time of
    day.

    The ``years`` and ``months`` are added to the previous date first, keeping the day
    of the month (months where that day doesn't exist are skipped); then ``weeks`` and
    ``days`` are added. The date is combined with ``hour``, ``minute`` and ``second``.
    A time that falls into a DST gap skips that date; a time repeated by a DST fold
    fires on its first occurrence.

    Without a previous fire time, ``start_date`` is the first date considered.

    :param years: number of years to wait
    :param months: number of months to wait
    :param weeks: number of weeks to wait
    :param days: number of days to wait
    :param hour: hour to run the task at
    :param minute: minute to run the task at
    :param second: second to run the task at
    :param start_date: first date to trigger on (defaults to current date if omitted)
    :param end_date: latest possible date to trigger on
    :param timezone: time zone to use for calculating the next fire time (defaults
        to scheduler timezone if created via the scheduler, otherwise the local time
        zone)
    :param jitter: delay the job execution by ``jitter`` seconds at most
    """

    __slots__ = ()

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
    ):
        self.timezone = astimezone(timezone) if timezone else astimezone(get_localzone())
        self.years = years
        self.months = months
        self.weeks = weeks
        self.days = days
        self.start_date = asdate(start_date) or date.today()
        self.end_date = asdate(end_date)
        self.jitter = jitter
        self._time = time(hour, minute, second, tzinfo=self.timezone)

        if years == months == weeks == days == 0:
            raise ValueError("interval must be at least 1 day long")

        if self.end_date and self.start_date > self.end_date:
            raise ValueError("end_date cannot be earlier than start_date")

    __reduce_ex__ = reduce_native

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "interval": [self.years, self.months, self.weeks, self.days],
            "time": [self._time.hour, self._time.minute, self._time.second],
            "start_date": self.start_date,
            "end_date": self.end_date,
            "timezone": self.timezone,
            "jitter": self.jitter,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        _check_version(self, state, 1, "only versions up to 1 can be handled")
        self.years, self.months, self.weeks, self.days = state["interval"]
        self.start_date = state["start_date"]
        self.end_date = state["end_date"]
        self.timezone = state["timezone"]
        self.jitter = state["jitter"]
        self._time = time(*state["time"], tzinfo=self.timezone)

    def __repr__(self) -> str:
        parts = [
            f"{name}={value}"
            for name, value in (
                ("years", self.years),
                ("months", self.months),
                ("weeks", self.weeks),
                ("days", self.days),
            )
            if value > 0
        ]
        parts.append(f"time={self._time.isoformat()!r}")
        parts.append(f"start_date='{self.start_date}'")
        if self.end_date:
            parts.append(f"end_date='{self.end_date}'")
        parts.append(f"timezone={timezone_repr(self.timezone)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


CalendarIntervalTrigger.__slots__ = (
    "_time",
    "days",
    "end_date",
    "jitter",
    "months",
    "start_date",
    "timezone",
    "weeks",
    "years",
)
