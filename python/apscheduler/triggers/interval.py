# datetime, timedelta and get_localzone are read from this module by the native
# constructor at each call: tests replace them here.
from datetime import datetime, timedelta  # noqa: F401

from tzlocal import get_localzone  # noqa: F401

from apscheduler._core import IntervalTriggerBase
from apscheduler.triggers._pickling import reduce_native
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import _check_version
from apscheduler.util import astimezone, datetime_repr


class IntervalTrigger(IntervalTriggerBase, BaseTrigger):
    """
    Triggers on specified intervals, starting on ``start_date`` if specified,
    ``datetime.now()`` + interval otherwise.

    :param int weeks: number of weeks to wait
    :param int days: number of days to wait
    :param int hours: number of hours to wait
    :param int minutes: number of minutes to wait
    :param int seconds: number of seconds to wait
    :param datetime|str start_date: starting point for the interval calculation
    :param datetime|str end_date: latest possible date/time to trigger on
    :param datetime.tzinfo|str timezone: time zone to use for the date/time calculations
    :param int|None jitter: delay the job execution by ``jitter`` seconds at most
    """

    __slots__ = ()

    def __init__(
        self,
        weeks=0,
        days=0,
        hours=0,
        minutes=0,
        seconds=0,
        start_date=None,
        end_date=None,
        timezone=None,
        jitter=None,
    ):
        # The native base does the work, reading datetime and get_localzone from this
        # module at call time (tests freeze the clock and the zone here).
        self._init(
            weeks, days, hours, minutes, seconds, start_date, end_date, timezone, jitter
        )

    __reduce_ex__ = reduce_native

    def __getstate__(self):
        return {
            "version": 2,
            "timezone": astimezone(self.timezone),
            "start_date": self.start_date,
            "end_date": self.end_date,
            "interval": self.interval,
            "jitter": self.jitter,
        }

    def __setstate__(self, state):
        # APScheduler 3.0 pickled (version, state) tuples
        if isinstance(state, tuple):
            state = state[1]
        _check_version(self, state, 2, "only versions up to 2 can be handled")
        self.timezone = state["timezone"]
        self.start_date = state["start_date"]
        self.end_date = state["end_date"]
        self.interval = state["interval"]
        self.interval_length = self.interval.total_seconds()
        self.jitter = state.get("jitter")

    def __str__(self):
        return f"interval[{self.interval!s}]"

    def __repr__(self):
        options = [
            f"interval={self.interval!r}",
            f"start_date={datetime_repr(self.start_date)!r}",
        ]
        if self.end_date:
            options.append(f"end_date={datetime_repr(self.end_date)!r}")
        if self.jitter:
            options.append(f"jitter={self.jitter}")
        return f"<{type(self).__name__} ({', '.join(options)}, timezone='{self.timezone}')>"


IntervalTrigger.__slots__ = (
    "end_date",
    "interval",
    "interval_length",
    "jitter",
    "start_date",
    "timezone",
)
