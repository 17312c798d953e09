"""A pass of the scheduler's loop saves its changes to an SQL job store in one
transaction, and a pass whose transaction fails runs none of that store's jobs, which
stay due and run once in a later pass."""

import logging
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

pytest.importorskip("sqlalchemy")

from apscheduler.executors.debug import DebugExecutor  # noqa: E402
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING  # noqa: E402

UTC = timezone.utc
RUNS = []


def record(name):
    RUNS.append(name)


@pytest.fixture
def database(tmp_path):
    return tmp_path / "jobs.sqlite"


def scheduler_on(database):
    RUNS.clear()
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{database}")},
        executors={"default": DebugExecutor()},
        job_defaults={"misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.start(paused=True)
    past = datetime.now(UTC) - timedelta(seconds=10)
    for name in ("a", "b", "bad", "c"):
        scheduler.add_job(record, "date", run_date=past, args=[name], id=name)
    scheduler.add_job(record, "interval", hours=1, args=["every"], id="every", next_run_time=past)
    # Running, without the wake-up resume() would send to the scheduler's thread:
    # the test runs the passes itself.
    scheduler.state = STATE_RUNNING
    return scheduler


def commits_seen(database):
    """Counts the other connections' commits to the file (PRAGMA data_version)."""
    watcher = sqlite3.connect(database)

    def seen():
        return watcher.execute("PRAGMA data_version").fetchone()[0]

    return seen


def test_a_pass_commits_once_for_all_its_jobs(database):
    scheduler = scheduler_on(database)
    seen = commits_seen(database)
    try:
        before = seen()
        scheduler._process_jobs()
        assert seen() - before == 1
        assert sorted(RUNS) == ["a", "b", "bad", "c", "every"]
        assert [job.id for job in scheduler.get_jobs()] == ["every"]
    finally:
        scheduler.shutdown()


def test_a_failed_transaction_runs_nothing_and_the_next_pass_runs_each_job_once(
    database, caplog
):
    scheduler = scheduler_on(database)
    # The database refuses any change to the row of job "bad".
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TRIGGER refuse BEFORE DELETE ON apscheduler_jobs "
            "WHEN OLD.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    try:
        with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
            with pytest.raises(Exception, match="refused"):
                scheduler._process_jobs()
        assert RUNS == []
        assert "Error saving the changes of this pass" in caplog.text
        assert "rolled back" in caplog.text
        # Nothing was saved: every job is still due.
        assert sorted(job.id for job in scheduler.get_jobs()) == ["a", "b", "bad", "c", "every"]

        # The next pass takes the jobs one by one: all but "bad" run, once.
        with pytest.raises(Exception, match="refused"):
            scheduler._process_jobs()
        assert sorted(RUNS) == ["a", "b", "c", "every"]
        assert sorted(job.id for job in scheduler.get_jobs()) == ["bad", "every"]

        # Once the store accepts every change again, passes are batched again.
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TRIGGER refuse")
        scheduler._process_jobs()
        assert sorted(RUNS) == ["a", "b", "bad", "c", "every"]
        seen = commits_seen(database)
        # Added while paused, so that the scheduler's own thread is not woken to run
        # the pass this test runs.
        scheduler.state = STATE_PAUSED
        scheduler.add_job(record, "date", run_date=datetime.now(UTC), args=["d"], id="d")
        scheduler.add_job(record, "date", run_date=datetime.now(UTC), args=["e"], id="e")
        scheduler.state = STATE_RUNNING
        before = seen()
        scheduler._process_jobs()
        assert seen() - before == 1
        assert RUNS[-2:] == ["d", "e"]
    finally:
        scheduler.shutdown()
