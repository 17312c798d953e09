"""
Crash safety of SQLAlchemyJobStore: a process running 500 jobs is killed with SIGKILL
while they fire, and a new process restores them from the database.

Checked: every job is still there, once; no scheduled run executes twice across the
two processes; the restarted process applies ``coalesce`` (one run for the times it
missed) and ``misfire_grace_time`` (runs later than the grace time are reported missed,
the others run) to the times it missed, as APScheduler does.
"""

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest

from _store_helpers import TESTS, database_url  # noqa: F401

pytest.importorskip("sqlalchemy")

JOBS = 500
INTERVAL = 1.0
# How long the store stays without a scheduler: over two intervals, and over the odd
# jobs' grace time, so that each job has missed runs of both kinds.
DOWNTIME = 2.5


def run_worker(url, table, events, jobs, first_run, seconds, output):
    """Starts the worker; its output goes to the file ``output``."""
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    args = [url, table, str(events), str(jobs), repr(first_run), str(seconds)]
    with open(output, "wb") as out:
        return subprocess.Popen(
            [sys.executable, str(TESTS / "_store_crash_worker.py"), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def read_events(path):
    """``[(kind, job_id, scheduled timestamp)]`` in the order they were written."""
    if not path.exists():
        return []
    events = []
    # The last line may still be being written: only whole lines count.
    for line in path.read_text().split("\n")[:-1]:
        kind, job_id, timestamp = line.split()
        events.append((kind, job_id, float(timestamp)))
    return events


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def stored_run_times(url, table):
    """Job ID -> next run time (UTC timestamp or None), read straight from the table."""
    from sqlalchemy import MetaData, Table, create_engine, select

    engine = create_engine(url)
    try:
        jobs_t = Table(table, MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            rows = connection.execute(select(jobs_t.c.id, jobs_t.c.next_run_time))
            return {job_id: next_run_time for job_id, next_run_time in rows}
    finally:
        engine.dispose()


def test_sigkill_while_firing(database_url, tmp_path):  # noqa: F811
    url, table = database_url
    before = tmp_path / "before.log"
    after = tmp_path / "after.log"
    # The first runs are due once the jobs are surely in the store.
    first_run = math.ceil(time.time()) + 2.0

    process = run_worker(
        url, table, before, JOBS, first_run, -1, tmp_path / "before.out"
    )
    try:
        # Killed in the middle of the second round of runs.
        wait_for(
            lambda: len(read_events(before)) >= JOBS + JOBS // 3,
            timeout=30,
            what="the first runs",
        )
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed_at = time.time()

    # Every job survived the kill, each once (the ID is the table's primary key).
    at_kill = stored_run_times(url, table)
    assert sorted(at_kill) == [f"job{i:03d}" for i in range(JOBS)]
    assert all(next_run_time is not None for next_run_time in at_kill.values())

    time.sleep(max(0.0, killed_at + DOWNTIME - time.time()))
    restart = time.time()
    # The times each job missed while no process ran: from its stored next run
    # time up to the restart (each run is scheduled INTERVAL after the last).
    missed = {
        job_id: [
            t
            for t in (next_run_time + k * INTERVAL for k in range(20))
            if t <= restart
        ]
        for job_id, next_run_time in at_kill.items()
    }

    def caught_up():
        counts = Counter(job_id for _, job_id, _ in read_events(after))
        return all(
            # the odd jobs: each missed time, then one run on time
            counts[job_id] >= (1 if int(job_id[3:]) % 2 == 0 else len(times) + 1)
            for job_id, times in missed.items()
        )

    process = run_worker(url, table, after, 0, first_run, -1, tmp_path / "after.out")
    try:
        wait_for(caught_up, timeout=60, what="the restored jobs to run")
    finally:
        process.kill()
        process.wait()
    output = (tmp_path / "after.out").read_text()
    assert "started" in output
    assert "Unable to restore" not in output
    assert "Traceback" not in output

    # Still every job, once.
    assert sorted(stored_run_times(url, table)) == sorted(at_kill)

    # No scheduled run executed twice, in one process or across both.
    executed = Counter(
        (job_id, timestamp)
        for kind, job_id, timestamp in read_events(before) + read_events(after)
        if kind == "executed"
    )
    assert [run for run, count in executed.items() if count > 1] == []

    by_job = defaultdict(list)
    for kind, job_id, timestamp in read_events(after):
        by_job[job_id].append((timestamp, kind))

    for job_id, next_run_time in at_kill.items():
        events = sorted(by_job[job_id])
        job_missed = missed[job_id]
        assert len(job_missed) >= 2, (job_id, next_run_time, restart)
        times = [t for t, _ in events]
        # Every event falls on the job's schedule, from the stored next run time on.
        for t in times:
            assert (t - next_run_time) / INTERVAL == pytest.approx(
                round((t - next_run_time) / INTERVAL), abs=1e-6
            )
            assert t >= next_run_time - 1e-6

        if int(job_id[3:]) % 2 == 0:
            # coalesce=True: the missed times became one run, at the latest of them
            # (or at a time found due a little later, as the process started).
            assert [kind for _, kind in events] == ["executed"] * len(events)
            assert times[0] >= job_missed[-1] - 1e-6
        else:
            # coalesce=False, grace time 1 s: each missed time is reported once,
            # as missed when it was over 1 s late (the first one surely was) or
            # as executed.
            assert len(set(times)) == len(times)
            assert times[: len(job_missed)] == pytest.approx(job_missed)
            assert events[0][1] == "missed"

    # Late enough runs did execute (which ones depends on the machine's speed).
    assert any(
        kind == "executed"
        for job_id, events in by_job.items()
        if int(job_id[3:]) % 2
        for _, kind in events
    )
