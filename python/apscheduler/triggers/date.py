from datetime import datetime

from tzlocal import get_localzone

from apscheduler._core import DateTriggerBase
from apscheduler.triggers._pickling import reduce_native
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import astimezone, convert_to_datetime, datetime_repr


class DateTrigger(DateTriggerBase, BaseTrigger):
    """
    Triggers once on the given datetime. If ``run_date`` is left empty, current time is used.

    :param datetime|str run_date: the date/time to run the job at
    :param datetime.tzinfo|str timezone: time zone for ``run_date`` if it doesn't have one already
    """

    __slots__ = ()

    def __init__(self, run_date=None, timezone=None):
        timezone = astimezone(timezone) or get_localzone()
        if run_date is None:
            # Looked up through this module, so that tests can freeze the clock here.
            self.run_date = datetime.now(timezone)
        else:
            self.run_date = convert_to_datetime(run_date, timezone, "run_date")

    __reduce_ex__ = reduce_native

    def __getstate__(self):
        return {"version": 1, "run_date": self.run_date}

    def __setstate__(self, state):
        # APScheduler 3.0 pickled (version, state) tuples
        if isinstance(state, tuple):
            state = state[1]
        _check_version(self, state, 1, "only version 1 can be handled")
        self.run_date = state["run_date"]

    def __str__(self):
        return f"date[{datetime_repr(self.run_date)}]"

    def __repr__(self):
        return f"<{type(self).__name__} (run_date='{datetime_repr(self.run_date)}')>"


def _check_version(trigger, state, supported, wording):
    version = state.get("version", 1)
    if version > supported:
        raise ValueError(
            f"Got serialized data for version {version} of {type(trigger).__name__}, "
            f"but {wording}"
        )


DateTrigger.__slots__ = ("run_date",)
