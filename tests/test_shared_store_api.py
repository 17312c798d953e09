"""
Shared mode (shared=True) seen from one process: two schedulers, each with its own
store instance on the same table or keys, stand in for two processes. They are
different members of the store, with their own leases and notifications.
"""

import os
import threading
import time
import uuid
from urllib.parse import urlsplit
from datetime import datetime, timedelta, timezone

import pytest

from _store_helpers import POSTGRES_URL, reachable, require_postgres, drop_table
from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

REDIS_DB = 9


# MySQL 8 or MariaDB 10.6+: the test scripts start no such server, so these tests
# skip unless one answers at this URL.
MYSQL_URL = os.environ.get(
    "APSCHEDULER_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:33306/apscheduler"
)


def require_mysql():
    pytest.importorskip("pymysql")
    parts = urlsplit(MYSQL_URL)
    if not reachable(parts.hostname, parts.port or 3306):
        pytest.skip(f"no MySQL/MariaDB server at {parts.hostname}:{parts.port}")
    return MYSQL_URL


@pytest.fixture(params=["sql", "redis", "mysql"])
def make_store(request):
    name = f"shared_api_{uuid.uuid4().hex[:10]}"
    if request.param in ("sql", "mysql"):
        url = require_postgres() if request.param == "sql" else require_mysql()

        def make(**options):
            return SQLAlchemyJobStore(url=url, tablename=name, shared=True, **options)

        yield make
        for table in (name, f"{name}_schedulers", f"{name}_runs"):
            drop_table(url, table)
    else:
        redis = pytest.importorskip("redis")
        if not reachable("127.0.0.1", 6379):
            pytest.skip("no Redis server at 127.0.0.1:6379")

        def make(**options):
            return RedisJobStore(
                db=REDIS_DB, jobs_key=name, run_times_key=f"{name}.run_times",
                shared=True, **options
            )

        yield make
        client = redis.Redis(db=REDIS_DB)
        keys = client.keys(f"{name}*")
        if keys:
            client.delete(*keys)


def scheduler_on(store):
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    return scheduler


# Jobs for the tests below (module level: persistent stores need a reference).
spans = []
spans_lock = threading.Lock()
ticks = []


def slow_job(seconds):
    started = time.monotonic()
    time.sleep(seconds)
    with spans_lock:
        spans.append((started, time.monotonic(), threading.current_thread().name))


def tick():
    ticks.append(time.monotonic())


def test_max_instances_holds_across_processes(make_store):
    """The owner of a long job is paused while the job runs; the other process takes
    the job over but does not start it until the first run has ended."""
    spans.clear()
    store_a, store_b = make_store(lease_seconds=1), make_store(lease_seconds=1)
    a, b = scheduler_on(store_a), scheduler_on(store_b)
    busy = []
    for scheduler in (a, b):
        scheduler.add_listener(busy.append, EVENT_JOB_MAX_INSTANCES)
    a.start()
    b.start()
    try:
        a.add_job(
            slow_job, "interval", seconds=0.3, args=[1.5], id="slow", max_instances=1,
            next_run_time=datetime.now(timezone.utc), misfire_grace_time=None,
        )
        deadline = time.monotonic() + 5
        while not _running_in(a, b) and time.monotonic() < deadline:
            time.sleep(0.01)
        owner, other = (a, b) if _runs_slow(a) else (b, a)
        owner.pause()
        # The other process's run ends at the earliest 3 s from here (1.5 s for the
        # first run, then its own); on a loaded machine it may take longer.
        deadline = time.monotonic() + 15
        while len(spans) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        a.shutdown()
        b.shutdown()

    spans.sort()
    assert len(spans) >= 2, spans
    for (_, first_end, _), (second_start, _, _) in zip(spans, spans[1:]):
        assert second_start >= first_end - 0.05, spans
    # The other process was held back at least once, then ran the job itself.
    assert busy
    assert len({thread for _, _, thread in spans}) == 2


def _runs_slow(scheduler):
    return any(scheduler._executors["default"]._instances.values())


def _running_in(*schedulers):
    return any(_runs_slow(scheduler) for scheduler in schedulers)


def test_job_paused_through_one_process_stops_in_the_other_within_a_second(make_store):
    ticks.clear()
    a, b = scheduler_on(make_store()), scheduler_on(make_store())
    a.start(paused=True)  # takes no jobs: every run happens in b
    b.start()
    try:
        a.add_job(tick, "interval", seconds=0.1, id="tick")
        deadline = time.monotonic() + 5
        while len(ticks) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ticks) >= 3
        a.pause_job("tick")
        paused_at = time.monotonic()
        time.sleep(1.5)
    finally:
        a.shutdown()
        b.shutdown()
    assert not [t for t in ticks if t > paused_at + 1.0]


def test_a_change_made_before_the_other_process_listens_reaches_it_at_once(make_store):
    """A change published before a process's subscription took effect is never
    delivered to it; the process looks at the store once it listens, rather than at
    its next poll (10 s away)."""
    ticks.clear()
    a, b = scheduler_on(make_store()), scheduler_on(make_store())
    listen = b._jobstores["default"]._sharing._listen
    subscribed = threading.Event()

    def late_listen(stop, heard):
        time.sleep(0.5)  # a change is made meanwhile
        subscribed.set()
        return listen(stop, heard)

    b._jobstores["default"]._sharing._listen = late_listen
    a.start(paused=True)  # takes no jobs: every run happens in b
    b.start()
    try:
        a.add_job(tick, "interval", seconds=0.1, id="tick")
        assert not subscribed.is_set()
        deadline = time.monotonic() + 4
        while len(ticks) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ticks) >= 3
    finally:
        a.shutdown()
        b.shutdown()


def test_rewriting_a_job_read_before_a_pass_keeps_the_advanced_run_time(make_store):
    """modify_job() in one process reads the job, another process's pass advances
    it, and the write keeps the advanced time: the run just made is not made again."""
    store_a, store_b = make_store(), make_store()
    a, b = scheduler_on(store_a), scheduler_on(store_b)
    due = datetime.now(timezone.utc) - timedelta(seconds=1)
    a.start(paused=True)
    b.start(paused=True)
    try:
        a.add_job(tick, "interval", seconds=60, id="job", next_run_time=due)
        read = store_a.lookup_job("job")

        # Overdue past the lease: either store may claim it, whoever owns it.
        later = datetime.now(timezone.utc) + timedelta(seconds=600)
        with store_b._claim_due_jobs(later) as claim:
            (claimed,) = claim.jobs
            claimed.next_run_time = due + timedelta(seconds=60)
            store_b.update_job(claimed)
        assert claim.outcomes == {"job": "run"}

        read.name = "renamed"
        store_a.update_job(read)
        stored = store_b.lookup_job("job")
        assert stored.name == "renamed"
        assert stored.next_run_time == due + timedelta(seconds=60)

        # A time set by the caller is the caller's.
        stored.next_run_time = due + timedelta(seconds=5)
        store_a.lookup_job("job")
        store_a.update_job(stored)
        assert store_b.lookup_job("job").next_run_time == due + timedelta(seconds=5)
    finally:
        a.shutdown()
        b.shutdown()


def test_of_two_overlapping_claims_one_runs_the_job(make_store):
    """Two processes claim the same due job at once: on PostgreSQL the second skips
    the row the first has locked; on Redis the second to commit finds the job's run
    time changed and takes nothing. Either way exactly one runs it."""
    store_a, store_b = make_store(), make_store()
    a, b = scheduler_on(store_a), scheduler_on(store_b)
    due = datetime.now(timezone.utc) - timedelta(seconds=1)
    # Far enough ahead that the job is overdue by more than the lease, which lets
    # either process claim it whoever owns it.
    later = datetime.now(timezone.utc) + timedelta(seconds=600)
    a.start(paused=True)
    b.start(paused=True)
    try:
        a.add_job(tick, "interval", seconds=60, id="job", next_run_time=due)
        with store_a._claim_due_jobs(later) as claim_a:
            with store_b._claim_due_jobs(later) as claim_b:
                _advance(store_b, claim_b.jobs)
            _advance(store_a, claim_a.jobs)
        outcomes = [claim_a.outcomes.get("job"), claim_b.outcomes.get("job")]
        assert outcomes.count("run") == 1, outcomes
        assert store_a.lookup_job("job").next_run_time == due + timedelta(seconds=60)
    finally:
        a.shutdown()
        b.shutdown()


def _advance(store, jobs):
    for job in jobs:
        job.next_run_time += timedelta(seconds=60)
        try:
            store.update_job(job)
        except JobLookupError:
            pass


def test_shared_mode_options(tmp_path):
    with pytest.raises(ValueError, match="PostgreSQL, MySQL 8 or MariaDB 10.6"):
        SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'x.sqlite'}", shared=True)
    with pytest.raises(ValueError, match="lease_seconds must be a positive number"):
        SQLAlchemyJobStore(url=POSTGRES_URL, shared=True, lease_seconds=0)
    # Values from a configuration file arrive as strings.
    store = SQLAlchemyJobStore(
        url=POSTGRES_URL, shared="true", lease_seconds="5", poll_seconds="2"
    )
    assert store._claims_due_jobs
    assert store._sharing.lease == 5.0
    assert not SQLAlchemyJobStore(url=POSTGRES_URL, shared="false")._claims_due_jobs


def test_asyncio_scheduler_shares_a_store_with_a_thread_scheduler(make_store):
    """The event-loop schedulers claim through their sliced pass: runs are split
    between an AsyncIOScheduler and a BackgroundScheduler, each run once."""
    import asyncio

    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    executed = []
    background = scheduler_on(make_store())
    background.add_listener(
        lambda event: executed.append(("thread", event.job_id, event.scheduled_run_time)),
        EVENT_JOB_EXECUTED,
    )
    start = datetime.now(timezone.utc) + timedelta(seconds=0.5)

    async def main():
        loop_scheduler = AsyncIOScheduler(jobstores={"default": make_store()}, timezone="UTC")
        loop_scheduler.add_listener(
            lambda event: executed.append(("loop", event.job_id, event.scheduled_run_time)),
            EVENT_JOB_EXECUTED,
        )
        loop_scheduler.start()
        background.start()
        for number in range(20):
            loop_scheduler.add_job(
                tick, "interval", seconds=0.25, id=f"job-{number}", start_date=start,
                end_date=start + timedelta(seconds=1.5), coalesce=False,
                misfire_grace_time=30,
            )
        await asyncio.sleep(3)
        loop_scheduler.shutdown()

    try:
        asyncio.run(main())
    finally:
        background.shutdown()

    runs = [(job_id, when) for _, job_id, when in executed]
    assert len(runs) == len(set(runs)) == 20 * 7
    assert {where for where, _, _ in executed} == {"thread", "loop"}
