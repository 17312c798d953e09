"""Correct APScheduler code, as the reference's user guide and examples write it.

Never run: scripts/typecheck.sh type-checks it with mypy --strict against the
installed package, and it must pass without errors. Each block says where in the
reference's documentation it comes from.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from typing_extensions import assert_type  # typing.assert_type is 3.11+
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_ALL,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
    SchedulerEvent,
)
from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerAlreadyRunningError, SchedulerNotRunningError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import AndTrigger, OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import undefined


def job_function() -> None:
    print("Hello World")


def my_job(text: str) -> None:
    print(text)


async def coroutine_job() -> int:
    await asyncio.sleep(0)
    return 1


# --- User guide: "Configuring the scheduler", methods 1 to 3 ---------------------------


def configure_method_1() -> BackgroundScheduler:
    jobstores = {
        "memory": MemoryJobStore(),
        "default": SQLAlchemyJobStore(url="sqlite:///jobs.sqlite"),
    }
    executors = {
        "default": ThreadPoolExecutor(20),
        "processpool": ProcessPoolExecutor(5),
    }
    job_defaults = {"coalesce": False, "max_instances": 3}
    return BackgroundScheduler(
        jobstores=jobstores,
        executors=executors,
        job_defaults=job_defaults,
        timezone=timezone.utc,
    )


def configure_method_2() -> BackgroundScheduler:
    # The "apscheduler." prefix is hard coded
    return BackgroundScheduler(
        {
            "apscheduler.jobstores.mongo": {"type": "mongodb"},
            "apscheduler.jobstores.default": {
                "type": "sqlalchemy",
                "url": "sqlite:///jobs.sqlite",
            },
            "apscheduler.executors.default": {
                "class": "apscheduler.executors.pool:ThreadPoolExecutor",
                "max_workers": "20",
            },
            "apscheduler.executors.processpool": {
                "type": "processpool",
                "max_workers": "5",
            },
            "apscheduler.job_defaults.coalesce": "false",
            "apscheduler.job_defaults.max_instances": "3",
            "apscheduler.timezone": "UTC",
        }
    )


def configure_method_3() -> BackgroundScheduler:
    jobstores = {
        "mongo": {"type": "mongodb"},
        "default": SQLAlchemyJobStore(url="sqlite:///jobs.sqlite"),
    }
    executors = {
        "default": {"type": "threadpool", "max_workers": 20},
        "processpool": ProcessPoolExecutor(max_workers=5),
    }
    job_defaults = {"coalesce": False, "max_instances": 3}
    scheduler = BackgroundScheduler()
    scheduler.configure(
        jobstores=jobstores,
        executors=executors,
        job_defaults=job_defaults,
        timezone=timezone.utc,
    )
    # configure() with a prefix of one's own, as a settings file would give it
    scheduler.configure({"myapp.timezone": "Europe/Helsinki"}, prefix="myapp.")
    return scheduler


# --- User guide: "Adding jobs", "Removing jobs", "Modifying jobs" -----------------------


def adding_and_managing_jobs(scheduler: BaseScheduler) -> None:
    job = scheduler.add_job(job_function, "interval", minutes=2)
    assert_type(job, Job)
    job.remove()

    scheduler.add_job(job_function, "interval", minutes=2, id="my_job_id")
    scheduler.remove_job("my_job_id")

    job = scheduler.add_job(my_job, "date", run_date=date(2009, 11, 6), args=["text"])
    scheduler.add_job(my_job, "date", run_date=datetime(2009, 11, 6, 16, 30, 5), args=["text"])
    scheduler.add_job(my_job, "date", run_date="2009-11-06 16:30:05", args=["text"])
    scheduler.add_job(my_job, args=["text"])  # runs once, right away
    scheduler.add_job(
        job_function, "interval", hours=2, start_date="2010-10-10 09:30:00",
        end_date="2014-06-15 11:00:00",
    )
    scheduler.add_job(job_function, "interval", hours=1, jitter=120)
    scheduler.add_job(job_function, "cron", month="6-8,11-12", day="3rd fri", hour="0-3")
    scheduler.add_job(
        job_function, "cron", day_of_week="mon-fri", hour=5, minute=30, end_date="2014-05-30"
    )
    scheduler.add_job(job_function, CronTrigger.from_crontab("0 0 1-15 may-aug *"))
    scheduler.add_job(job_function, "cron", hour="*", jitter=120)
    scheduler.add_job("sys:stdout.write", "interval", seconds=3, args=["tick\n"])
    scheduler.add_job(coroutine_job, "interval", seconds=5, kwargs={})
    scheduler.add_job(
        job_function,
        "calendarinterval",
        months=1,
        hour=8,
        timezone="Europe/Berlin",
        id="monthly",
        replace_existing=True,
        misfire_grace_time=None,
        coalesce=True,
        max_instances=2,
        next_run_time=None,  # added paused
        jobstore="default",
        executor="default",
    )
    scheduler.add_job(job_function, "interval", seconds=1, misfire_grace_time=undefined)

    job = scheduler.add_job(job_function, "interval", minutes=5, id="modified")
    job.modify(max_instances=6, name="Alternate name")
    scheduler.modify_job("modified", max_instances=3)
    job.reschedule("cron", minute="*/5")
    scheduler.reschedule_job("modified", trigger="cron", minute="*/5")
    job.pause()
    job.resume()
    scheduler.pause_job("modified")
    resumed = scheduler.resume_job("modified")
    if resumed is not None:
        assert_type(resumed, Job)

    found = scheduler.get_job("modified")
    assert_type(found, "Job | None")
    if found is not None and found.next_run_time is not None:
        print(found.id, found.name, found.trigger, found.next_run_time.isoformat())
    for each in scheduler.get_jobs():
        print(each.id, each.pending, each.args, each.kwargs, each.executor)

    scheduler.print_jobs()
    scheduler.print_jobs(out=sys.stderr)
    scheduler.export_jobs("/tmp/jobs.json")
    scheduler.import_jobs("/tmp/jobs.json")
    scheduler.export_jobs(Path("/tmp/jobs.json"), jobstore="default")
    buffer = io.StringIO()
    scheduler.print_jobs(out=buffer)
    scheduler.export_jobs(buffer)
    with open("/tmp/jobs.json") as infile:
        scheduler.import_jobs(infile, jobstore="default")
    scheduler.remove_all_jobs()

    try:
        scheduler.remove_job("nonexistent")
    except JobLookupError as exc:
        print(exc)
    try:
        scheduler.add_job(job_function, id="dup")
        scheduler.add_job(job_function, id="dup")
    except ConflictingIdError:
        pass


def trigger_objects(scheduler: BaseScheduler) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    triggers = [
        DateTrigger(datetime(2030, 1, 1, tzinfo=berlin)),
        IntervalTrigger(minutes=5, start_date=datetime.now(berlin), timezone=berlin),
        CronTrigger(day_of_week="mon-fri", hour="9-17", timezone="Europe/Berlin"),
        CronTrigger(day="last", month=2),
        CalendarIntervalTrigger(years=1, start_date=date(2030, 2, 28)),
        AndTrigger([IntervalTrigger(hours=4), CronTrigger(day_of_week="sat,sun")]),
        OrTrigger(
            [CronTrigger(day_of_week="mon", hour=2), CronTrigger(day_of_week="tue", hour=15)]
        ),
    ]
    now = datetime.now(berlin)
    for trigger in triggers:
        fire_time = trigger.get_next_fire_time(None, now)
        if fire_time is not None:
            print(fire_time + timedelta(seconds=1))
        scheduler.add_job(job_function, trigger)

    # CronTrigger.fields introspection, as Flask-APScheduler does it
    cron = CronTrigger(hour="*/2", minute=30)
    described = {field.name: str(field) for field in cron.fields if not field.is_default}
    print(described, CronTrigger.FIELD_NAMES, cron.timezone, cron.start_date)
    interval = IntervalTrigger(seconds=90)
    print(interval.interval.total_seconds(), interval.interval_length)


# --- User guide: the scheduled_job decorator --------------------------------------------


def decorators(sched: BlockingScheduler) -> None:
    @sched.scheduled_job("cron", id="my_job_id", day="last sun")
    def some_decorated_task() -> str:
        return "I am printed at 00:00:00 on the last Sunday of every month!"

    @sched.scheduled_job("interval", seconds=10, args=[3])
    def counting(times: int) -> int:
        return times

    # the decorator hands back the function itself, signature included
    assert_type(some_decorated_task(), str)
    assert_type(counting(2), int)


# --- User guide: "Scheduler events" -----------------------------------------------------


def my_listener(event: JobExecutionEvent) -> None:
    if event.exception:
        print("The job crashed :(", event.traceback)
    else:
        print("The job worked :)", event.retval, event.scheduled_run_time)


def any_event(event: SchedulerEvent) -> None:
    print(event.code, event.alias)


def listeners(scheduler: BaseScheduler) -> None:
    scheduler.add_listener(my_listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_listener(any_event)
    scheduler.add_listener(any_event, EVENT_ALL & ~EVENT_JOB_MISSED)
    scheduler.add_listener(lambda event: print(event.code), EVENT_JOB_ADDED)

    def on_job_event(event: JobEvent) -> bool:
        return event.job_id.startswith("x") and event.jobstore == "default"

    scheduler.add_listener(on_job_event, EVENT_JOB_ADDED)
    scheduler.remove_listener(my_listener)


# --- User guide: starting, pausing and shutting down; the schedulers ---------------------


def blocking_scheduler() -> None:
    scheduler = BlockingScheduler(timezone="Europe/Helsinki")
    scheduler.add_job(job_function, "interval", seconds=3)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


def background_scheduler() -> None:
    logging.basicConfig()
    logging.getLogger("apscheduler").setLevel(logging.DEBUG)

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(job_function, "interval", seconds=3)
    scheduler.start(paused=True)
    scheduler.resume()
    scheduler.pause()
    if scheduler.running and scheduler.state == STATE_RUNNING:
        scheduler.shutdown(wait=False)
    try:
        scheduler.shutdown()
    except SchedulerNotRunningError:
        pass
    try:
        scheduler.start()
        scheduler.start()
    except SchedulerAlreadyRunningError:
        scheduler.shutdown()


async def asyncio_main() -> None:
    scheduler = AsyncIOScheduler()
    scheduler.add_job(job_function, "interval", seconds=3)
    scheduler.add_job(coroutine_job, "interval", seconds=3)
    scheduler.start()
    await asyncio.sleep(1)
    scheduler.shutdown()


def asyncio_with_loop() -> None:
    loop = asyncio.new_event_loop()
    scheduler = AsyncIOScheduler(event_loop=loop)
    scheduler.add_job(job_function, "interval", seconds=3)
    loop.run_until_complete(asyncio_main())


# --- "Extending APScheduler": custom triggers, job stores, executors, schedulers ---------


class EveryOtherDay(BaseTrigger):
    def __init__(self, hour: int) -> None:
        self.hour = hour

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        base = previous_fire_time + timedelta(days=2) if previous_fire_time else now
        return base.replace(hour=self.hour, minute=0, second=0, microsecond=0)


class DictJobStore(BaseJobStore):
    """Keeps pickled job states, as a persistent store would."""

    def __init__(self) -> None:
        super().__init__()
        self._states: dict[str, dict[str, Any]] = {}

    def _restore(self, state: dict[str, Any]) -> Job:
        job = Job.__new__(Job)
        job.__setstate__(state)
        assert self._scheduler is not None
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def lookup_job(self, job_id: str) -> Job | None:
        state = self._states.get(job_id)
        return self._restore(state) if state is not None else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return [job for job in self.get_all_jobs() if job.next_run_time and job.next_run_time <= now]

    def get_next_run_time(self) -> datetime | None:
        times = [job.next_run_time for job in self.get_all_jobs() if job.next_run_time]
        return min(times, default=None)

    def get_all_jobs(self) -> list[Job]:
        jobs = [self._restore(state) for state in self._states.values()]
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        if job.id in self._states:
            raise ConflictingIdError(job.id)
        self._states[job.id] = job.__getstate__()

    def update_job(self, job: Job) -> None:
        if job.id not in self._states:
            raise JobLookupError(job.id)
        self._states[job.id] = job.__getstate__()

    def remove_job(self, job_id: str) -> None:
        if self._states.pop(job_id, None) is None:
            raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        self._states.clear()


class InlineExecutor(BaseExecutor):
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        try:
            events = run_job(job, job._jobstore_alias or "default", run_times, self._logger.name)
        except BaseException as exc:
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, events)


class LoopScheduler(BlockingScheduler):
    """A scheduler for an application's own loop: it calls tick() when it likes."""

    def _create_lock(self) -> threading.Lock:
        return threading.Lock()

    def start(self, paused: bool = False) -> None:
        super().start(paused)

    def tick(self) -> float | None:
        return self._process_jobs()


def extending(scheduler: BaseScheduler) -> None:
    scheduler.add_job(job_function, EveryOtherDay(hour=3))
    scheduler.add_jobstore(DictJobStore(), "dict")
    scheduler.add_jobstore("memory", "other")
    scheduler.add_executor(InlineExecutor(), "inline")
    scheduler.add_executor("threadpool", "pool", max_workers=4)
    scheduler.add_job(job_function, "interval", seconds=5, jobstore="dict", executor="inline")
    loop = LoopScheduler()
    loop.start()
    print(loop.tick())
