from datetime import timezone as _timezone

from tzlocal import get_localzone  # noqa: F401  (looked up here by the native constructor)

from apscheduler._core import CronTrigger as _NativeCronTrigger
from apscheduler.triggers._pickling import reduce_native
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron.fields import (
    DEFAULT_VALUES,
    BaseField,
    DayOfMonthField,
    DayOfWeekField,
    MonthField,
    WeekField,
)
from apscheduler.triggers.date import _check_version
from apscheduler.util import astimezone, datetime_repr

UTC = _timezone.utc


class CronTrigger(_NativeCronTrigger, BaseTrigger):
    """
    Triggers when current time matches all specified time constraints,
    similarly to how the UNIX cron scheduler works.

    :param int|str year: 4-digit year
    :param int|str month: month (1-12)
    :param int|str day: day of month (1-31)
    :param int|str week: ISO week (1-53)
    :param int|str day_of_week: number or name of weekday (0-6 or mon,tue,wed,thu,fri,sat,sun)
    :param int|str hour: hour (0-23)
    :param int|str minute: minute (0-59)
    :param int|str second: second (0-59)
    :param datetime|str start_date: earliest possible date/time to trigger on (inclusive)
    :param datetime|str end_date: latest possible date/time to trigger on (inclusive)
    :param datetime.tzinfo|str timezone: time zone to use for the date/time calculations
        (defaults to scheduler timezone)
    :param int|None jitter: delay the job execution by ``jitter`` seconds at most

    .. note:: The first weekday is always **monday**.

    ``__init__`` and ``get_next_fire_time`` are inherited from the native base; fields
    are parsed and searched in Rust.
    """

    FIELD_NAMES = (
        "year",
        "month",
        "day",
        "week",
        "day_of_week",
        "hour",
        "minute",
        "second",
    )
    FIELDS_MAP = {
        "year": BaseField,
        "month": MonthField,
        "week": WeekField,
        "day": DayOfMonthField,
        "day_of_week": DayOfWeekField,
        "hour": BaseField,
        "minute": BaseField,
        "second": BaseField,
    }

    __slots__ = ()

    @classmethod
    def from_crontab(cls, expr, timezone=None):
        """
        Create a :class:`~CronTrigger` from a standard crontab expression
        (minute, hour, day of month, month, day of week).

        .. warning:: As in APScheduler 3.x, day of week 0 is Monday here, while the
            original crontab counts it as Sunday.

        :param expr: minute, hour, day of month, month, day of week
        :param datetime.tzinfo|str timezone: time zone to use for the date/time
            calculations (defaults to scheduler timezone)
        :return: a :class:`~CronTrigger` instance
        """
        values = expr.split()
        if len(values) != 5:
            raise ValueError(f"Wrong number of fields; got {len(values)}, expected 5")

        minute, hour, day, month, day_of_week = values
        return cls(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=timezone,
        )

    __reduce_ex__ = reduce_native

    def __getstate__(self):
        return {
            "version": 2,
            "timezone": self.timezone,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "fields": self.fields,
            "jitter": self.jitter,
        }

    def __setstate__(self, state):
        # APScheduler 3.0 pickled (version, state) tuples
        if isinstance(state, tuple):
            state = state[1]
        _check_version(self, state, 2, "only versions up to 2 can be handled")
        self.timezone = astimezone(state["timezone"])
        self.start_date = state["start_date"]
        self.end_date = state["end_date"]
        self.fields = state["fields"]
        self.jitter = state.get("jitter")

    def __str__(self):
        options = ", ".join(f"{name}='{text}'" for name, text in self._field_texts())
        return f"cron[{options}]"

    def __repr__(self):
        options = [f"{name}='{text}'" for name, text in self._field_texts()]
        if self.start_date:
            options.append(f"start_date={datetime_repr(self.start_date)!r}")
        if self.end_date:
            options.append(f"end_date={datetime_repr(self.end_date)!r}")
        if self.jitter:
            options.append(f"jitter={self.jitter}")
        return f"<{type(self).__name__} ({', '.join(options)}, timezone='{self.timezone}')>"


CronTrigger.__slots__ = "end_date", "fields", "jitter", "start_date", "timezone"
