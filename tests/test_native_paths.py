"""The native fast paths give the same outcome as the Python paths they replace.

A scheduler pass over the library's own ``MemoryJobStore`` with its own
``ThreadPoolExecutor`` runs natively: collecting due runs, submitting them, running
them in the pool's workers and reporting to listeners. A subclass of either, or a
method replaced on the instance, takes the Python path. Each test here runs the same
scenario both ways and compares what listeners and job stores see.
"""

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from apscheduler.events import (
    EVENT_ALL,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = timezone.utc
WAIT = 10
SCHEDULER_SENT = {EVENT_JOB_ADDED, EVENT_JOB_REMOVED, EVENT_JOB_SUBMITTED, EVENT_JOB_MAX_INSTANCES}


class PythonPathStore(MemoryJobStore):
    """Not the library's exact class: passes take the Python path."""


class PythonPathExecutor(ThreadPoolExecutor):
    """Not the library's exact class: submissions take the Python path."""


class EveryOtherSecond(IntervalTrigger):
    """A trigger whose get_next_fire_time is Python code."""

    def get_next_fire_time(self, previous_fire_time, now):
        return super().get_next_fire_time(previous_fire_time, now)


class NaiveTrigger(IntervalTrigger):
    """Returns naive datetimes, which the job converts to the scheduler's zone."""

    def get_next_fire_time(self, previous_fire_time, now):
        value = super().get_next_fire_time(previous_fire_time, now)
        return value.replace(tzinfo=None) if value is not None else None


def wait_for(condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def answer(value):
    return value


def fail():
    raise ValueError("job failed")


def relative(job_id, time, now):
    """A time as seconds from the scenario's start; the cron job's as a time of day."""
    if job_id == "cron":
        return time.time().isoformat()
    return (time - now).total_seconds()


def summary(event, now):
    """What an event says, with times made comparable between scenarios."""
    data = {"code": event.code, "job_id": event.job_id, "jobstore": event.jobstore}
    if hasattr(event, "scheduled_run_times"):
        data["scheduled_run_times"] = [
            relative(event.job_id, time, now) for time in event.scheduled_run_times
        ]
    if hasattr(event, "scheduled_run_time"):
        data["scheduled_run_time"] = relative(event.job_id, event.scheduled_run_time, now)
    if hasattr(event, "retval"):
        data["retval"] = event.retval
    if getattr(event, "exception", None) is not None:
        data["exception"] = repr(event.exception)
        data["traceback_ends"] = event.traceback.splitlines()[-1].strip()
    return data


def run_scenario(native, add_jobs, expected_events):
    store = MemoryJobStore() if native else PythonPathStore()
    executor = ThreadPoolExecutor(4) if native else PythonPathExecutor(4)
    scheduler = BackgroundScheduler(
        jobstores={"default": store}, executors={"default": executor}, timezone=UTC
    )
    events = []
    lock = threading.Lock()

    def listen(event):
        with lock:
            events.append(event)

    scheduler.add_listener(listen, EVENT_ALL & ~0xFF)
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        add_jobs(scheduler, now)
        scheduler.resume()
        wait_for(lambda: len(events) >= expected_events)
        time.sleep(0.05)
        jobs = {
            job.id: (relative(job.id, job.next_run_time, now), job.next_run_time.tzinfo)
            for job in scheduler.get_jobs()
        }
    finally:
        scheduler.shutdown()
    # Per job, events keep their order within each thread that sends them: the
    # scheduler's (added, removed, submitted) and the workers' (executed, error,
    # missed). Between those two threads, order is a race, as with APScheduler.
    per_job = {}
    for event in events:
        sender = "scheduler" if event.code in SCHEDULER_SENT else "worker"
        per_job.setdefault(event.job_id, {}).setdefault(sender, []).append(
            summary(event, now)
        )
    return per_job, jobs


def both_ways(add_jobs, expected_events):
    native = run_scenario(True, add_jobs, expected_events)
    python = run_scenario(False, add_jobs, expected_events)
    assert native == python
    return native


def test_due_runs_rescheduling_and_removal():
    # Every job is due when the scheduler resumes and none fires again during the
    # test, so both runs see exactly one pass.
    def add_jobs(scheduler, now):
        past = now - timedelta(seconds=35)
        # An explicit next run time in the past: the runs since then are due.
        no_grace = {"misfire_grace_time": None, "next_run_time": past}
        scheduler.add_job(
            answer, IntervalTrigger(seconds=10, start_date=past), args=[1],
            id="all", coalesce=False, **no_grace,
        )
        scheduler.add_job(
            answer, IntervalTrigger(seconds=10, start_date=past), args=[2],
            id="coalesced", coalesce=True, **no_grace,
        )
        scheduler.add_job(answer, DateTrigger(past), args=[3], id="once", **no_grace)
        scheduler.add_job(
            answer,
            CronTrigger(hour=0, start_date=now - timedelta(days=2), timezone=UTC),
            kwargs={"value": 4}, id="cron", coalesce=True, misfire_grace_time=None,
            next_run_time=now - timedelta(days=2),
        )
        scheduler.add_job(
            answer, EveryOtherSecond(seconds=20, start_date=past), args=[5],
            id="python-trigger", coalesce=True, **no_grace,
        )
        scheduler.add_job(
            answer, NaiveTrigger(seconds=60, start_date=now - timedelta(seconds=5)),
            args=[6], id="naive", misfire_grace_time=None,
            next_run_time=now - timedelta(seconds=5),
        )
        scheduler.add_job(fail, DateTrigger(past), id="fails", **no_grace)

    # 7 added; "all" runs 4 times, the others once; "once" and "fails" are removed.
    per_job, jobs = both_ways(add_jobs, 7 + 5 + 6 * 2 + 2)
    assert [e["code"] for e in per_job["all"]["scheduler"]] == [
        EVENT_JOB_ADDED, EVENT_JOB_SUBMITTED,
    ]
    assert per_job["all"]["scheduler"][1]["scheduled_run_times"] == [-35, -25, -15, -5]
    assert [(e["scheduled_run_time"], e["retval"]) for e in per_job["all"]["worker"]] == [
        (-35, 1), (-25, 1), (-15, 1), (-5, 1),
    ]
    assert per_job["coalesced"]["scheduler"][1]["scheduled_run_times"] == [-5]
    assert [e["code"] for e in per_job["once"]["scheduler"]] == [
        EVENT_JOB_ADDED, EVENT_JOB_REMOVED, EVENT_JOB_SUBMITTED,
    ]
    assert per_job["fails"]["worker"][0]["code"] == EVENT_JOB_ERROR
    assert per_job["fails"]["worker"][0]["traceback_ends"] == 'raise ValueError("job failed")'
    assert per_job["cron"]["worker"][0]["retval"] == 4
    assert jobs["all"] == jobs["coalesced"] == (5, UTC)
    assert jobs["python-trigger"] == (5, UTC)
    assert jobs["naive"] == (55, UTC)
    assert set(jobs) == {"all", "coalesced", "cron", "python-trigger", "naive"}


def test_missed_runs_and_max_instances():
    release = threading.Event()

    def add_jobs(scheduler, now):
        scheduler.add_job(
            answer, DateTrigger(now - timedelta(seconds=30)), args=[1],
            id="late", misfire_grace_time=1,
        )
        # Two runs are due at once; they block, so the next pass (0.5 s later)
        # finds the only instance still busy.
        scheduler.add_job(
            release.wait, IntervalTrigger(seconds=1, start_date=now - timedelta(seconds=1.5)),
            args=[WAIT], id="busy", max_instances=1, coalesce=False,
            misfire_grace_time=None, next_run_time=now - timedelta(seconds=1.5),
        )

    def scenario(native):
        release.clear()
        # After the pass that finds the instance busy, before shutdown waits for it.
        timer = threading.Timer(1.2, release.set)
        timer.start()
        try:
            # late: added, removed, submitted, missed; busy: added, submitted, max
            return run_scenario(native, add_jobs, 7)
        finally:
            timer.cancel()
            release.set()

    native, python = scenario(True), scenario(False)
    assert native[0]["late"] == python[0]["late"]
    assert [e["code"] for e in native[0]["late"]["worker"]] == [EVENT_JOB_MISSED]
    for per_job, _ in (native, python):
        busy = per_job["busy"]["scheduler"]
        assert [e["code"] for e in busy][:3] == [
            EVENT_JOB_ADDED, EVENT_JOB_SUBMITTED, EVENT_JOB_MAX_INSTANCES,
        ]
        assert busy[1]["scheduled_run_times"] == [-1.5, -0.5]
        assert busy[2]["scheduled_run_times"] == [0.5]


def test_a_replaced_report_method_is_called():
    reported = []
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        executor = scheduler._lookup_executor("default")
        original = executor._run_job_success

        def run_job_success(job_id, events):
            reported.append((job_id, [event.code for event in events]))
            original(job_id, events)

        executor._run_job_success = run_job_success
        scheduler.add_job(answer, "date", args=[1], id="job")
        scheduler.resume()
        wait_for(lambda: reported)
    finally:
        scheduler.shutdown()
    assert reported == [("job", [EVENT_JOB_EXECUTED])]


def test_a_replaced_dispatch_sees_every_event():
    seen = []

    class Recording(BackgroundScheduler):
        def _dispatch_event(self, event):
            seen.append(event.code)
            super()._dispatch_event(event)

    scheduler = Recording(timezone=UTC)
    scheduler.start(paused=True)
    try:
        scheduler.add_job(answer, "date", args=[1], id="job")
        scheduler.resume()
        wait_for(lambda: EVENT_JOB_EXECUTED in seen)
    finally:
        scheduler.shutdown()
    # Submission and removal events are built even with no listener: the override
    # may observe them.
    assert EVENT_JOB_SUBMITTED in seen and EVENT_JOB_REMOVED in seen


def test_listeners_from_a_worker_are_masked_and_isolated(caplog):
    calls = []
    scheduler = BackgroundScheduler(timezone=UTC)

    def broken(event):
        calls.append("broken")
        raise RuntimeError("listener failed")

    def removes_itself(event):
        calls.append("removes_itself")
        scheduler.remove_listener(removes_itself)

    scheduler.add_listener(broken, EVENT_JOB_EXECUTED)
    scheduler.add_listener(removes_itself, EVENT_JOB_EXECUTED)
    scheduler.add_listener(lambda event: calls.append("errors only"), EVENT_JOB_ERROR)
    scheduler.add_listener(lambda event: calls.append(("last", event.retval)), EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    try:
        with caplog.at_level(logging.ERROR, logger="apscheduler.scheduler"):
            scheduler.add_job(answer, "date", args=[7], id="one")
            scheduler.resume()
            wait_for(lambda: ("last", 7) in calls)
            scheduler.add_job(answer, "date", args=[8], id="two")
            wait_for(lambda: ("last", 8) in calls)
    finally:
        scheduler.shutdown()
    assert calls == ["broken", "removes_itself", ("last", 7), "broken", ("last", 8)]
    failures = [r for r in caplog.records if r.getMessage() == "Error notifying listener"]
    assert len(failures) == 2
    assert "listener failed" in failures[0].exc_text


def test_a_listener_added_by_the_job_hears_of_its_run():
    """With no listener, a run's event is not built; one that the job itself adds
    while it runs is there when the run is reported, and receives it."""
    heard = []
    scheduler = BackgroundScheduler(timezone=UTC)

    def adds_a_listener():
        scheduler.add_listener(lambda event: heard.append((event.job_id, event.retval)), EVENT_JOB_EXECUTED)
        return "done"

    scheduler.start()
    try:
        scheduler.add_job(adds_a_listener, id="self-heard")
        wait_for(lambda: heard)
    finally:
        scheduler.shutdown()
    assert heard == [("self-heard", "done")]


@pytest.mark.parametrize("native", [True, False])
def test_job_arguments_reach_the_callable(native):
    received = []

    def record(*args, **kwargs):
        received.append((args, kwargs))

    def add_jobs(scheduler, now):
        scheduler.add_job(record, "date", run_date=now, args=[1, 2], kwargs={"k": 3}, id="a")
        scheduler.add_job(record, "date", run_date=now, id="b")

    run_scenario(native, add_jobs, 6)
    assert sorted(received, key=len) == sorted([((1, 2), {"k": 3}), ((), {})], key=len)


def test_batch_submission_reports_what_submit_job_raises():
    """ThreadPoolExecutor._submit_batch (the scheduler's path) gives, per run, the
    exception submit_job() raises for the same run, or None."""
    from apscheduler.executors.base import MaxInstancesReachedError

    release = threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        executor = scheduler._lookup_executor("default")
        busy = scheduler.add_job(release.wait, "interval", hours=1, args=[WAIT], id="busy")
        free = scheduler.add_job(answer, "interval", hours=1, args=[1], id="free")
        now = [datetime.now(UTC)]
        outcomes = executor._submit_batch(
            [(busy, executor, now, "default"), (busy, executor, now, "default"),
             (free, executor, now, "default")]
        )
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], MaxInstancesReachedError)
        with pytest.raises(MaxInstancesReachedError) as raised:
            executor.submit_job(busy, now)
        assert str(outcomes[1]) == str(raised.value)
        release.set()
        wait_for(lambda: "busy" not in executor._instances and "free" not in executor._instances)

        executor._pool.shutdown(wait=True)
        outcomes = executor._submit_batch([(free, executor, now, "default")])
        with pytest.raises(RuntimeError) as raised:
            executor.submit_job(free, now)
        assert type(outcomes[0]) is RuntimeError
        assert str(outcomes[0]) == str(raised.value) == "cannot schedule new futures after shutdown"
        assert executor._instances.get("free", 0) == 0
    finally:
        release.set()
        scheduler.shutdown()


@pytest.mark.parametrize("workers_started", ["some", "all"])
@pytest.mark.parametrize("state", ["shut down", "broken"])
def test_batch_submission_to_a_closed_pool_reports_submit_jobs_error(workers_started, state):
    # Once every worker runs, a batch queues its runs without the pool's lock; what a
    # run gets from a pool that is shut down or broken must not change.
    from concurrent.futures.thread import BrokenThreadPool

    release = threading.Event()
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(2)}, timezone=UTC)
    scheduler.start(paused=True)
    try:
        executor = scheduler._lookup_executor("default")
        now = [datetime.now(UTC)]
        holders = 2 if workers_started == "all" else 1
        jobs = [
            scheduler.add_job(release.wait, "interval", hours=1, args=[WAIT], id="hold%d" % n)
            for n in range(holders)
        ]
        assert executor._submit_batch([(job, executor, now, "default") for job in jobs]) == [None] * holders
        wait_for(lambda: executor._pool._queue.started == holders)
        release.set()
        wait_for(lambda: not executor._instances)

        free = scheduler.add_job(answer, "interval", hours=1, args=[1], id="free")
        if state == "shut down":
            executor._pool.shutdown(wait=True)
            expected = RuntimeError
        else:
            executor._pool._broken = "A thread initializer failed, the thread pool is not usable anymore"
            expected = BrokenThreadPool
        outcomes = executor._submit_batch([(free, executor, now, "default")])
        with pytest.raises(expected) as raised:
            executor.submit_job(free, now)
        assert type(outcomes[0]) is expected
        assert str(outcomes[0]) == str(raised.value)
        assert executor._instances.get("free", 0) == 0
    finally:
        release.set()
        executor._pool._broken = False
        scheduler.shutdown()


def test_batch_submission_to_an_executor_that_cannot_take_it_reports_each_run():
    # An executor that was never started has no lock: every run gets the error,
    # and the batch itself does not raise (the pass goes on with other executors).
    executor = ThreadPoolExecutor(2)
    scheduler = BackgroundScheduler(timezone=UTC)
    job = scheduler.add_job(answer, "date", run_date=datetime.now(UTC), args=[1])
    job._jobstore_alias = "default"
    now = [datetime.now(UTC)]
    outcomes = executor._submit_batch([(job, executor, now, "default")] * 2)
    assert len(outcomes) == 2
    assert all(isinstance(outcome, Exception) for outcome in outcomes)
    executor.shutdown()


class RecordsCollectorState(IntervalTrigger):
    """A Python trigger that notes whether the garbage collector is enabled when asked."""

    seen = []

    def get_next_fire_time(self, previous_fire_time, now):
        import gc

        self.seen.append(gc.isenabled())
        return super().get_next_fire_time(previous_fire_time, now)


def run_one_pass(add_jobs):
    """Starts a scheduler paused, adds the jobs, and lets one pass run them."""
    ran = threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_listener(lambda event: ran.set(), EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    try:
        add_jobs(scheduler, datetime.now(UTC))
        scheduler.resume()
        assert ran.wait(WAIT)
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("enabled", [True, False])
def test_a_pass_leaves_the_collector_as_it_found_it(enabled):
    import gc

    def add_jobs(scheduler, now):
        for _ in range(2000):
            scheduler.add_job(answer, "date", args=(1,), run_date=now)

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        run_one_pass(add_jobs)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_python_code_in_a_pass_runs_with_the_collector_enabled():
    # The pass holds off collections only while no Python code runs, so that a
    # gc.disable() another thread makes meanwhile is never undone.
    import gc

    RecordsCollectorState.seen = []

    def add_jobs(scheduler, now):
        scheduler.add_job(answer, "date", args=(1,), run_date=now)
        trigger = RecordsCollectorState(seconds=60, start_date=now, timezone=UTC)
        scheduler.add_job(answer, trigger, args=(2,), next_run_time=now)
        scheduler.add_job(answer, "date", args=(3,), run_date=now)

    assert gc.isenabled()
    run_one_pass(add_jobs)
    # Asked by the pass for the run after the due one.
    assert RecordsCollectorState.seen and all(RecordsCollectorState.seen)
    assert gc.isenabled()


def test_a_zone_read_in_python_during_a_pass_runs_with_the_collector_enabled():
    # A native trigger whose zone the core does not know asks the zone in Python.
    import gc
    from datetime import tzinfo

    seen = []

    class RecordingZone(tzinfo):
        def utcoffset(self, dt):
            seen.append(gc.isenabled())
            return timedelta(hours=2)

        def dst(self, dt):
            return timedelta(0)

        def tzname(self, dt):
            return "REC"

    def add_jobs(scheduler, now):
        trigger = IntervalTrigger(seconds=60, start_date=now, timezone=RecordingZone())
        scheduler.add_job(answer, trigger, args=(1,), next_run_time=now)
        seen.clear()

    assert gc.isenabled()
    run_one_pass(add_jobs)
    assert seen and all(seen)


def test_a_pass_over_more_due_jobs_than_a_page_runs_each_once():
    # The pass reads due jobs a page (1,024) at a time; rescheduled jobs move past
    # now and are not read again, and every due job runs once.
    ran = []
    lock = threading.Lock()
    done = threading.Event()
    total = 2500

    def listener(event):
        with lock:
            ran.append(event.job_id)
            if len(ran) == total:
                done.set()

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        for n in range(total):
            if n % 2:
                scheduler.add_job(answer, "date", args=(n,), run_date=now, id="date%d" % n)
            else:
                trigger = IntervalTrigger(hours=1, start_date=now - timedelta(seconds=n % 7), timezone=UTC)
                scheduler.add_job(answer, trigger, args=(n,), id="every%d" % n, next_run_time=now)
        scheduler.resume()
        assert done.wait(WAIT)
        time.sleep(0.1)
        assert sorted(ran) == sorted(["date%d" % n if n % 2 else "every%d" % n for n in range(total)])
        remaining = scheduler.get_jobs()
        assert len(remaining) == total // 2
        assert all(job.next_run_time > now for job in remaining)
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("native", [True, False])
def test_an_executed_event_has_the_attributes_of_the_python_path(native):
    from apscheduler.events import JobExecutionEvent

    events = []
    store = MemoryJobStore() if native else PythonPathStore()
    executor = ThreadPoolExecutor(2) if native else PythonPathExecutor(2)
    scheduler = BackgroundScheduler(jobstores={"default": store}, executors={"default": executor}, timezone=UTC)
    scheduler.add_listener(events.append, EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        scheduler.add_job(answer, "date", args=(41,), run_date=now, id="first")
        scheduler.add_job(answer, "date", args=(42,), run_date=now, id="second")
        scheduler.resume()
        wait_for(lambda: len(events) == 2)
    finally:
        scheduler.shutdown()
    expected = JobExecutionEvent(EVENT_JOB_EXECUTED, "x", "default", now, retval=1)
    for event in events:
        assert type(event) is JobExecutionEvent
        assert list(vars(event)) == list(vars(expected))
    by_id = {event.job_id: event for event in events}
    assert by_id["first"].retval == 41 and by_id["second"].retval == 42
    assert by_id["first"].code == EVENT_JOB_EXECUTED and by_id["first"].exception is None
    assert by_id["first"].scheduled_run_time == now and by_id["first"].jobstore == "default"


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_listeners_of_errors_alone_hear_of_errors_and_a_replaced_dispatch_of_everything(native):
    store = MemoryJobStore() if native else PythonPathStore()
    executor = ThreadPoolExecutor(2) if native else PythonPathExecutor(2)
    scheduler = BackgroundScheduler(jobstores={"default": store}, executors={"default": executor}, timezone=UTC)
    errors = []
    scheduler.add_listener(lambda event: errors.append(event.job_id), EVENT_JOB_ERROR)
    scheduler.start()
    try:
        soon = datetime.now(UTC) + timedelta(milliseconds=50)
        scheduler.add_job(answer, "date", run_date=soon, args=[1], id="ok")
        scheduler.add_job(fail, "date", run_date=soon, id="fails")
        wait_for(lambda: errors == ["fails"] and not scheduler.get_jobs())
        # Once _dispatch_event is replaced on the instance, every event reaches it.
        dispatched = []
        scheduler._dispatch_event = dispatched.append
        scheduler.add_job(answer, "date", run_date=datetime.now(UTC) + timedelta(milliseconds=50), args=[2], id="watched")
        wait_for(lambda: any(event.code == EVENT_JOB_EXECUTED for event in dispatched))
    finally:
        scheduler.shutdown()
    executed = [event for event in dispatched if event.code == EVENT_JOB_EXECUTED]
    assert [(event.job_id, event.retval) for event in executed] == [("watched", 2)]
    assert errors == ["fails"]
