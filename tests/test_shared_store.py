"""
Several scheduler processes sharing one job store (shared=True), on the PostgreSQL
and Redis servers that scripts/services.sh starts.

Each process is tests/_shared_store_worker.py. The jobs log each run in PostgreSQL
tables: the job itself writes that it ran, and a listener writes the run's scheduled
time, so that a run executed twice or never shows up.
"""

import math
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from _store_helpers import POSTGRES_URL, TESTS, reachable, require_postgres

WORKER = TESTS / "_shared_store_worker.py"
LOG_URL = POSTGRES_URL.replace("+psycopg2", "")
REDIS_DB = 9

PROCESSES = 4
WINDOW = 30  # seconds during which the jobs fire
LEASE = 3.0


def jobs_spec():
    """The 200 jobs: (ID, trigger name, trigger arguments)."""
    jobs = [(f"i1-{n}", "interval", {"seconds": 1}) for n in range(80)]
    jobs += [(f"i2-{n}", "interval", {"seconds": 2}) for n in range(40)]
    jobs += [(f"slow-{n}", "interval", {"seconds": 2}) for n in range(20)]
    jobs += [(f"c1-{n}", "cron", {"second": "*"}) for n in range(30)]
    jobs += [(f"c2-{n}", "cron", {"second": "*/2"}) for n in range(30)]
    return jobs


class SharedStore:
    """One shared store (SQL table or Redis keys) and its run log, for one test."""

    def __init__(self, kind):
        self.kind = kind
        self.name = f"shared_{uuid.uuid4().hex[:10]}"
        self.log = f"log_{self.name}"
        require_postgres()
        self.url = {"sql": POSTGRES_URL, "mysql": None}.get(kind)
        if kind == "mysql":
            from test_shared_store_api import require_mysql

            self.url = require_mysql()
        if self.url:
            self.spec = f"sql:{self.name}:{self.url}"
        else:
            pytest.importorskip("redis")
            if not reachable("127.0.0.1", 6379):
                pytest.skip("no Redis server at 127.0.0.1:6379")
            self.spec = f"redis:{self.name}:{REDIS_DB}"

    def store(self):
        from apscheduler.jobstores.redis import RedisJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        if self.url:
            return SQLAlchemyJobStore(
                url=self.url, tablename=self.name, shared=True, lease_seconds=LEASE
            )
        return RedisJobStore(
            db=REDIS_DB,
            jobs_key=self.name,
            run_times_key=f"{self.name}.run_times",
            shared=True,
            lease_seconds=LEASE,
        )

    def add_jobs(self, start, end):
        """Adds the jobs through a paused scheduler (which takes no runs itself).
        Returns the expected run times of each job."""
        import _shared_store_worker as worker
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(jobstores={"default": self.store()}, timezone="UTC")
        scheduler.start(paused=True)
        expected = {}
        try:
            for job_id, trigger, arguments in jobs_spec():
                job = scheduler.add_job(
                    worker.record,
                    trigger,
                    args=[job_id],
                    id=job_id,
                    start_date=start,
                    end_date=end,
                    misfire_grace_time=30,
                    coalesce=False,  # every run counts, late or not
                    # A run queued behind slow ones must not hold back the next.
                    max_instances=5,
                    **arguments,
                )
                expected[job_id] = fire_times(job.trigger, start, end)
        finally:
            scheduler.shutdown()
        return expected

    def start_workers(self, count, seconds, *extra):
        return [
            subprocess.Popen(
                [sys.executable, str(WORKER), self.spec, LOG_URL, self.log, str(seconds),
                 "--lease", str(LEASE), *extra],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=TESTS,
            )
            for _ in range(count)
        ]

    def query(self, statement):
        import psycopg2

        connection = psycopg2.connect(LOG_URL)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement.format(log=self.log))
                return cursor.fetchall()
        finally:
            connection.close()

    def cleanup(self):
        import psycopg2

        connection = psycopg2.connect(LOG_URL)
        connection.autocommit = True
        with connection.cursor() as cursor:
            for table in (f"{self.log}_jobs", f"{self.log}_runs", self.name,
                          f"{self.name}_schedulers", f"{self.name}_runs"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        connection.close()
        if self.kind == "mysql":
            from _store_helpers import drop_table

            for table in (self.name, f"{self.name}_schedulers", f"{self.name}_runs"):
                drop_table(self.url, table)
        if self.kind == "redis":
            import redis

            client = redis.Redis(db=REDIS_DB)
            keys = client.keys(f"{self.name}*")
            if keys:
                client.delete(*keys)


# "mysql" runs only where a MySQL 8 / MariaDB 10.6+ server answers (see
# test_shared_store_api.MYSQL_URL); the test scripts start none.
@pytest.fixture(params=["sql", "redis", "mysql"])
def shared(request):
    import _shared_store_worker as worker

    store = SharedStore(request.param)
    worker.create_log(LOG_URL, store.log)
    yield store
    store.cleanup()


def fire_times(trigger, start, end):
    times = []
    previous = None
    now = start
    while True:
        next_time = trigger.get_next_fire_time(previous, now)
        if next_time is None or next_time > end:
            return times
        times.append(round(next_time.timestamp(), 6))
        previous = now = next_time


def next_whole_second(seconds_ahead):
    return datetime.fromtimestamp(math.ceil(time.time()) + seconds_ahead, timezone.utc)


def wait_all(processes, timeout):
    """Each process's (stdout, stderr), once it has ended."""
    return [process.communicate(timeout=timeout) for process in processes]


def logged_runs(shared):
    return [
        (job_id, round(run_time, 6), pid)
        for job_id, run_time, pid in shared.query("SELECT job_id, run_time, pid FROM {log}_runs")
    ]


def test_four_processes_execute_each_run_exactly_once(shared):
    start = next_whole_second(6)
    end = start + timedelta(seconds=WINDOW)
    expected = shared.add_jobs(start, end)
    workers = shared.start_workers(PROCESSES, (end - datetime.now(timezone.utc)).total_seconds() + 3)
    wait_all(workers, timeout=WINDOW + 60)
    assert all(worker.returncode == 0 for worker in workers)

    runs = logged_runs(shared)
    counted = Counter((job_id, run_time) for job_id, run_time, _ in runs)
    twice = [run for run, count in counted.items() if count > 1]
    assert not twice, f"runs executed more than once: {twice[:10]}"
    wanted = {(job_id, t) for job_id, times in expected.items() for t in times}
    missing = wanted - set(counted)
    assert not missing, f"{len(missing)} runs never executed: {sorted(missing)[:10]}"
    assert set(counted) == wanted

    # What the jobs wrote themselves agrees, job by job.
    by_job = dict(shared.query("SELECT job_id, count(*) FROM {log}_jobs GROUP BY job_id"))
    assert by_job == {job_id: len(times) for job_id, times in expected.items()}

    shares = Counter(pid for _, _, pid in runs)
    assert len(shares) == PROCESSES
    assert min(shares.values()) >= len(runs) / PROCESSES / 3, shares
    print(f"\n{shared.kind}: {len(runs)} runs, once each; per process {sorted(shares.values())}")


def test_killed_process_loses_no_later_run_and_repeats_none(shared):
    start = next_whole_second(6)
    end = start + timedelta(seconds=WINDOW)
    expected = shared.add_jobs(start, end)
    workers = shared.start_workers(PROCESSES, (end - datetime.now(timezone.utc)).total_seconds() + 3)
    victim = workers[0]
    # Killed just after the "slow-" jobs (every 2 s) started: some of its runs are
    # in flight.
    kill_at = start + timedelta(seconds=WINDOW // 4 * 2 + 0.2)
    time.sleep(max((kill_at - datetime.now(timezone.utc)).total_seconds(), 0))
    victim.send_signal(signal.SIGKILL)
    killed_at = time.time()
    logs = wait_all(workers[1:], timeout=WINDOW + 60)
    victim.communicate()
    assert all(worker.returncode == 0 for worker in workers[1:])

    runs = logged_runs(shared)
    counted = Counter((job_id, run_time) for job_id, run_time, _ in runs)
    twice = [run for run, count in counted.items() if count > 1]
    assert not twice, f"runs executed more than once: {twice[:10]}"
    executed_by_job = Counter(
        job_id for (job_id,) in shared.query("SELECT job_id FROM {log}_jobs")
    )
    assert all(executed_by_job[job_id] <= len(times) for job_id, times in expected.items())

    # Runs due before the kill (but for those in flight at that moment) and every run
    # due after the lease ran out are executed.
    settled = killed_at + LEASE + 1
    wanted = {
        (job_id, t)
        for job_id, times in expected.items()
        for t in times
        if t < killed_at - 1 or t >= settled
    }
    missing = wanted - set(counted)
    assert not missing, f"{len(missing)} runs never executed: {sorted(missing)[:10]}"

    survivors = {worker.pid for worker in workers[1:]}
    after = Counter(pid for _, t, pid in runs if t >= settled)
    assert set(after) == survivors
    # The runs it had claimed and not finished are not run again, and a survivor
    # says so for each (and for runs that ended just before the kill, whose end the
    # process had not recorded yet). A run is lost when its function never ended
    # anywhere: one that ended just before the kill, with its event not yet logged,
    # took place.
    lost = sum(max(len(times) - executed_by_job[job_id], 0) for job_id, times in expected.items())
    orphans = sum(log.count("it is not run again") for _, log in logs)
    assert orphans >= lost
    print(f"\n{shared.kind}: {len(counted)} runs once each, {lost} lost with the killed process")


def test_job_added_in_one_process_fires_in_another_within_a_second(shared):
    adder = shared.start_workers(1, 4, "--add-job")[0]
    other = shared.start_workers(1, 4)[0]
    out_adder, err_adder = adder.communicate(timeout=60)
    other.communicate(timeout=60)
    added = [line for line in out_adder.splitlines() if line.startswith("added ")]
    assert added, err_adder
    line = added[0]
    _, job_id, added_at = line.split()
    rows = shared.query(f"SELECT pid, at FROM {{log}}_jobs WHERE job_id = '{job_id}'")
    assert len(rows) == 1
    pid, fired_at = rows[0]
    assert pid == other.pid
    latency = fired_at - float(added_at)
    assert latency < 1.0
    print(f"\n{shared.kind}: added in one process, fired in another {latency * 1000:.1f} ms later")
