"""Jobs, a stub scheduler and scenarios for test_executors_api.py.

This module is imported both by our tests and, in a subprocess, by the interpreter that
has the real APScheduler 3.11.3 (see ``reference_main``): the scenarios return plain
data that must be equal on both sides. It imports nothing from the test suite and only
the public ``apscheduler`` API.
"""

import asyncio
import json
import logging
import re
import sys
import threading
import time
from datetime import datetime, timezone

from apscheduler.executors.pool import ThreadPoolExecutor

WAIT = 10  # seconds; a scenario that waits this long has failed
# Jobs without a misfire grace time run whatever their run time.
RUN_TIME = datetime(2030, 5, 17, 9, 30, tzinfo=timezone.utc)


class FakeJob:
    """What an executor and run_job read of a job."""

    misfire_grace_time = None
    _jobstore_alias = "default"

    def __init__(self, id, func, args=(), kwargs=None, max_instances=1):
        self.id = id
        self.func = func
        self.args = tuple(args)
        self.kwargs = kwargs or {}
        self.max_instances = max_instances

    def __str__(self):
        return f"{self.id} (trigger: date, next run at: never)"


class StubScheduler:
    """Collects the events an executor dispatches."""

    def __init__(self):
        self.events = []
        self.changed = threading.Condition()

    def _create_lock(self):
        return threading.RLock()

    def _dispatch_event(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, count, timeout=WAIT):
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.events) >= count, timeout):
                raise AssertionError(f"{len(self.events)} events of {count} arrived")
            return list(self.events)


def now():
    return datetime.now(timezone.utc)


def started(max_workers=10, pool_kwargs=None, alias="default"):
    scheduler = StubScheduler()
    executor = ThreadPoolExecutor(max_workers, pool_kwargs)
    executor.start(scheduler, alias)
    return executor, scheduler


def idle(executor):
    """No run is counted as submitted or running. (The reference can leave a count
    of 0 behind: when a job finishes before its future's callback is added, the
    submitting thread reports it, before submit_job has counted it.)"""
    return not any(executor._instances.values())


def wait_until(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def worker_names():
    return sorted(
        thread.name
        for thread in threading.enumerate()
        if thread is not threading.main_thread()
    )


class Records(logging.Handler):
    """Log records as (logger, level, message, exception type) tuples."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        message = record.getMessage()
        # The lateness of a missed run depends on the clock.
        message = re.sub(r"was missed by .*", "was missed by <lateness>", message)
        message = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00:00", "<now>", message)
        exc_type = record.exc_info[0].__name__ if record.exc_info else None
        self.records.append((record.name, record.levelname, message, exc_type))

    def __enter__(self):
        for name in ("apscheduler", "concurrent.futures"):
            logger = logging.getLogger(name)
            logger.addHandler(self)
            logger.setLevel(logging.DEBUG)
            logger.propagate = False
        return self

    def __exit__(self, *exc_info):
        for name in ("apscheduler", "concurrent.futures"):
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(logging.NOTSET)
            logger.propagate = True


def summary(event):
    """An event as data that is the same on both sides."""
    retval = event.retval
    if asyncio.iscoroutine(retval):
        retval.close()
        retval = "<coroutine>"
    return {
        "code": event.code,
        "job_id": event.job_id,
        "jobstore": event.jobstore,
        "scheduled_run_time": event.scheduled_run_time.isoformat(),
        "retval": retval,
        "exception": repr(event.exception),
        "traceback": None
        if event.traceback is None
        else [line for line in event.traceback.splitlines() if line.startswith("    ")],
    }


# ---------------------------------------------------------------------------
# Job functions
# ---------------------------------------------------------------------------


def five():
    return 5


def boom():
    raise ValueError("boom")


def leave():
    sys.exit(3)


async def coroutine_job():
    return 1


def record_thread(seen, gate=None):
    thread = threading.current_thread()
    seen.append((thread.name, thread.daemon, type(thread).__name__))
    if gate is not None:
        gate.wait(WAIT)


# ---------------------------------------------------------------------------
# Scenarios compared with the reference
# ---------------------------------------------------------------------------


def scenario_threads():
    """Names, daemon flags and number of the worker threads."""
    import concurrent.futures

    out = {}
    # Pool numbers are shared with concurrent.futures' own thread pools.
    concurrent.futures.ThreadPoolExecutor().shutdown()

    executor, scheduler = started(3)
    seen, gate = [], threading.Event()
    for number in range(5):
        job = FakeJob(f"block{number}", record_thread, (seen, gate))
        executor.submit_job(job, [now()])
    wait_until(lambda: len(seen) == 3)
    out["while_blocked"] = worker_names()
    out["blocked_jobs_ran_on"] = sorted(seen)
    gate.set()
    scheduler.wait_for(5)
    out["all_jobs_ran_on"] = sorted({name for name, _, _ in seen})
    executor.shutdown()
    out["after_shutdown"] = worker_names()

    # Submitted from a daemon thread: the worker inherits the flag.
    executor, scheduler = started()
    seen = []
    submitter = threading.Thread(
        target=executor.submit_job,
        args=(FakeJob("daemon", record_thread, (seen,)), [now()]),
        daemon=True,
    )
    submitter.start()
    submitter.join()
    scheduler.wait_for(1)
    executor.shutdown()
    out["from_daemon_thread"] = seen

    executor, scheduler = started(pool_kwargs={"thread_name_prefix": "jobs"})
    seen = []
    executor.submit_job(FakeJob("prefixed", record_thread, (seen,)), [now()])
    scheduler.wait_for(1)
    executor.shutdown()
    out["prefixed"] = seen

    executor, scheduler = started(1)
    seen = []
    for number in range(20):
        executor.submit_job(FakeJob(f"seq{number}", record_thread, (seen,)), [now()])
    scheduler.wait_for(20)
    executor.shutdown()
    out["one_worker"] = sorted(set(seen))
    return out


def scenario_events_and_logs():
    """Events and log lines of executed, failing, missed and coroutine jobs."""
    executor, scheduler = started(1, alias="pool")
    jobs = [
        (FakeJob("five", five), [RUN_TIME]),
        (FakeJob("boom", boom), [RUN_TIME]),
        (FakeJob("leave", leave), [RUN_TIME]),
        (FakeJob("coro", coroutine_job), [RUN_TIME]),
        (FakeJob("kwargs", dict, kwargs={"a": 1}), [RUN_TIME, RUN_TIME]),
    ]
    missed = FakeJob("missed", five)
    missed.misfire_grace_time = 1
    old = datetime(1970, 1, 1, tzinfo=timezone.utc)
    jobs.append((missed, [old, now()]))
    with Records() as records:
        for job, run_times in jobs:
            expected = len(scheduler.events) + len(run_times)
            executor.submit_job(job, run_times)
            # One at a time, so that the log lines come in a fixed order.
            scheduler.wait_for(expected)
        wait_until(lambda: idle(executor))
        executor.shutdown()

    events = []
    for event in scheduler.events:
        data = summary(event)
        # Run times are compared by position, not by value.
        data["scheduled_run_time"] = data["scheduled_run_time"] == old.isoformat()
        events.append(data)
    return {"events": events, "logs": records.records}


def scenario_errors():
    """max_instances, submitting after shutdown, bad arguments."""
    out = {}
    executor, scheduler = started(2)
    gate = threading.Event()
    job = FakeJob("twice", gate.wait, (WAIT,), max_instances=2)
    executor.submit_job(job, [now()])
    executor.submit_job(job, [now()])
    try:
        executor.submit_job(job, [now()])
    except Exception as exc:
        out["third"] = repr(exc)
    gate.set()
    scheduler.wait_for(2)
    wait_until(lambda: idle(executor))
    out["instances_after"] = {k: v for k, v in executor._instances.items() if v}
    executor.shutdown()
    try:
        executor.submit_job(FakeJob("late", five), [now()])
    except Exception as exc:
        out["after_shutdown"] = repr(exc)
    out["shutdown_twice"] = repr(executor.shutdown())

    for label, args in {
        "zero": (0,),
        "negative": (-1,),
        "string": ("3",),
        "bad_initializer": (2, {"initializer": 5}),
        "unknown_kwarg": (2, {"spam": 1}),
        "max_workers_twice": (2, {"max_workers": 3}),
        "none": (None,),
    }.items():
        try:
            pool = ThreadPoolExecutor(*args)
        except Exception as exc:
            out[label] = type(exc).__name__ + (
                ""
                if isinstance(exc, TypeError) and "unexpected" in str(exc)
                else ": " + str(exc)
            )
        else:
            out[label] = pool._pool._max_workers
            pool.shutdown()
    return out


def scenario_initializer():
    """pool_kwargs initializer: run in every worker; a failing one breaks the pool."""
    out = {}
    calls = []
    executor, scheduler = started(
        2, pool_kwargs={"initializer": calls.append, "initargs": ("init",)}
    )
    gate = threading.Event()
    for number in range(2):
        executor.submit_job(FakeJob(f"j{number}", gate.wait, (WAIT,)), [now()])
    wait_until(lambda: len(calls) == 2)
    gate.set()
    scheduler.wait_for(2)
    executor.shutdown()
    out["calls"] = calls

    def fail():
        raise RuntimeError("no init")

    executor, scheduler = started(1, pool_kwargs={"initializer": fail})
    reported = []
    done = threading.Event()

    def run_job_error(job_id, exc, traceback=None):
        reported.append((job_id, repr(exc), traceback))
        done.set()

    executor._run_job_error = run_job_error
    with Records() as records:
        executor.submit_job(FakeJob("never", five), [now()])
        done.wait(WAIT)
        try:
            executor.submit_job(FakeJob("refused", five), [now()])
        except Exception as exc:
            out["submit_when_broken"] = repr(exc)
        executor.shutdown()
    out["reported"] = reported
    out["logs"] = records.records
    out["events"] = len(scheduler.events)
    return out


def scenario_run_job_error():
    """run_job itself raising: _run_job_error gets the exception and traceback."""
    import apscheduler.executors.pool as pool

    def broken_run_job(job, jobstore_alias, run_times, logger_name):
        raise KeyError("dummy")

    executor, scheduler = started(1)
    original = pool.run_job
    pool.run_job = broken_run_job
    try:
        with Records() as records:
            executor.submit_job(FakeJob("abc", five), [])
            wait_until(lambda: idle(executor))
            executor.submit_job(FakeJob("abc", five), [])
            executor.shutdown()
    finally:
        pool.run_job = original
    return {"logs": records.records, "events": len(scheduler.events)}


SCENARIOS = {
    "threads": scenario_threads,
    "events_and_logs": scenario_events_and_logs,
    "errors": scenario_errors,
    "initializer": scenario_initializer,
    "run_job_error": scenario_run_job_error,
}


def run_scenario(name):
    # JSON round trip: tuples become lists on both sides alike.
    return json.loads(json.dumps(SCENARIOS[name]()))


def reference_main():
    """Entry point in the reference interpreter: scenario name in, JSON out."""
    print(json.dumps(run_scenario(sys.argv[2])))
