"""Smoke test of an installed apscheduler-rs wheel on any CPython 3.9 or newer.

Run by scripts/abi3_smoke.sh inside a virtual environment of another interpreter
than the one the wheel was built with: the native module must load there (stable
ABI) and the main paths must work. Exits non-zero on the first failure.
"""

import pickle
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import apscheduler
import apscheduler._core
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - 3.9 has zoneinfo; kept for clarity
    raise SystemExit("zoneinfo is missing")

UTC = timezone.utc


def fire_times(trigger, start, count):
    times = []
    previous, now = None, start
    while len(times) < count:
        fire_time = trigger.get_next_fire_time(previous, now)
        if fire_time is None:
            break
        times.append(fire_time)
        previous = now = fire_time
    return times


def check(condition, what):
    if not condition:
        raise SystemExit(f"abi3 smoke: FAILED: {what}")
    print(f"  ok  {what}")


def main():
    print(f"abi3 smoke on CPython {sys.version.split()[0]} ({sys.executable})")
    native = Path(apscheduler._core.__file__)
    check(sys.prefix in str(native.resolve()) or "site-packages" in str(native), "native module from the venv")
    check(".abi3." in native.name, f"native module is built for the stable ABI ({native.name})")
    check(apscheduler.version_info[:2] == (3, 11), f"version {apscheduler.__version__}")

    start = datetime(2026, 1, 1, tzinfo=UTC)
    third_fridays = fire_times(CronTrigger(day="3rd fri", hour=9, minute=30, timezone="UTC"), start, 3)
    check(
        [t.strftime("%Y-%m-%d %H:%M") for t in third_fridays]
        == ["2026-01-16 09:30", "2026-02-20 09:30", "2026-03-20 09:30"],
        "cron '3rd fri' fire times",
    )
    last_days = fire_times(CronTrigger(day="last", timezone="UTC"), start, 2)
    check([t.day for t in last_days] == [31, 28], "cron 'last' fire times")

    berlin = ZoneInfo("Europe/Berlin")
    hourly = IntervalTrigger(hours=1, start_date=datetime(2026, 3, 29, 0, 30, tzinfo=berlin))
    across_dst = fire_times(hourly, datetime(2026, 3, 29, 0, 0, tzinfo=berlin), 4)
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(across_dst, across_dst[1:])}
    check(gaps == {timedelta(hours=1)} and across_dst[2].hour == 3, "interval across a DST change")

    monthly = CalendarIntervalTrigger(months=1, start_date="2026-01-31", timezone="UTC")
    check(
        [t.date().isoformat() for t in fire_times(monthly, start, 2)] == ["2026-01-31", "2026-03-31"],
        "calendarinterval skips months without the day",
    )

    either = OrTrigger([DateTrigger("2026-05-01 12:00:00", timezone="UTC"), CronTrigger(month=6, day=1, timezone="UTC")])
    check(len(fire_times(either, start, 2)) == 2, "or-combined triggers")

    for trigger in (CronTrigger(day="3rd fri", timezone="UTC"), hourly, monthly):
        copy = pickle.loads(pickle.dumps(trigger))
        check(fire_times(copy, start, 2) == fire_times(trigger, start, 2), f"pickled {type(trigger).__name__}")

    # A background scheduler runs an interval job on the native thread pool.
    ran = threading.Event()
    runs = []

    def job():
        runs.append(threading.current_thread().name)
        if len(runs) == 3:
            ran.set()

    executed = []
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(2)}, jobstores={"default": MemoryJobStore()}
    )
    scheduler.add_listener(lambda event: executed.append(event.job_id), EVENT_JOB_EXECUTED)
    scheduler.add_job(job, "interval", seconds=0.1, id="tick")
    for number in range(100):
        scheduler.add_job(print, "cron", year=2100 + number, id=f"far-{number:03d}")
    scheduler.start()
    try:
        check(ran.wait(10), "interval job ran 3 times")
        check(all(name.startswith("ThreadPoolExecutor-") for name in runs), "jobs ran on the pool's threads")
        check(len(scheduler.get_jobs()) == 101, "memory store holds every job")
        check(scheduler.get_jobs()[0].id == "tick", "jobs are ordered by next run time")
    finally:
        scheduler.shutdown()
    check(executed.count("tick") >= 3, "listeners heard the runs")

    # A blocking scheduler returns once a job shuts it down.
    blocking = BlockingScheduler()
    blocking.add_job(lambda: blocking.shutdown(wait=False), "date", run_date=datetime.now(UTC) + timedelta(seconds=0.1))
    started = time.monotonic()
    blocking.start()
    check(time.monotonic() - started < 5, "blocking scheduler returned after shutdown from a job")

    print(f"abi3 smoke: ok on CPython {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
