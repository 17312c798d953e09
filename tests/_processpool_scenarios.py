"""Process pool scenarios for test_framework_processpool.py.

Run as a script by our interpreter and by the one with the real APScheduler 3.11.3
(``python _processpool_scenarios.py NAME``): each scenario prints, as JSON, the events
and the logged errors it saw, which must be the same on both sides. It imports only
the public ``apscheduler`` API (the workers are spawned and import this file again).
"""

import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone

from apscheduler.executors.pool import ProcessPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

WAIT = 60  # seconds; spawning workers on a loaded machine is slow
RUN_TIME = datetime(2030, 5, 17, 9, 30, tzinfo=timezone.utc)


class StubScheduler:
    """What an executor needs of its scheduler; collects the events."""

    def __init__(self):
        self.events = []
        self.changed = threading.Condition()

    def _create_lock(self):
        return threading.RLock()

    def _dispatch_event(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []
        self.changed = threading.Condition()

    def emit(self, record):
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()


def wait(condition, predicate):
    with condition:
        if not condition.wait_for(predicate, WAIT):
            raise SystemExit("timed out")


def job(func, args=(), id="job"):
    return Job(
        BlockingScheduler(),
        id=id,
        func=func,
        args=args,
        kwargs={},
        trigger=DateTrigger(RUN_TIME),
        executor="default",
        name=id,
        misfire_grace_time=None,
        coalesce=False,
        max_instances=5,
        next_run_time=RUN_TIME,
    )


def sleep_long():
    time.sleep(WAIT)


async def coroutine_job():
    return 1


def describe(scheduler, errors, parent_pid):
    events = []
    for event in scheduler.events:
        retval = event.retval
        if isinstance(retval, int) and retval > 1:  # a worker's pid
            retval = "parent" if retval == parent_pid else "worker"
        events.append([event.code, event.job_id, retval])
    logged = []
    for record in errors.records:
        exc = record.exc_info[1] if record.exc_info else None
        logged.append(
            [record.getMessage(), type(exc).__name__, str(exc) if exc else None]
        )
    return {"events": events, "errors": logged}


def main(name):
    scheduler = StubScheduler()
    errors = Errors()
    logger = logging.getLogger("apscheduler.executors.processes")
    logger.addHandler(errors)
    executor = ProcessPoolExecutor(1)
    executor.start(scheduler, "processes")
    now = [datetime.now(timezone.utc)]
    if name == "runs":
        executor.submit_job(job(os.getpid), now)
        wait(scheduler.changed, lambda: scheduler.events)
    elif name == "unpicklable_args":
        executor.submit_job(job(print, args=(threading.Lock(),)), now)
        wait(errors.changed, lambda: errors.records)
    elif name == "lambda":
        executor.submit_job(job(lambda: None), now)
        wait(errors.changed, lambda: errors.records)
    elif name == "coroutine":
        executor.submit_job(job(coroutine_job), now)
        wait(errors.changed, lambda: errors.records)
    elif name == "killed":
        executor.submit_job(job(sleep_long, id="victim"), now)
        pool = executor._pool
        deadline = time.monotonic() + WAIT
        while not pool._processes and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)  # let the worker take the job
        [pid] = list(pool._processes)
        os.kill(pid, signal.SIGKILL)
        # the run that was going on is reported as an error
        wait(errors.changed, lambda: errors.records)
        # the next submission replaces the broken pool
        executor.submit_job(job(os.getpid, id="after"), now)
        wait(scheduler.changed, lambda: scheduler.events)
        assert executor._pool is not pool
    executor.shutdown()
    print(json.dumps(describe(scheduler, errors, os.getpid())))


if __name__ == "__main__":
    main(sys.argv[1])
