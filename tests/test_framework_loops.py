"""TornadoScheduler, TwistedScheduler and GeventScheduler running for real.

For each: an interval job fires on its interval, a cron job at the start of its next
second, listeners see the events, shutdown() returns, and a job may shut the scheduler
down. Every wait has a generous bound (WAIT seconds).
"""

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.schedulers import SchedulerNotRunningError

UTC = timezone.utc
WAIT = 10


def soon(seconds=0.0):
    return datetime.now(UTC) + timedelta(seconds=seconds)


def check_runs(events, ran):
    """What every scheduler's run must show (see the module docstring)."""
    assert ran["interval"] >= 3
    codes = [event.code for event in events]
    assert EVENT_SCHEDULER_STARTED in codes
    assert EVENT_SCHEDULER_SHUTDOWN in codes
    assert codes.count(EVENT_JOB_SUBMITTED) >= 4
    [cron_run] = [
        event
        for event in events
        if event.code == EVENT_JOB_EXECUTED and event.job_id == "each_second"
    ][:1]
    assert cron_run.scheduled_run_time.microsecond == 0
    assert ran["cron"][0] - cron_run.scheduled_run_time < timedelta(seconds=1)


def done(ran):
    return ran["interval"] >= 3 and ran["cron"]


#
# Tornado
#

tornado_ioloop = pytest.importorskip("tornado.ioloop")


def test_tornado_jobs_fire_and_shutdown_returns():
    from apscheduler.executors.tornado import TornadoExecutor
    from apscheduler.schedulers.tornado import TornadoScheduler

    ran = {"interval": 0, "cron": []}
    events = []

    async def every_tenth():  # a coroutine: runs on the IOLoop
        ran["interval"] += 1

    def each_second():  # a plain function: runs in the executor's thread pool
        ran["cron"].append(datetime.now(UTC))

    async def main():
        scheduler = TornadoScheduler(timezone=UTC)
        assert scheduler._ioloop is tornado_ioloop.IOLoop.current()
        scheduler.add_listener(events.append)
        scheduler.add_job(every_tenth, "interval", seconds=0.1)
        scheduler.add_job(each_second, "cron", second="*", id="each_second")
        scheduler.start()
        assert isinstance(scheduler._lookup_executor("default"), TornadoExecutor)
        deadline = time.monotonic() + WAIT
        while not done(ran) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        scheduler.shutdown()
        # on the IOLoop's own thread, shutdown() has taken effect when it returns
        assert not scheduler.running

    asyncio.run(main())
    check_runs(events, ran)


@pytest.mark.parametrize("kind", ["coroutine", "thread"])
def test_tornado_job_shuts_the_scheduler_down(kind):
    from apscheduler.schedulers.tornado import TornadoScheduler

    returned = []

    async def main():
        scheduler = TornadoScheduler()

        async def coroutine_job():
            scheduler.shutdown()
            returned.append(scheduler.running)

        def thread_job():
            scheduler.shutdown()
            returned.append("returned")

        job = coroutine_job if kind == "coroutine" else thread_job
        scheduler.add_job(job, "date", run_date=soon())
        scheduler.start()
        deadline = time.monotonic() + WAIT
        while (scheduler.running or not returned) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert not scheduler.running
        with pytest.raises(SchedulerNotRunningError):
            scheduler.shutdown()

    asyncio.run(main())
    assert returned == ([False] if kind == "coroutine" else ["returned"])


#
# Twisted
#


@pytest.fixture
def reactor():
    selectreactor = pytest.importorskip("twisted.internet.selectreactor")
    reactor = selectreactor.SelectReactor()
    thread = threading.Thread(
        target=reactor.run, kwargs={"installSignalHandlers": False}
    )
    thread.start()
    yield reactor
    reactor.callFromThread(reactor.stop)
    thread.join(WAIT)
    assert not thread.is_alive()


def wait_until(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_twisted_jobs_fire_and_shutdown_returns(reactor):
    from apscheduler.executors.twisted import TwistedExecutor
    from apscheduler.schedulers.twisted import TwistedScheduler

    ran = {"interval": 0, "cron": [], "threads": set()}
    events = []

    def every_tenth():
        ran["interval"] += 1
        ran["threads"].add(threading.current_thread().name)

    def each_second():
        ran["cron"].append(datetime.now(UTC))

    scheduler = TwistedScheduler(reactor=reactor, timezone=UTC)
    scheduler.add_listener(events.append)
    scheduler.add_job(every_tenth, "interval", seconds=0.1)
    scheduler.add_job(each_second, "cron", second="*", id="each_second")
    reactor.callFromThread(scheduler.start)
    wait_until(lambda: done(ran))
    assert isinstance(scheduler._lookup_executor("default"), TwistedExecutor)
    # from another thread, shutdown() is handed to the reactor
    scheduler.shutdown()
    wait_until(lambda: not scheduler.running)
    check_runs(events, ran)
    # the jobs ran in the reactor's thread pool
    assert all(name.startswith("PoolThread-") for name in ran["threads"])


def test_twisted_job_shuts_the_scheduler_down(reactor):
    from apscheduler.schedulers.twisted import TwistedScheduler

    returned = []
    scheduler = TwistedScheduler(reactor=reactor)

    def job():
        scheduler.shutdown()
        returned.append(True)

    scheduler.add_job(job, "date", run_date=soon())
    reactor.callFromThread(scheduler.start)
    wait_until(lambda: returned and not scheduler.running)


#
# gevent
#


def test_gevent_jobs_fire_and_shutdown_returns():
    gevent = pytest.importorskip("gevent")
    from apscheduler.executors.gevent import GeventExecutor
    from apscheduler.schedulers.gevent import GeventScheduler

    ran = {"interval": 0, "cron": [], "greenlets": set()}
    events = []

    def every_tenth():
        ran["interval"] += 1
        ran["greenlets"].add(gevent.getcurrent())

    def each_second():
        ran["cron"].append(datetime.now(UTC))

    scheduler = GeventScheduler(timezone=UTC)
    scheduler.add_listener(events.append)
    scheduler.add_job(every_tenth, "interval", seconds=0.1)
    scheduler.add_job(each_second, "cron", second="*", id="each_second")
    greenlet = scheduler.start()
    assert isinstance(greenlet, gevent.Greenlet)
    assert isinstance(scheduler._lookup_executor("default"), GeventExecutor)
    deadline = time.monotonic() + WAIT
    while not done(ran) and time.monotonic() < deadline:
        gevent.sleep(0.01)
    scheduler.shutdown()
    assert greenlet.dead
    check_runs(events, ran)
    # each run is a greenlet of its own, none of them the scheduler's
    assert greenlet not in ran["greenlets"]


@pytest.mark.parametrize("executor", ["default", "debug"])
def test_gevent_job_shuts_the_scheduler_down(executor):
    gevent = pytest.importorskip("gevent")
    from apscheduler.executors.debug import DebugExecutor
    from apscheduler.schedulers.gevent import GeventScheduler

    returned = []
    scheduler = GeventScheduler()
    if executor == "debug":
        # the job runs in the scheduler's own greenlet, which must not join itself
        scheduler.add_executor(DebugExecutor())

    def job():
        scheduler.shutdown()
        returned.append(True)

    scheduler.add_job(job, "date", run_date=soon())
    greenlet = scheduler.start()
    greenlet.join(WAIT)
    assert greenlet.dead
    # (the job's greenlet resumes after the scheduler's has ended)
    deadline = time.monotonic() + WAIT
    while not returned and time.monotonic() < deadline:
        gevent.sleep(0.01)
    assert returned == [True]
    assert not scheduler.running


def test_tornado_wakeups_before_the_pass_share_it():
    """Differs from APScheduler, which ran one full pass per add_job() call."""
    from apscheduler.schedulers.tornado import TornadoScheduler

    ran = []

    async def job():
        ran.append(True)

    async def main():
        scheduler = TornadoScheduler()
        scheduler.start()
        passes = []
        process_jobs = scheduler._process_jobs

        def counting_pass():
            passes.append(True)
            return process_jobs()

        scheduler._process_jobs = counting_pass
        for _ in range(500):
            scheduler.add_job(job)
        deadline = time.monotonic() + WAIT
        while len(ran) < 500 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        scheduler.shutdown()
        return len(passes)

    assert asyncio.run(main()) <= 3
    assert len(ran) == 500


def test_the_reference_decorators_queue_calls_on_the_loop():
    """run_in_event_loop, run_in_ioloop and run_in_reactor, which subclasses written
    for APScheduler may use, are there and queue the call on the scheduler's loop."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler, run_in_event_loop
    from apscheduler.schedulers.tornado import TornadoScheduler, run_in_ioloop
    from apscheduler.schedulers.twisted import run_in_reactor  # noqa: F401

    calls = []

    class MyAsyncIOScheduler(AsyncIOScheduler):
        @run_in_event_loop
        def note(self, value):
            calls.append(("asyncio", value, threading.current_thread()))

    class MyTornadoScheduler(TornadoScheduler):
        @run_in_ioloop
        def note(self, value):
            calls.append(("tornado", value, threading.current_thread()))

    async def main():
        for expected, cls in ((2, MyAsyncIOScheduler), (4, MyTornadoScheduler)):
            scheduler = cls()
            scheduler.start(paused=True)
            thread = threading.Thread(target=scheduler.note, args=(1,))
            thread.start()
            thread.join()
            assert scheduler.note(2) is None
            deadline = time.monotonic() + WAIT
            while len(calls) < expected:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)
            scheduler.shutdown()

    asyncio.run(main())
    assert sorted((name, value) for name, value, _ in calls) == [
        ("asyncio", 1),
        ("asyncio", 2),
        ("tornado", 1),
        ("tornado", 2),
    ]
    assert {thread for _, _, thread in calls} == {threading.main_thread()}
