"""
Jobs written to and read from an SQLAlchemyJobStore table by both packages, for
tests/test_store_compat.py. Run as a script under either interpreter:

    python _store_compat_jobs.py write URL TABLE   # adds the jobs below
    python _store_compat_jobs.py read URL TABLE    # prints the stored jobs as JSON

Jobs refer to the callables here as ``_store_compat_jobs:...``, so this module
imports nothing from the test suite and only the public ``apscheduler`` API.
"""

import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytz

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2030, 3, 30, 22, 15, tzinfo=timezone.utc)


def add(a, b=0):
    return a + b


def greet(name, *, punctuation="!"):
    return f"hello {name}{punctuation}"


class Counter:
    def __init__(self, start):
        self.start = start

    def __repr__(self):
        return f"Counter({self.start})"

    def plus(self, n):
        return self.start + n

    @classmethod
    def twice(cls, n):
        return 2 * n


counter = Counter(40)


def jobs(scheduler):
    """``(keyword arguments of Job, next run time)`` for each job written."""
    cron = CronTrigger(day="last fri", hour="*/3", minute="15,45", timezone=BERLIN)
    return [
        dict(
            id="interval",
            func=add,
            args=(1,),
            kwargs={"b": 2},
            trigger=IntervalTrigger(
                minutes=90, start_date=datetime(2030, 1, 1, tzinfo=BERLIN)
            ),
        ),
        dict(
            id="cron-zoneinfo",
            func=greet,
            args=("wörld",),
            name="naïve name ✓",
            trigger=cron,
            coalesce=True,
            max_instances=3,
        ),
        dict(
            id="cron-pytz",
            func="_store_compat_jobs:greet",
            args=("pytz",),
            kwargs={"punctuation": "?"},
            trigger=CronTrigger.from_crontab(
                "*/5 9-17 * * mon-fri", timezone=pytz.timezone("America/New_York")
            ),
            misfire_grace_time=None,
        ),
        dict(
            id="date",
            func=add,
            args=(datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc), timedelta(1)),
            trigger=DateTrigger(datetime(2031, 6, 1, 12, tzinfo=BERLIN)),
        ),
        dict(
            id="calendar",
            func=add,
            args=(5, 5),
            trigger=CalendarIntervalTrigger(
                months=1, hour=2, minute=30, timezone=BERLIN, start_date="2030-01-31"
            ),
        ),
        dict(
            id="combined",
            func=counter.plus,
            args=(2,),
            # No AndTrigger: APScheduler's loops for ever on chained calls (README).
            trigger=OrTrigger([cron, IntervalTrigger(hours=5, start_date="2030-01-01", timezone=BERLIN)]),
        ),
        dict(
            id="classmethod",
            func=Counter.twice,
            args=(21,),
            trigger=IntervalTrigger(
                seconds=7, start_date="2030-03-30 20:00:00.5", timezone=timezone.utc
            ),
        ),
        dict(
            id="textual-method",
            func="_store_compat_jobs:counter.plus",
            args=(1,),
            trigger=IntervalTrigger(days=1, start_date="2030-01-01", timezone=timezone.utc),
            paused=True,
        ),
    ]


def write(url, table):
    scheduler = BlockingScheduler(timezone=BERLIN)
    store = SQLAlchemyJobStore(url=url, tablename=table)
    store.start(scheduler, "default")
    try:
        for spec in jobs(scheduler):
            paused = spec.pop("paused", False)
            spec.setdefault("executor", "default")
            spec.setdefault("name", None)
            spec.setdefault("kwargs", {})
            spec.setdefault("misfire_grace_time", 1)
            spec.setdefault("coalesce", False)
            spec.setdefault("max_instances", 1)
            next_run_time = None if paused else spec["trigger"].get_next_fire_time(None, NOW)
            store.add_job(Job(scheduler, next_run_time=next_run_time, **spec))
    finally:
        store.shutdown()


def describe(job):
    trigger = job.trigger
    fire_times = []
    previous = None
    for _ in range(3):
        previous = trigger.get_next_fire_time(previous, previous or NOW)
        fire_times.append(previous.isoformat() if previous else None)
    return {
        "id": job.id,
        "name": job.name,
        "func_ref": job.func_ref,
        "result": repr(job.func(*job.args, **job.kwargs)),
        "args": repr(job.args),
        "kwargs": repr(job.kwargs),
        "trigger": str(trigger),
        "trigger_repr": repr(trigger),
        "fire_times": fire_times,
        "executor": job.executor,
        "misfire_grace_time": job.misfire_grace_time,
        "coalesce": job.coalesce,
        "max_instances": job.max_instances,
        "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None,
        "alias": job._jobstore_alias,
    }


def read(url, table):
    scheduler = BlockingScheduler(timezone=BERLIN)
    store = SQLAlchemyJobStore(url=url, tablename=table)
    store.start(scheduler, "default")
    try:
        return [describe(job) for job in store.get_all_jobs()]
    finally:
        store.shutdown()


def main(command, url, table):
    if command == "write":
        write(url, table)
    else:
        print(json.dumps(read(url, table), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    # Through the module, so that the jobs refer to _store_compat_jobs, not __main__.
    import _store_compat_jobs

    _store_compat_jobs.main(*sys.argv[1:])
