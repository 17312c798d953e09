"""QtScheduler running for real in a (headless) Qt event loop.

An interval job fires on its interval, a cron job at the start of its next second,
listeners see the events, shutdown() returns, a job may shut the scheduler down, and
other threads can wake it up.
"""

import os
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

# No display: Qt's offscreen platform (set before Qt is imported).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

QtCore = pytest.importorskip("PySide6.QtCore")

from apscheduler.events import (  # noqa: E402
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_SHUTDOWN,
)
from apscheduler.schedulers.qt import QtScheduler  # noqa: E402

UTC = timezone.utc
WAIT = 10


@pytest.fixture(scope="module", autouse=True)
def app():
    return QtCore.QCoreApplication.instance() or QtCore.QCoreApplication([])


def run_qt_until(predicate, timeout=WAIT):
    """Run the Qt event loop of this (the main) thread until predicate() holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        QtCore.QCoreApplication.processEvents()
        time.sleep(0.002)


def soon(seconds=0.0):
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_jobs_fire_and_listeners_see_them():
    ran = {"interval": 0, "cron": []}
    events = []

    def every_tenth():
        ran["interval"] += 1

    def each_second():
        ran["cron"].append(datetime.now(UTC))

    scheduler = QtScheduler(timezone=UTC)
    scheduler.add_listener(events.append)
    scheduler.add_job(every_tenth, "interval", seconds=0.1)
    scheduler.add_job(each_second, "cron", second="*", id="each_second")
    scheduler.start()
    run_qt_until(lambda: ran["interval"] >= 3 and ran["cron"])
    scheduler.shutdown()
    assert not scheduler.running

    codes = [event.code for event in events]
    assert codes.count(EVENT_JOB_SUBMITTED) >= 4
    assert EVENT_SCHEDULER_SHUTDOWN in codes
    [cron_run] = [
        event
        for event in events
        if event.code == EVENT_JOB_EXECUTED and event.job_id == "each_second"
    ][:1]
    assert cron_run.scheduled_run_time.microsecond == 0
    assert ran["cron"][0] - cron_run.scheduled_run_time < timedelta(seconds=1)


def test_a_job_added_by_another_thread_wakes_the_scheduler():
    """Differs from APScheduler, whose timer started in another thread never fired."""
    ran = []
    scheduler = QtScheduler()
    scheduler.start()
    # the scheduler sleeps until woken: no job yet
    adder = threading.Thread(
        target=scheduler.add_job, args=(lambda: ran.append(True),)
    )
    adder.start()
    adder.join()
    run_qt_until(lambda: ran)
    scheduler.shutdown()


def test_a_job_shuts_the_scheduler_down():
    returned = []
    scheduler = QtScheduler()

    def job():
        scheduler.shutdown()
        returned.append(True)

    scheduler.add_job(job, "interval", seconds=0.05)
    scheduler.start()
    run_qt_until(lambda: returned)
    assert not scheduler.running
    # the timer was stopped in the Qt thread: the interval job runs no more
    time.sleep(0.2)
    QtCore.QCoreApplication.processEvents()
    assert returned == [True]


def test_a_failing_pass_is_retried(caplog):
    scheduler = QtScheduler(jobstore_retry_interval=0.05)
    calls = []
    original = scheduler._collect_due_runs

    def flaky(*args):
        calls.append(True)
        if len(calls) == 1:
            raise RuntimeError("store unreachable")
        return original(*args)

    scheduler._collect_due_runs = flaky
    scheduler.start()
    run_qt_until(lambda: len(calls) >= 2)
    scheduler.shutdown()
    assert "Error processing jobs" in caplog.text


def test_a_shut_down_scheduler_can_be_collected():
    import gc
    import weakref

    scheduler = QtScheduler()
    scheduler.start()
    run_qt_until(lambda: True)
    scheduler.shutdown()
    ref = weakref.ref(scheduler)
    del scheduler
    gc.collect()
    assert ref() is None
