"""The schedulers' public API end to end: the tutorial's usages with real (short)
intervals, DebugExecutor and the default memory job store.

Sleeps stay well under a second; every wait for something to happen has a generous
bound (WAIT seconds) so that a slow machine does not fail the tests.
"""

import io
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from apscheduler.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_EXECUTOR_ADDED,
    EVENT_JOB_ADDED,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_JOBSTORE_ADDED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import (
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import (
    STATE_PAUSED,
    STATE_RUNNING,
    STATE_STOPPED,
    BaseScheduler,
)
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
WAIT = 10  # upper bound for anything expected to happen "soon", in seconds


def wait_for(condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def noop():
    pass


def add(x, y):
    return x + y


@pytest.fixture
def scheduler():
    sched = BackgroundScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    yield sched
    if sched.running:
        sched.shutdown()


@pytest.fixture
def events(scheduler):
    received = queue.Queue()
    scheduler.add_listener(received.put)
    return received


def next_event(received, code=None):
    """The next event (of the given code, skipping others) within WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        event = received.get(timeout=max(deadline - time.monotonic(), 0.001))
        if code is None or event.code == code:
            return event


#
# Running jobs
#


def test_interval_job_fires_repeatedly(scheduler):
    runs = []
    scheduler.add_job(lambda: runs.append(time.monotonic()), "interval", seconds=0.1)
    scheduler.start()
    wait_for(lambda: len(runs) >= 3)
    # The job keeps its place in the store between runs.
    assert len(scheduler.get_jobs()) == 1
    assert runs[1] - runs[0] >= 0.05


def test_cron_job_fires_on_the_next_second(scheduler, events):
    scheduler.add_job(add, "cron", second="*", args=(2, 3), id="every-second")
    scheduler.start()
    event = next_event(events, EVENT_JOB_EXECUTED)
    assert event.job_id == "every-second"
    assert event.retval == 5
    assert event.scheduled_run_time.microsecond == 0
    # Already rescheduled to a later second when the run's event arrives.
    next_run_time = scheduler.get_job("every-second").next_run_time
    assert next_run_time > event.scheduled_run_time
    assert next_run_time.microsecond == 0


def test_date_job_runs_once_and_is_removed(scheduler, events):
    run_date = datetime.now(UTC) + timedelta(seconds=0.2)
    scheduler.add_job(add, "date", run_date=run_date, args=[1, 2], id="once")
    scheduler.start()
    assert next_event(events).code == EVENT_JOBSTORE_ADDED
    assert next_event(events).code == EVENT_JOB_ADDED
    assert next_event(events).code == EVENT_SCHEDULER_STARTED
    executed = next_event(events)
    assert executed.code == EVENT_JOB_EXECUTED
    assert executed.retval == 3
    assert executed.scheduled_run_time == run_date
    removed = next_event(events)
    assert (removed.code, removed.job_id, removed.jobstore) == (
        EVENT_JOB_REMOVED,
        "once",
        "default",
    )
    submitted = next_event(events)
    assert submitted.code == EVENT_JOB_SUBMITTED
    assert submitted.scheduled_run_times == [run_date]
    assert scheduler.get_jobs() == []


def test_job_added_while_running_wakes_the_scheduler(scheduler, events):
    scheduler.start()
    # Nothing to do: the loop sleeps until it is woken up.
    next_event(events, EVENT_SCHEDULER_STARTED)
    time.sleep(0.1)
    started = time.monotonic()
    scheduler.add_job(add, args=(1, 1))  # no trigger: a date trigger for "now"
    assert next_event(events, EVENT_JOB_EXECUTED).retval == 2
    assert time.monotonic() - started < WAIT


def test_failing_job_reports_error_and_scheduler_goes_on(scheduler, events, caplog):
    def fail():
        raise ValueError("boom")

    scheduler.add_job(fail, "interval", seconds=0.1, id="failing")
    scheduler.start()
    error = next_event(events, EVENT_JOB_ERROR)
    assert error.job_id == "failing"
    assert isinstance(error.exception, ValueError)
    assert "boom" in str(error.exception)
    assert "fail" in error.traceback
    # Still scheduled, and it runs (and fails) again.
    next_event(events, EVENT_JOB_ERROR)
    assert scheduler.get_job("failing") is not None
    assert any(
        record.message.endswith("raised an exception") and "fail" in record.message
        for record in caplog.records
    )


def test_missed_run_is_reported(scheduler, events):
    past = datetime.now(UTC) - timedelta(seconds=30)
    scheduler.add_job(noop, "date", run_date=past, misfire_grace_time=1, id="late")
    scheduler.start()
    event = next_event(events, EVENT_JOB_MISSED)
    assert event.job_id == "late"
    assert event.scheduled_run_time == past


def test_coalesce_runs_once_for_several_missed_times(scheduler, events):
    start = datetime.now(UTC) - timedelta(seconds=5.5)
    scheduler.add_job(
        noop,
        "interval",
        seconds=1,
        start_date=start,
        next_run_time=start,
        misfire_grace_time=None,
        coalesce=True,
    )
    scheduler.start()
    submitted = next_event(events, EVENT_JOB_SUBMITTED)
    assert len(submitted.scheduled_run_times) == 1

    other = BackgroundScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    received = queue.Queue()
    other.add_listener(received.put, EVENT_JOB_SUBMITTED)
    other.add_job(
        noop,
        "interval",
        seconds=1,
        start_date=start,
        next_run_time=start,
        misfire_grace_time=None,
        coalesce=False,
    )
    other.start()
    try:
        assert len(next_event(received).scheduled_run_times) == 6
    finally:
        other.shutdown()


def test_pause_and_resume_scheduler(scheduler, events):
    runs = []
    scheduler.add_job(lambda: runs.append(1), "interval", seconds=0.05)
    scheduler.start(paused=True)
    assert scheduler.state == STATE_PAUSED
    time.sleep(0.2)
    assert runs == []
    scheduler.resume()
    assert scheduler.state == STATE_RUNNING
    wait_for(lambda: len(runs) >= 2)
    scheduler.pause()
    next_event(events, EVENT_SCHEDULER_PAUSED)
    time.sleep(0.1)  # a run already under way may still finish
    count = len(runs)
    time.sleep(0.2)
    assert len(runs) == count
    scheduler.resume()
    next_event(events, EVENT_SCHEDULER_RESUMED)
    wait_for(lambda: len(runs) > count)


def test_pause_and_resume_job(scheduler):
    runs = []
    job = scheduler.add_job(lambda: runs.append(1), "interval", seconds=0.05, id="j")
    scheduler.start()
    wait_for(lambda: runs)
    assert scheduler.pause_job("j") is not None
    assert scheduler.get_job("j").next_run_time is None
    time.sleep(0.1)
    count = len(runs)
    time.sleep(0.2)
    assert len(runs) == count
    job.resume()
    assert scheduler.get_job("j").next_run_time is not None
    wait_for(lambda: len(runs) > count)


def test_modify_and_reschedule_job(scheduler, events):
    job = scheduler.add_job(add, "interval", hours=1, args=(1, 2), id="j")
    scheduler.start()
    job.modify(args=(5, 5), name="renamed")
    event = next_event(events, EVENT_JOB_MODIFIED)
    assert (event.job_id, event.jobstore) == ("j", "default")
    stored = scheduler.get_job("j")
    assert stored.name == "renamed"
    assert stored.args == (5, 5)

    scheduler.reschedule_job("j", trigger="interval", seconds=0.1)
    assert isinstance(scheduler.get_job("j").trigger, IntervalTrigger)
    assert next_event(events, EVENT_JOB_EXECUTED).retval == 10


def test_resume_job_with_finished_schedule_removes_it(scheduler, events):
    run_date = datetime.now(UTC) + timedelta(hours=1)
    scheduler.add_job(noop, "date", run_date=run_date, id="j", next_run_time=None)
    scheduler.start()
    assert scheduler.get_job("j").next_run_time is None
    # The date trigger has a fire time left, so it is rescheduled.
    assert scheduler.resume_job("j").next_run_time == run_date

    # A schedule with no fire time left: resuming removes the job.
    finished = CronTrigger(year=2000, timezone=UTC)
    scheduler.add_job(noop, finished, id="k", next_run_time=None)
    assert scheduler.resume_job("k") is None
    assert scheduler.get_job("k") is None
    assert next_event(events, EVENT_JOB_REMOVED).job_id == "k"


#
# Re-entrancy: jobs and listeners calling back into the scheduler
#


def test_shutdown_from_inside_a_job(scheduler, events):
    done = threading.Event()

    def stop():
        scheduler.shutdown(wait=True)
        done.set()

    scheduler.add_job(stop)
    scheduler.start()
    assert done.wait(WAIT)
    assert next_event(events, EVENT_SCHEDULER_SHUTDOWN)
    assert not scheduler.running
    wait_for(lambda: not any(t.name == "APScheduler" for t in threading.enumerate()))


def test_shutdown_from_a_listener(scheduler):
    done = threading.Event()

    def listener(event):
        scheduler.shutdown()
        done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.add_job(noop)
    scheduler.start()
    assert done.wait(WAIT)
    assert scheduler.state == STATE_STOPPED


def test_shutdown_from_a_started_listener(scheduler):
    scheduler.add_listener(lambda event: scheduler.shutdown(), EVENT_SCHEDULER_STARTED)
    scheduler.start()
    assert not scheduler.running
    with pytest.raises(SchedulerNotRunningError):
        scheduler.shutdown()


def test_shutdown_from_inside_a_blocking_scheduler_job():
    sched = BlockingScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    runs = []

    def stop():
        runs.append(1)
        sched.shutdown()

    sched.add_job(stop, "interval", seconds=0.05)
    thread = threading.Thread(target=sched.start)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()
    assert runs == [1]
    assert sched.state == STATE_STOPPED


def test_jobs_manage_other_jobs(scheduler, events):
    seen = {}

    def manager():
        scheduler.add_job(add, args=(20, 22), id="child")
        scheduler.pause_job("paused-one")
        scheduler.remove_job("doomed")
        seen["jobs"] = sorted(job.id for job in scheduler.get_jobs())

    scheduler.add_job(noop, "interval", hours=1, id="paused-one")
    scheduler.add_job(noop, "interval", hours=1, id="doomed")
    scheduler.add_job(manager, id="manager")
    scheduler.start()
    assert next_event(events, EVENT_JOB_EXECUTED).job_id == "manager"
    executed = next_event(events, EVENT_JOB_EXECUTED)
    assert (executed.job_id, executed.retval) == ("child", 42)
    assert seen["jobs"] == ["child", "paused-one"]
    assert scheduler.get_job("paused-one").next_run_time is None
    assert scheduler.get_job("doomed") is None


def test_job_pauses_itself(scheduler):
    runs = []

    def once_then_pause():
        runs.append(1)
        scheduler.pause_job("self-pausing")

    scheduler.add_job(once_then_pause, "interval", seconds=0.05, id="self-pausing")
    scheduler.start()
    wait_for(lambda: runs)
    time.sleep(0.3)
    assert runs == [1]
    assert scheduler.get_job("self-pausing").next_run_time is None


def test_job_removes_itself(scheduler, events):
    runs = []

    def once_then_remove():
        runs.append(1)
        scheduler.remove_job("self-removing")

    scheduler.add_job(once_then_remove, "interval", seconds=0.05, id="self-removing")
    scheduler.start()
    assert next_event(events, EVENT_JOB_REMOVED).job_id == "self-removing"
    assert next_event(events, EVENT_JOB_EXECUTED).job_id == "self-removing"
    time.sleep(0.2)
    assert runs == [1]
    assert scheduler.get_jobs() == []


def test_listeners_call_back_into_the_scheduler(scheduler):
    added = threading.Event()
    calls = []

    def listener(event):
        if event.code == EVENT_JOB_EXECUTED and event.job_id == "first":
            calls.append(len(scheduler.get_jobs()))
            scheduler.add_job(noop, id="second")
            scheduler.add_listener(lambda e: added.set(), EVENT_JOB_EXECUTED)
            scheduler.remove_listener(listener)

    scheduler.add_listener(listener)
    scheduler.add_job(noop, id="first")
    scheduler.start()
    assert added.wait(WAIT)
    assert calls == [0]
    assert listener not in [cb for cb, _ in scheduler._listeners]


def test_other_threads_work_while_a_job_runs(scheduler):
    job_started = threading.Event()
    release = threading.Event()

    def slow():
        job_started.set()
        release.wait(WAIT)

    scheduler.add_job(slow)
    scheduler.start()
    assert job_started.wait(WAIT)
    # The loop thread is inside the job; the scheduler's locks are free.
    try:
        scheduler.add_job(noop, "interval", hours=1, id="from-main")
        assert scheduler.get_job("from-main") is not None
        scheduler.remove_job("from-main")
        scheduler.print_jobs(out=io.StringIO())
    finally:
        release.set()


#
# Listeners
#


def test_listener_masks_and_errors(scheduler, caplog):
    only_added = []
    everything = []

    def broken(event):
        raise RuntimeError("listener failure")

    scheduler.add_listener(broken)
    scheduler.add_listener(only_added.append, EVENT_JOB_ADDED)
    scheduler.add_listener(everything.append, EVENT_ALL)
    scheduler.add_job(noop, "interval", hours=1, id="j")
    scheduler.start(paused=True)
    assert [event.code for event in only_added] == [EVENT_JOB_ADDED]
    assert [event.code for event in everything] == [
        EVENT_JOBSTORE_ADDED,
        EVENT_JOB_ADDED,
        EVENT_SCHEDULER_STARTED,
    ]
    assert "Error notifying listener" in [record.message for record in caplog.records]


def test_remove_listener_removes_every_registration(scheduler):
    received = []
    scheduler.add_listener(received.append, EVENT_JOB_ADDED)
    scheduler.add_listener(received.append, EVENT_JOB_REMOVED)
    scheduler.remove_listener(received.append)
    scheduler.add_job(noop, id="j")
    scheduler.remove_job("j")
    assert received == []


#
# Configuration
#


def test_configure_with_keyword_arguments():
    sched = BackgroundScheduler(
        jobstores={"default": MemoryJobStore(), "other": {"type": "memory"}},
        executors={"default": {"type": "debug"}, "other": DebugExecutor()},
        job_defaults={"coalesce": False, "max_instances": 3},
        timezone="Europe/Berlin",
        jobstore_retry_interval=2,
        daemon=False,
    )
    assert sched.timezone == BERLIN
    assert sched.jobstore_retry_interval == 2.0
    assert sched._job_defaults == {
        "misfire_grace_time": 1,
        "coalesce": False,
        "max_instances": 3,
    }
    assert isinstance(sched._executors["default"], DebugExecutor)
    assert isinstance(sched._jobstores["other"], MemoryJobStore)
    sched.start()
    try:
        thread = sched._thread
        assert thread.name == "APScheduler"
        assert thread.daemon is False
    finally:
        sched.shutdown()
    assert not thread.is_alive()


def test_configure_with_a_flat_dictionary():
    config = {
        "apscheduler.jobstores.mem.type": "memory",
        "apscheduler.jobstores.default.class": (
            "apscheduler.jobstores.memory:MemoryJobStore"
        ),
        "apscheduler.executors.default.class": (
            "apscheduler.executors.debug:DebugExecutor"
        ),
        "apscheduler.executors.alt.type": "debug",
        "apscheduler.job_defaults.coalesce": "false",
        "apscheduler.job_defaults.max_instances": "20",
        "apscheduler.job_defaults.misfire_grace_time": "15",
        "apscheduler.timezone": "UTC",
        "apscheduler.daemon": "false",
        "unrelated.key": "ignored",
    }
    sched = BackgroundScheduler(config)
    assert sched.timezone == UTC
    assert sched._daemon is False
    assert sched._job_defaults == {
        "misfire_grace_time": 15,
        "coalesce": False,
        "max_instances": 20,
    }
    assert set(sched._jobstores) == {"mem", "default"}
    assert set(sched._executors) == {"default", "alt"}
    job = sched.add_job(noop, "interval", seconds=10)
    sched.start(paused=True)
    try:
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (
            False,
            20,
            15,
        )
    finally:
        sched.shutdown()


def test_configure_dictionaries_are_not_consumed():
    executors = {"default": {"type": "debug"}}
    jobstores = {"default": {"class": "apscheduler.jobstores.memory:MemoryJobStore"}}
    first = BackgroundScheduler(executors=executors, jobstores=jobstores)
    second = BackgroundScheduler(executors=executors, jobstores=jobstores)
    assert executors == {"default": {"type": "debug"}}
    assert first._executors["default"] is not second._executors["default"]


def test_configure_errors():
    with pytest.raises(ValueError) as exc:
        BackgroundScheduler(executors={"x": {"max_workers": 2}})
    assert str(exc.value) == (
        'Cannot create executor "x" -- either "type" or "class" must be defined'
    )
    with pytest.raises(ValueError) as exc:
        BackgroundScheduler(jobstores={"y": {}})
    assert str(exc.value) == (
        'Cannot create job store "y" -- either "type" or "class" must be defined'
    )
    with pytest.raises(LookupError) as exc:
        BackgroundScheduler(jobstores={"y": {"type": "nosuch"}})
    assert str(exc.value) == 'No jobstore by the name "nosuch" was found'


def test_configure_while_running(scheduler):
    scheduler.start(paused=True)
    with pytest.raises(SchedulerAlreadyRunningError) as exc:
        scheduler.configure(timezone="UTC")
    assert str(exc.value) == "Scheduler is already running"
    with pytest.raises(SchedulerAlreadyRunningError):
        scheduler.start()


def test_plugins_by_alias(scheduler):
    scheduler.add_executor("debug", "extra")
    scheduler.add_jobstore("memory", "extra")
    with pytest.raises(ValueError) as exc:
        scheduler.add_jobstore("memory", "extra")
    assert str(exc.value) == (
        'This scheduler already has a job store by the alias of "extra"'
    )
    with pytest.raises(TypeError) as exc:
        scheduler.add_executor(42, "bad")
    assert str(exc.value) == (
        "Expected an executor instance or a string, got int instead"
    )
    with pytest.raises(TypeError) as exc:
        scheduler.add_jobstore(42, "bad")
    assert str(exc.value) == (
        "Expected a job store instance or a string, got int instead"
    )
    for alias in ("date", "interval", "cron", "calendarinterval", "and", "or"):
        assert alias in BaseScheduler._trigger_plugins
    job = scheduler.add_job(noop, "cron", hour=3, jobstore="extra", executor="extra")
    scheduler.start(paused=True)
    assert scheduler.get_jobs("extra") == [job]
    assert job.trigger.timezone == UTC
    scheduler.remove_jobstore("extra")
    scheduler.remove_executor("extra")
    with pytest.raises(KeyError):
        scheduler.remove_jobstore("extra")


def test_not_running_errors():
    sched = BackgroundScheduler()
    for method in (sched.shutdown, sched.pause, sched.resume):
        with pytest.raises(SchedulerNotRunningError) as exc:
            method()
        assert str(exc.value) == "Scheduler is not running"


def test_scheduler_cannot_be_pickled(scheduler):
    import pickle

    with pytest.raises(TypeError, match="Schedulers cannot be serialized"):
        pickle.dumps(scheduler)


def test_restart_after_shutdown(scheduler, events):
    scheduler.start()
    scheduler.shutdown()
    scheduler.add_job(add, args=(4, 4))
    scheduler.start()
    assert next_event(events, EVENT_JOB_EXECUTED).retval == 8
    assert [t.name for t in threading.enumerate()].count("APScheduler") <= 1


#
# add_job arguments
#


def test_add_job_undefined_versus_none(scheduler):
    defaults = scheduler.add_job(noop, "interval", seconds=5)
    explicit = scheduler.add_job(
        noop,
        "interval",
        seconds=5,
        misfire_grace_time=None,
        coalesce=False,
        max_instances=4,
        next_run_time=None,
    )
    # Pending jobs get the defaults only once they are really added.
    assert not hasattr(defaults, "misfire_grace_time")
    assert not hasattr(defaults, "next_run_time")
    scheduler.start(paused=True)
    assert (defaults.misfire_grace_time, defaults.coalesce, defaults.max_instances) == (
        1,
        True,
        1,
    )
    assert defaults.next_run_time is not None
    assert (explicit.misfire_grace_time, explicit.coalesce, explicit.max_instances) == (
        None,
        False,
        4,
    )
    assert explicit.next_run_time is None  # added paused


def test_add_job_next_run_time_without_trigger(scheduler):
    when = datetime(2040, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = scheduler.add_job(noop, next_run_time=when)
    assert isinstance(job.trigger, DateTrigger)
    scheduler.start(paused=True)
    assert job.next_run_time == when


def test_add_job_argument_checks(scheduler):
    with pytest.raises(TypeError) as exc:
        scheduler.add_job(noop, 5)
    assert str(exc.value) == "Expected a trigger instance or string, got int instead"
    with pytest.raises(LookupError) as exc:
        scheduler.add_job(noop, "nosuch")
    assert str(exc.value) == 'No trigger by the name "nosuch" was found'
    with pytest.raises(ValueError):
        scheduler.add_job(add, "interval", seconds=1, args=(1,))
    with pytest.raises(TypeError):
        scheduler.add_job(noop, "interval", bogus=1)


def test_add_job_by_reference_and_replace_existing(scheduler):
    job = scheduler.add_job(
        "os.path:join", "interval", hours=1, args=("a", "b"), id="j"
    )
    assert job.func is os.path.join
    scheduler.start(paused=True)
    with pytest.raises(ConflictingIdError):
        scheduler.add_job(noop, "interval", hours=1, id="j")
    scheduler.add_job(noop, "interval", hours=2, id="j", replace_existing=True)
    assert scheduler.get_job("j").func is noop
    with pytest.raises(KeyError, match="No such job store: nosuch"):
        scheduler.add_job(noop, "interval", hours=1, jobstore="nosuch")


def test_scheduled_job_decorators_stack(scheduler, events):
    @scheduler.scheduled_job("interval", hours=1, id="hourly")
    @scheduler.scheduled_job("cron", second="*", id="secondly")
    def work():
        return "done"

    assert work() == "done"  # the function itself is returned
    assert {job.id for job in scheduler.get_jobs()} == {"hourly", "secondly"}
    scheduler.start()
    event = next_event(events, EVENT_JOB_EXECUTED)
    assert (event.job_id, event.retval) == ("secondly", "done")


def test_max_instances_event(scheduler, events):
    class BusyExecutor(DebugExecutor):
        def start(self, scheduler, alias):
            super().start(scheduler, alias)
            self._instances["busy"] = 1

    scheduler.add_executor(BusyExecutor(), "busy")
    scheduler.add_job(noop, id="busy", executor="busy")
    scheduler.start()
    event = next_event(events, EVENT_JOB_MAX_INSTANCES)
    assert event.job_id == "busy"
    assert len(event.scheduled_run_times) == 1


#
# Listing, removing, export and import
#


def test_get_remove_and_print_jobs(scheduler, events):
    scheduler.add_jobstore(MemoryJobStore(), "other")
    scheduler.add_job(noop, "date", run_date="2099-09-09", id="a", name="job a")
    scheduler.add_job(noop, "date", run_date="2099-08-08", id="b", jobstore="other")

    with pytest.warns(DeprecationWarning, match='The "pending" option is deprecated'):
        assert len(scheduler.get_jobs(pending=True)) == 2
    out = io.StringIO()
    scheduler.print_jobs(out=out)
    assert out.getvalue().startswith("Pending jobs:\n    job a (trigger: date[")

    scheduler.start(paused=True)
    assert [job.id for job in scheduler.get_jobs("other")] == ["b"]
    assert scheduler.get_job("b", "default") is None
    out = io.StringIO()
    scheduler.print_jobs("other", out)
    assert out.getvalue() == (
        "Jobstore other:\n"
        "    noop (trigger: date[2099-08-08 00:00:00 UTC], "
        "next run at: 2099-08-08 00:00:00 UTC)\n"
    )

    with pytest.raises(JobLookupError):
        scheduler.remove_job("a", "other")
    scheduler.remove_job("a")
    event = next_event(events, EVENT_JOB_REMOVED)
    assert (event.job_id, event.jobstore) == ("a", "default")

    scheduler.remove_all_jobs()
    assert next_event(events, EVENT_ALL_JOBS_REMOVED).alias is None
    assert scheduler.get_jobs() == []
    out = io.StringIO()
    scheduler.print_jobs(out=out)
    assert out.getvalue() == (
        "Jobstore default:\n    No scheduled jobs\nJobstore other:\n"
        "    No scheduled jobs\n"
    )


def test_export_and_import_jobs(scheduler, tmp_path):
    scheduler.start(paused=True)
    scheduler.add_job(print, "cron", hour="*/3", args=["x"], id="c", timezone=BERLIN)
    scheduler.add_job(print, "interval", minutes=5, id="i")
    path = tmp_path / "jobs.json"
    scheduler.export_jobs(str(path))

    other = BackgroundScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    other.start(paused=True)
    try:
        other.import_jobs(str(path))
        jobs = {job.id: job for job in other.get_jobs()}
        assert set(jobs) == {"c", "i"}
        assert repr(jobs["c"].trigger) == (
            "<CronTrigger (hour='*/3', timezone='Europe/Berlin')>"
        )
        assert jobs["c"].args == ["x"]
        assert jobs["c"]._scheduler is other
        assert jobs["i"].next_run_time == scheduler.get_job("i").next_run_time
    finally:
        other.shutdown()

    with pytest.raises(ValueError, match="unrecognized version: 2"):
        scheduler.import_jobs(io.StringIO('{"version": 2, "jobs": []}'))


#
# Robustness of the loop
#


class FlakyJobStore(MemoryJobStore):
    """A memory store whose get_due_jobs() fails a given number of times."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    def get_due_jobs(self, now):
        if self.failures:
            self.failures -= 1
            raise OSError("store unavailable")
        return super().get_due_jobs(now)


def test_jobstore_errors_are_retried(caplog):
    sched = BackgroundScheduler(
        executors={"default": DebugExecutor()},
        jobstores={"default": FlakyJobStore(failures=1)},
        jobstore_retry_interval=0.1,
        timezone=UTC,
    )
    done = threading.Event()
    sched.add_job(done.set)
    sched.start()
    try:
        assert done.wait(WAIT)
    finally:
        sched.shutdown()
    assert (
        "Error getting due jobs from job store 'default': store unavailable"
        in [record.message for record in caplog.records]
    )


def test_a_failing_pass_does_not_end_the_loop(caplog):
    class BrokenTrigger(IntervalTrigger):
        calls = 0

        def get_next_fire_time(self, previous_fire_time, now):
            if previous_fire_time is not None:
                BrokenTrigger.calls += 1
                if BrokenTrigger.calls == 1:
                    raise ArithmeticError("broken trigger")
            return super().get_next_fire_time(previous_fire_time, now)

    sched = BackgroundScheduler(
        executors={"default": DebugExecutor()},
        jobstore_retry_interval=0.1,
        timezone=UTC,
    )
    runs = []
    sched.add_job(lambda: runs.append(1), BrokenTrigger(seconds=0.05, timezone=UTC))
    sched.start()
    try:
        wait_for(lambda: len(runs) >= 3)
    finally:
        sched.shutdown()
    assert any("broken trigger" in (r.exc_text or "") for r in caplog.records)


def test_executor_and_jobstore_lifecycle(scheduler):
    class RecordingExecutor(DebugExecutor):
        def __init__(self):
            super().__init__()
            self.calls = []

        def start(self, scheduler, alias):
            super().start(scheduler, alias)
            self.calls.append(("start", alias))

        def shutdown(self, wait=True):
            self.calls.append(("shutdown", wait))

    class RecordingStore(MemoryJobStore):
        calls = []

        def start(self, scheduler, alias):
            super().start(scheduler, alias)
            self.calls.append(("start", alias))

        def shutdown(self):
            self.calls.append(("shutdown",))

    executor = RecordingExecutor()
    store = RecordingStore()
    received = []
    scheduler.add_listener(received.append, EVENT_EXECUTOR_ADDED | EVENT_JOBSTORE_ADDED)
    scheduler.add_executor(executor, "rec")
    scheduler.add_jobstore(store, "rec")
    assert executor.calls == [] and store.calls == []
    scheduler.start()
    assert executor.calls == [("start", "rec")]
    assert store.calls == [("start", "rec")]
    scheduler.shutdown(wait=False)
    assert executor.calls[-1] == ("shutdown", False)
    assert store.calls[-1] == ("shutdown",)
    assert [(e.code, e.alias) for e in received] == [
        (EVENT_EXECUTOR_ADDED, "rec"),
        (EVENT_JOBSTORE_ADDED, "rec"),
        (EVENT_JOBSTORE_ADDED, "default"),
    ]


def test_custom_plugins_are_accepted():
    class MyExecutor(BaseExecutor):
        def _do_submit_job(self, job, run_times):
            pass

    class MyStore(BaseJobStore):
        def lookup_job(self, job_id):
            return None

        def get_due_jobs(self, now):
            return []

        def get_next_run_time(self):
            return None

        def get_all_jobs(self):
            return []

        def add_job(self, job):
            pass

        def update_job(self, job):
            pass

        def remove_job(self, job_id):
            raise JobLookupError(job_id)

        def remove_all_jobs(self):
            pass

    sched = BackgroundScheduler(
        executors={"default": MyExecutor()}, jobstores={"default": MyStore()}
    )
    sched.start()
    try:
        sched.add_job(noop)
        assert sched.get_jobs() == []
    finally:
        sched.shutdown()


def test_logger_and_timezone_defaults(monkeypatch):
    monkeypatch.setattr(
        "apscheduler.schedulers.base.get_localzone", lambda: BERLIN
    )
    sched = BackgroundScheduler()
    assert sched.timezone is BERLIN
    assert sched._logger is logging.getLogger("apscheduler.scheduler")
    custom = logging.getLogger("my.scheduler")
    assert BackgroundScheduler(logger=custom)._logger is custom


#
# BlockingScheduler
#

BLOCKING_SCRIPT = """
import sys
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

sched = BlockingScheduler(executors={"default": DebugExecutor()}, timezone="UTC")
sched.add_job(lambda: None, "interval", hours=1)
sched.add_listener(
    lambda event: print("started", flush=True), EVENT_SCHEDULER_STARTED
)
try:
    sched.start()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_blocking_scheduler_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCKING_SCRIPT],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        time.sleep(0.2)  # let the loop settle into its (one hour) wait
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=WAIT)
        assert out.strip() == "interrupted"
        assert time.monotonic() - sent < WAIT
    finally:
        proc.kill()
        proc.wait()


def test_blocking_scheduler_blocks_until_shutdown():
    sched = BlockingScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    ran = threading.Event()
    sched.add_job(ran.set)
    thread = threading.Thread(target=sched.start)
    thread.start()
    assert ran.wait(WAIT)
    assert thread.is_alive()  # still serving
    sched.shutdown()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_start_stores_pending_jobs_with_defaults_and_events():
    sched = BackgroundScheduler(
        executors={"default": DebugExecutor()},
        job_defaults={"misfire_grace_time": 7, "coalesce": False, "max_instances": 3},
        timezone=UTC,
    )
    added = []
    sched.add_listener(lambda event: added.append(event.job_id), EVENT_JOB_ADDED)
    own = sched.add_job(print, "interval", hours=1, id="own", max_instances=9)
    later = [sched.add_job(print, "interval", hours=1, id=f"j{n}") for n in range(5)]
    fixed = sched.add_job(print, "interval", hours=1, id="fixed", next_run_time=None)
    sched.start(paused=True)
    try:
        assert added == ["own", "j0", "j1", "j2", "j3", "j4", "fixed"]
        assert own.max_instances == 9 and own.misfire_grace_time == 7
        for job in later:
            assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (7, False, 3)
            assert job.next_run_time == job.trigger.start_date
            assert not job.pending
        assert fixed.next_run_time is None
        assert [job.id for job in sched.get_jobs()] == ["own", "j0", "j1", "j2", "j3", "j4", "fixed"]
    finally:
        sched.shutdown()


def test_start_with_a_conflicting_pending_job_leaves_it_pending():
    sched = BackgroundScheduler(executors={"default": DebugExecutor()}, timezone=UTC)
    sched.add_jobstore(MemoryJobStore(), "default")
    sched.add_job(print, "interval", hours=1, id="a")
    sched.add_job(print, "interval", hours=1, id="same")
    sched.add_job(print, "interval", hours=1, id="same")
    sched.add_job(print, "interval", hours=1, id="b")
    with pytest.raises(ConflictingIdError):
        sched.start(paused=True)
    assert sched.state == STATE_STOPPED
    # The first two were stored; the conflicting one and the one after it wait.
    pending = [job.id for job in sched.get_jobs() if job.pending]
    assert pending == ["same", "b"]
    stored = sorted(job.id for job in sched._jobstores["default"].get_all_jobs())
    assert stored == ["a", "same"]


def test_start_with_an_invalid_default_leaves_jobs_pending():
    sched = BackgroundScheduler(
        executors={"default": DebugExecutor()},
        job_defaults={"max_instances": 0},
        timezone=UTC,
    )
    sched.add_job(print, "interval", hours=1, id="a")
    sched.add_job(print, "interval", hours=1, id="b")
    with pytest.raises(TypeError, match="max_instances must be a positive integer"):
        sched.start(paused=True)
    assert sched.state == STATE_STOPPED
    assert [job.id for job in sched.get_jobs()] == ["a", "b"]


@pytest.mark.parametrize("seconds", [0.0001, 0.0005, 0.003, 0.03])
def test_the_loops_wait_for_a_due_run_ends_just_before_it_or_at_it(seconds):
    # The loop sleeps until just before a run is due, makes a pass (which finds it
    # not yet due), then spins through the rest of the wait.
    from apscheduler.schedulers.blocking import _FINAL_SPIN, BlockingScheduler

    event = threading.Event()
    started = time.monotonic()
    BlockingScheduler._wait_for_wakeup(event, seconds)
    waited = time.monotonic() - started
    assert waited >= (seconds if seconds <= _FINAL_SPIN else seconds - _FINAL_SPIN)
    assert not event.is_set()


def test_a_run_due_at_a_precise_time_never_starts_before_it():
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.start()
    starts = []
    try:
        run_date = datetime.now(timezone.utc) + timedelta(seconds=0.1)
        for offset in range(5):
            due = run_date + timedelta(milliseconds=7 * offset)
            scheduler.add_job(lambda due=due: starts.append((due, datetime.now(timezone.utc))), "date", run_date=due)
        deadline = time.monotonic() + 10
        while len(starts) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.shutdown()
    assert len(starts) == 5
    assert all(started >= due for due, started in starts)


def test_the_loops_wait_ends_when_woken():
    from apscheduler.schedulers.blocking import BlockingScheduler

    event = threading.Event()
    timer = threading.Timer(0.05, event.set)
    timer.start()
    started = time.monotonic()
    BlockingScheduler._wait_for_wakeup(event, 30)
    assert time.monotonic() - started < 10
    assert not event.is_set()  # cleared for the next wait
    timer.join()


def test_a_failing_store_is_read_once_a_pass_not_again_just_before_a_due_run():
    # With a store failing, the loop makes no early pass before a due run (which
    # would read, and log, the failing store once more each time).
    class AlwaysFailing(MemoryJobStore):
        calls = 0

        def get_due_jobs(self, now):
            AlwaysFailing.calls += 1
            raise OSError("store unavailable")

    sched = BackgroundScheduler(
        executors={"default": DebugExecutor()},
        jobstores={"default": MemoryJobStore(), "failing": AlwaysFailing()},
        jobstore_retry_interval=60,
        timezone=UTC,
    )
    runs = []
    sched.add_job(lambda: runs.append(1), "interval", seconds=0.05)
    sched.start()
    try:
        wait_for(lambda: len(runs) >= 6)
    finally:
        sched.shutdown()
    # One read per pass: the passes of the runs, and the one at start().
    assert AlwaysFailing.calls <= len(runs) + 3
