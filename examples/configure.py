"""Configuring a scheduler: the three forms of the reference's user guide.

Method 1 passes job store and executor objects to the constructor, method 2 a flat
dict of "apscheduler."-prefixed options (as read from a configuration file), and
method 3 calls configure() on a scheduler made earlier. Each configures the same
thing: two job stores, a thread pool and a process pool, job defaults and a time
zone. (The user guide uses SQLAlchemy and MongoDB stores; memory stores stand in for
them here so that nothing has to be installed.) Each scheduler then runs one job in
its process pool and reports what it got.
"""

from __future__ import annotations

import os
import threading
from datetime import timezone
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ProcessPoolExecutor, ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def where_am_i() -> int:
    return os.getpid()


def method_1() -> BackgroundScheduler:
    jobstores = {"other": MemoryJobStore(), "default": MemoryJobStore()}
    executors = {"default": ThreadPoolExecutor(20), "processpool": ProcessPoolExecutor(2)}
    job_defaults = {"coalesce": False, "max_instances": 3}
    return BackgroundScheduler(
        jobstores=jobstores, executors=executors, job_defaults=job_defaults, timezone=timezone.utc
    )


def method_2() -> BackgroundScheduler:
    # The "apscheduler." prefix is hard coded; every value may be a string.
    return BackgroundScheduler(
        {
            "apscheduler.jobstores.other": {"type": "memory"},
            "apscheduler.jobstores.default": {
                "class": "apscheduler.jobstores.memory:MemoryJobStore"
            },
            "apscheduler.executors.default": {
                "class": "apscheduler.executors.pool:ThreadPoolExecutor",
                "max_workers": "20",
            },
            "apscheduler.executors.processpool": {"type": "processpool", "max_workers": "2"},
            "apscheduler.job_defaults.coalesce": "false",
            "apscheduler.job_defaults.max_instances": "3",
            "apscheduler.timezone": "UTC",
        }
    )


def method_3() -> BackgroundScheduler:
    jobstores: dict[str, Any] = {"other": {"type": "memory"}, "default": MemoryJobStore()}
    executors: dict[str, Any] = {
        "default": {"type": "threadpool", "max_workers": 20},
        "processpool": ProcessPoolExecutor(max_workers=2),
    }
    job_defaults = {"coalesce": False, "max_instances": 3}
    scheduler = BackgroundScheduler()

    # .. do something else here, maybe add jobs etc.

    scheduler.configure(
        jobstores=jobstores, executors=executors, job_defaults=job_defaults, timezone=timezone.utc
    )
    return scheduler


def try_out(name: str, scheduler: BackgroundScheduler) -> None:
    done = threading.Event()
    results: list[JobExecutionEvent] = []

    def listener(event: JobExecutionEvent) -> None:
        results.append(event)
        done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        job = scheduler.add_job(where_am_i, executor="processpool", id="where")
        parked = scheduler.add_job(where_am_i, "interval", hours=1, jobstore="other", id="parked")
        if not done.wait(10):
            raise SystemExit(f"{name}: the job did not run within 10 seconds")
        event = results[0]
        elsewhere = event.exception is None and event.retval != os.getpid()
        print(f"{name}: timezone={scheduler.timezone}")
        print(f"{name}: job defaults: coalesce={parked.coalesce} max_instances={parked.max_instances}")
        print(f"{name}: jobs in store 'other': {[j.id for j in scheduler.get_jobs('other')]}")
        print(f"{name}: job {job.id!r} ran in another process: {elsewhere}")
    finally:
        scheduler.shutdown()


def main() -> None:
    try_out("method 1", method_1())
    try_out("method 2", method_2())
    try_out("method 3", method_3())
    print("Done.")


if __name__ == "__main__":
    main()
