"""The native path of AsyncIOExecutor gives the same outcome as its Python path.

With the library's own AsyncIOExecutor, a pass's coroutine jobs start as Tasks whose
coroutine is the native ``CoroutineRun`` and finished runs are reported a batch at a
time. A subclass of the executor, or a function it uses replaced, takes the Python
path (``run_coroutine_job`` and one done callback per Task). Each test runs the same
scenario both ways and compares what listeners, logs and the executor see.
"""

import asyncio
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from apscheduler import _core
from apscheduler.events import (
    EVENT_ALL,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.executors import asyncio as asyncio_executor
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

UTC = timezone.utc
WAIT = 10


class PythonPathExecutor(AsyncIOExecutor):
    """Not the library's exact class: submissions take the Python path."""


PATHS = ["native", "python"]


def make_executor(path):
    return AsyncIOExecutor() if path == "native" else PythonPathExecutor()


async def wait_for(predicate, timeout=WAIT):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.005)


def describe(event, now):
    """What a listener sees of an event, without identities; times as seconds from
    ``now``."""
    seen = [event.code, getattr(event, "job_id", None), getattr(event, "jobstore", None)]
    if hasattr(event, "scheduled_run_time"):
        seen.append((event.scheduled_run_time - now).total_seconds())
    if hasattr(event, "scheduled_run_times"):
        seen.append(tuple((time - now).total_seconds() for time in event.scheduled_run_times))
    if event.code == EVENT_JOB_EXECUTED:
        seen.append(event.retval)
    if event.code == EVENT_JOB_ERROR:
        seen.append(type(event.exception).__name__)
        seen.append(event.traceback.splitlines()[1].strip())
    return tuple(seen)


def run_scenario(path, add_jobs, until, caplog=None, listened=EVENT_ALL):
    """Runs the jobs ``add_jobs(scheduler, base_time)`` adds to a paused scheduler,
    resumes it and waits for ``until(events)``; returns the events and the executor."""
    events = []
    now = datetime.now(UTC)

    async def main():
        executor = make_executor(path)
        scheduler = AsyncIOScheduler(executors={"default": executor}, timezone=UTC)
        scheduler.add_listener(events.append, listened)
        scheduler.start(paused=True)
        add_jobs(scheduler, now)
        scheduler.resume()
        await wait_for(lambda: until(events))
        await asyncio.sleep(0.05)
        instances = dict(executor._instances)
        pending = len(executor._pending_futures)
        scheduler.shutdown()
        return instances, pending

    instances, pending = asyncio.run(main())
    return [describe(event, now) for event in events], instances, pending


def without_times(message):
    """A log message with its dates and durations (which differ between runs) blanked."""
    return re.sub(r"[\d:. +-]{7,}(UTC)?", "<time>", message)


async def answer():
    return 42


async def fails():
    raise ValueError("job failed")


async def exits():
    raise SystemExit(3)


async def awaits_twice(results):
    await asyncio.sleep(0)
    await asyncio.sleep(0.001)
    results.append(asyncio.current_task())
    return "slept"


def plain():
    return "thread"


def test_runs_errors_misses_and_plain_jobs_match():
    def add_jobs(scheduler, now):
        past = now - timedelta(seconds=30)
        scheduler.add_job(answer, "date", run_date=now, id="answer", misfire_grace_time=None)
        scheduler.add_job(fails, "date", run_date=now, id="fails", misfire_grace_time=None)
        scheduler.add_job(exits, "date", run_date=now, id="exits", misfire_grace_time=None)
        scheduler.add_job(answer, "date", run_date=past, id="missed", misfire_grace_time=1)
        scheduler.add_job(
            answer, "interval", seconds=10, next_run_time=now - timedelta(seconds=25),
            id="several", coalesce=False, misfire_grace_time=None,
        )
        scheduler.add_job(plain, "date", run_date=now, id="plain", misfire_grace_time=None)

    def done(events):
        finished = {EVENT_JOB_EXECUTED, EVENT_JOB_ERROR, EVENT_JOB_MISSED}
        return sum(1 for event in events if event.code in finished) >= 8

    native = run_scenario("native", add_jobs, done)
    python = run_scenario("python", add_jobs, done)
    assert native == python
    events, instances, pending = native
    assert instances == {} and pending == 0
    codes = [event[0] for event in events]
    assert codes.count(EVENT_JOB_ERROR) == 2
    assert codes.count(EVENT_JOB_MISSED) == 1
    errors = [event for event in events if event[0] == EVENT_JOB_ERROR]
    # the traceback starts at the line that awaited the job, as under run_coroutine_job
    assert {event[-1] for event in errors} == {
        "retval = await job.func(*job.args, **job.kwargs)"
    }


def test_max_instances_and_awaiting_jobs_match():
    results = {"native": [], "python": []}

    def scenario(path):
        def add_jobs(scheduler, now):
            # Twice due in one pass without coalescing: the second submission finds
            # the first still running.
            for number in range(2):
                scheduler.add_job(
                    awaits_twice, "date", run_date=now, args=[results[path]],
                    id=f"slow{number}", misfire_grace_time=None,
                )
            scheduler.add_job(
                awaits_twice, "interval", seconds=1, args=[results[path]], id="limited",
                next_run_time=now, misfire_grace_time=None, max_instances=1,
            )

        def done(events):
            return sum(1 for event in events if event.code == EVENT_JOB_EXECUTED) >= 3

        return run_scenario(path, add_jobs, done)

    native, python = scenario("native"), scenario("python")
    assert native == python
    tasks = results["native"]
    assert len(tasks) == 3 and len(set(map(id, tasks))) == 3
    assert all(isinstance(task, asyncio.Task) for task in tasks)


def test_a_job_cancelled_while_running_is_an_error_of_that_run():
    def scenario(path):
        async def cancels_itself():
            asyncio.current_task().cancel()
            await asyncio.sleep(1)

        def add_jobs(scheduler, now):
            scheduler.add_job(cancels_itself, "date", run_date=now, id="cancelled")

        return run_scenario(
            path, add_jobs, lambda events: any(e.code == EVENT_JOB_ERROR for e in events)
        )

    native, python = scenario("native"), scenario("python")
    assert native == python
    assert [event[4] for event in native[0] if event[0] == EVENT_JOB_ERROR] == [
        "CancelledError"
    ]


@pytest.mark.parametrize("path", PATHS)
def test_a_task_cancelled_before_it_starts(path, caplog):
    """The Task's coroutine never runs: the executor's done callback reports the
    cancellation (an error of the executor, no event) and lets the instance go."""
    ran = []

    async def never_runs():
        ran.append(True)

    async def main():
        executor = make_executor(path)
        scheduler = AsyncIOScheduler(executors={"default": executor}, timezone=UTC)

        def cancel_pending(event):
            for task in list(executor._pending_futures):
                task.cancel()

        events = []
        scheduler.add_listener(cancel_pending, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(events.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)
        scheduler.add_job(never_runs, "date", run_date=datetime.now(UTC), id="never")
        scheduler.resume()
        await wait_for(lambda: not executor._instances and scheduler.get_jobs() == [])
        await asyncio.sleep(0.05)
        scheduler.shutdown()
        return events, executor

    with caplog.at_level(logging.ERROR, logger="apscheduler.executors.default"):
        events, executor = asyncio.run(main())
    assert ran == [] and events == []
    assert executor._pending_futures == set()
    [record] = [r for r in caplog.records if r.name == "apscheduler.executors.default"]
    assert record.getMessage() == "Error running job never"
    assert record.exc_info[0] is asyncio.CancelledError


def test_log_lines_match(caplog):
    def lines(path):
        def add_jobs(scheduler, now):
            scheduler.add_job(answer, "date", run_date=now, id="answer", misfire_grace_time=None)
            scheduler.add_job(fails, "date", run_date=now, id="fails", misfire_grace_time=None)
            scheduler.add_job(
                answer, "date", run_date=now - timedelta(seconds=30), id="missed",
                misfire_grace_time=1,
            )

        caplog.clear()
        with caplog.at_level(logging.INFO, logger="apscheduler"):
            run_scenario(path, add_jobs, lambda events: len(
                [e for e in events if e.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR, EVENT_JOB_MISSED)]
            ) >= 3)
        return [
            (record.name, record.levelname, without_times(record.getMessage()))
            for record in caplog.records
            if record.name.startswith("apscheduler.executors")
        ]

    native, python = lines("native"), lines("python")
    assert native == python
    levels = [level for _, level, _ in native]
    # running and executed for two jobs, a missed run, a failed one
    assert levels.count("INFO") == 3 and "WARNING" in levels and "ERROR" in levels


@pytest.mark.parametrize("replaced", ["run_coroutine_job", "iscoroutinefunction_partial"])
def test_a_replaced_function_takes_the_python_path(monkeypatch, replaced):
    calls = []
    original = getattr(asyncio_executor, replaced)

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(asyncio_executor, replaced, spy)

    def add_jobs(scheduler, now):
        scheduler.add_job(answer, "date", run_date=now, id="answer")

    events, _, _ = run_scenario(
        "native", add_jobs, lambda events: any(e.code == EVENT_JOB_EXECUTED for e in events)
    )
    assert calls
    assert [event[0] for event in events if event[0] == EVENT_JOB_EXECUTED] == [
        EVENT_JOB_EXECUTED
    ]


def test_the_native_path_is_taken_and_the_task_returns_the_events():
    seen = {}

    async def inspects():
        task = asyncio.current_task()
        seen["coro"] = task.get_coro()
        seen["task"] = task
        return "inspected"

    def add_jobs(scheduler, now):
        scheduler.add_job(inspects, "date", run_date=now, id="inspects")

    run_scenario(
        "native", add_jobs, lambda events: any(e.code == EVENT_JOB_EXECUTED for e in events)
    )
    assert type(seen["coro"]) is _core.CoroutineRun
    assert "run_coroutine_job" in repr(seen["task"])
    [event] = seen["task"].result()
    assert (event.code, event.job_id, event.retval) == (EVENT_JOB_EXECUTED, "inspects", "inspected")


def test_max_instances_event_matches():
    def scenario(path):
        gate = {}

        async def held():
            gate.setdefault("event", asyncio.Event())
            await gate["event"].wait()

        def add_jobs(scheduler, now):
            scheduler.add_job(
                held, "interval", seconds=0.05, next_run_time=now, id="held",
                max_instances=1, misfire_grace_time=None,
            )

        def done(events):
            if any(e.code == EVENT_JOB_MAX_INSTANCES for e in events):
                gate["event"].set()
                return any(e.code == EVENT_JOB_EXECUTED for e in events)
            return False

        events, instances, _ = run_scenario(
            path, add_jobs, done,
            listened=EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED,
        )
        return [event[:3] for event in events][:2], instances

    assert scenario("native") == scenario("python")
