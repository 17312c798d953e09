"""
SQLAlchemyJobStore under a scheduler: jobs that cannot be serialized or restored,
surviving a dropped database connection, and how often the loop queries the store.
"""

import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from _store_helpers import (  # noqa: F401
    REPO,
    TESTS,
    database_url,
    drop_table,
    reference_python,
    require_postgres,
    unique_table,
)

sqlalchemy = pytest.importorskip("sqlalchemy")

from apscheduler.events import EVENT_JOB_EXECUTED  # noqa: E402
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402


def noop():
    pass


def make_closure():
    def closure():
        pass

    return closure


@pytest.fixture
def scheduler(database_url):  # noqa: F811
    url, table = database_url
    store = SQLAlchemyJobStore(url=url, tablename=table)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "func", [lambda: None, make_closure()], ids=["lambda", "closure"]
)
def test_unserializable_job_refused_at_add_job(scheduler, func):
    with pytest.raises(ValueError) as exc:
        scheduler.add_job(func, "interval", seconds=1)

    # APScheduler's message, word for word.
    assert str(exc.value) == (
        f"This Job cannot be serialized since the reference to its callable "
        f"({func!r}) could not be determined. Consider giving a textual reference "
        f"(module:function name) instead."
    )
    assert scheduler.get_jobs() == []


def test_unrestorable_job_is_logged_and_removed(scheduler, caplog):
    scheduler.add_job(noop, "interval", seconds=1, id="gone")
    scheduler.add_job(noop, "interval", seconds=2, id="kept")
    store = scheduler._lookup_jobstore("default")

    # The callable of "gone" no longer exists, as after a refactoring.
    with store.engine.begin() as connection:
        row = store.jobs_t.c
        state = pickle.loads(
            connection.execute(
                sqlalchemy.select(row.job_state).where(row.id == "gone")
            ).scalar()
        )
        state["func"] = "test_store_sqlalchemy:renamed_since"
        connection.execute(
            store.jobs_t.update()
            .where(row.id == "gone")
            .values(job_state=pickle.dumps(state))
        )

    with caplog.at_level(logging.ERROR, "apscheduler.jobstores.default"):
        assert [job.id for job in scheduler.get_jobs()] == ["kept"]

    [record] = caplog.records
    assert record.getMessage() == 'Unable to restore job "gone" -- removing it'
    assert record.exc_info[0] is LookupError
    assert store.lookup_job("gone") is None
    assert [job.id for job in store.get_all_jobs()] == ["kept"]


def run_through_outage(url, outage, caplog):
    """
    Runs five jobs every 0.2 s on PostgreSQL, calls ``outage()`` once they have run,
    then checks that they run again afterwards and that none was lost. The pass that
    meets the outage fails and says so; the loop tries again after
    jobstore_retry_interval, on fresh connections.
    """
    table = unique_table()
    store = SQLAlchemyJobStore(url=url, tablename=table)
    runs = []
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        jobstore_retry_interval=0.3,
        timezone=timezone.utc,
    )
    scheduler.add_listener(lambda event: runs.append(time.monotonic()), EVENT_JOB_EXECUTED)
    start = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    for i in range(5):
        scheduler.add_job(noop, "interval", seconds=0.2, start_date=start, id=f"job{i}")
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        while len(runs) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(runs) >= 10

        with caplog.at_level(logging.WARNING):
            outage()
            after = time.monotonic()
            deadline = after + 15
            while (
                sum(run > after + 0.5 for run in runs) < 10
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
        assert sum(run > after + 0.5 for run in runs) >= 10
        # The pass that met the outage failed and said so.
        assert any(
            record.name.startswith("apscheduler") and record.levelno >= logging.WARNING
            for record in caplog.records
        )
        assert sorted(job.id for job in scheduler.get_jobs()) == [
            f"job{i}" for i in range(5)
        ]
    finally:
        scheduler.shutdown()
        drop_table(url, table)


def test_dropped_connections_are_survived(caplog):
    """Every connection of the scheduler's pool is killed by the server."""
    url = require_postgres()
    admin = sqlalchemy.create_engine(url)

    def drop_connections():
        with admin.connect() as connection:
            killed = connection.execute(
                sqlalchemy.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = ''"
                )
            ).fetchall()
        assert killed

    try:
        run_through_outage(url, drop_connections, caplog)
    finally:
        admin.dispose()


def test_server_restart_is_survived(caplog):
    """The PostgreSQL server restarts (scripts/services.sh restart-postgres)."""
    url = require_postgres()

    def restart():
        proc = subprocess.run(
            ["bash", str(REPO / "scripts" / "services.sh"), "restart-postgres"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot restart the PostgreSQL server: {proc.stdout.strip()}")

    run_through_outage(url, restart, caplog)


def count_queries(python, db_path):
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.run(
        [str(python), str(TESTS / "_store_query_count.py"), str(db_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_loop_queries_the_store_no_more_than_apscheduler(tmp_path):
    ours = count_queries(sys.executable, tmp_path / "ours.sqlite")
    reference = count_queries(reference_python(), tmp_path / "reference.sqlite")

    # Idle: no statement at all while the next run is a day away.
    assert ours["idle"] == reference["idle"] == 0
    # Busy: per run, no more statements than APScheduler sends. Timing decides the
    # exact number of runs on each side, so it is compared per run, with room for
    # the fixed statements of adding and removing the jobs.
    assert ours["runs"] > 0 and reference["runs"] > 0
    per_run = reference["busy"] / reference["runs"]
    assert ours["busy"] <= per_run * ours["runs"] * 1.1 + 6


def test_constructor_options(database_url):  # noqa: F811
    url, table = database_url
    metadata = sqlalchemy.MetaData()
    schema = "main" if url.startswith("sqlite") else "public"
    store = SQLAlchemyJobStore(
        url=url,
        tablename=table,
        metadata=metadata,
        tableschema=schema,
        engine_options={"pool_pre_ping": True},
        pickle_protocol=2,
    )
    assert store.jobs_t.metadata is metadata
    assert store.jobs_t.schema == schema
    assert store.pickle_protocol == 2
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        scheduler.add_job(noop, "interval", seconds=5, id="job")
        with store.engine.connect() as connection:
            state = connection.execute(sqlalchemy.select(store.jobs_t.c.job_state)).scalar()
        # Protocol 2 pickles start with PROTO 2.
        assert state[:2] == b"\x80\x02"
        assert store.lookup_job("job").trigger.interval == timedelta(seconds=5)
        assert repr(store) == f"<SQLAlchemyJobStore (url={store.engine.url})>"
    finally:
        scheduler.shutdown()


def test_database_errors_keep_sqlalchemy_classes(tmp_path):
    store = SQLAlchemyJobStore(url=f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    store.start(None, "default")
    try:
        store.jobs_t.drop(store.engine)
        with pytest.raises(sqlalchemy.exc.OperationalError, match="no such table"):
            store.get_due_jobs(datetime.now(timezone.utc))
        with pytest.raises(sqlalchemy.exc.OperationalError, match="no such table"):
            store.remove_job("job")
    finally:
        store.shutdown()


def make_job(scheduler, job_id):
    from apscheduler.job import Job
    from apscheduler.triggers.interval import IntervalTrigger

    trigger = IntervalTrigger(seconds=1, timezone=timezone.utc)
    return Job(
        scheduler,
        id=job_id,
        func=noop,
        args=(),
        kwargs={},
        trigger=trigger,
        executor="default",
        name=None,
        misfire_grace_time=1,
        coalesce=False,
        max_instances=1,
        next_run_time=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize(
    "url_kind", ["file", "file-nullpool", "memory"], ids=lambda kind: kind
)
def test_sqlite_pools_and_threads(tmp_path, url_kind):
    """
    The SQLite statements share one kept connection under a QueuePool (a file), and
    take one per statement otherwise; either way concurrent callers are safe.
    """
    from sqlalchemy.pool import NullPool

    options = {"poolclass": NullPool} if url_kind == "file-nullpool" else {}
    url = "sqlite://" if url_kind == "memory" else f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    store = SQLAlchemyJobStore(url=url, engine_options=options)
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    store.start(scheduler, "default")
    try:
        # sqlite:// is one in-memory database per thread (SQLAlchemy's pool for it
        # keeps a connection per thread), so it is used from this thread only.
        threads = 1 if url_kind == "memory" else 4
        errors = []

        def add_many(worker):
            try:
                for i in range(25):
                    store.add_job(make_job(scheduler, f"w{worker}-{i}"))
                    assert store.lookup_job(f"w{worker}-{i}").id == f"w{worker}-{i}"
                    if i % 5 == 0:
                        store.remove_job(f"w{worker}-{i}")
            except BaseException as exc:  # reported below
                errors.append(exc)

        if url_kind == "memory":
            add_many(0)
        else:
            workers = [
                threading.Thread(target=add_many, args=(n,)) for n in range(threads)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        assert errors == []
        assert len(store.get_all_jobs()) == threads * 20
        assert len(store.get_due_jobs(datetime(2031, 1, 1, tzinfo=timezone.utc))) == (
            threads * 20
        )
    finally:
        store.shutdown()


def test_subclass_overriding_get_jobs_is_used_for_due_jobs(tmp_path):
    calls = []

    class FilteringStore(SQLAlchemyJobStore):
        def _get_jobs(self, *conditions):
            calls.append(len(conditions))
            return [job for job in super()._get_jobs(*conditions) if job.id != "hidden"]

    store = FilteringStore(url=f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    store.start(scheduler, "default")
    try:
        store.add_job(make_job(scheduler, "shown"))
        store.add_job(make_job(scheduler, "hidden"))
        due = store.get_due_jobs(datetime(2031, 1, 1, tzinfo=timezone.utc))
        assert [job.id for job in due] == ["shown"]
        assert [job.id for job in store.get_all_jobs()] == ["shown"]
        assert calls == [1, 0]
    finally:
        store.shutdown()


def test_store_api(database_url):  # noqa: F811
    """The store's whole API on both paths: SQLite's and SQLAlchemy's (PostgreSQL)."""
    from apscheduler.jobstores.base import ConflictingIdError, JobLookupError

    url, table = database_url
    store = SQLAlchemyJobStore(url=url, tablename=table)
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    store.start(scheduler, "default")
    try:
        times = {
            "late": datetime(2030, 5, 3, tzinfo=timezone.utc),
            "early": datetime(2030, 5, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
            "middle": datetime(2030, 5, 2, tzinfo=timezone.utc),
        }
        for job_id, next_run_time in times.items():
            job = make_job(scheduler, job_id)
            job.next_run_time = next_run_time
            store.add_job(job)
        paused = make_job(scheduler, "paused")
        paused.next_run_time = None
        store.add_job(paused)

        with pytest.raises(ConflictingIdError):
            store.add_job(make_job(scheduler, "early"))
        assert store.lookup_job("missing") is None
        job = store.lookup_job("early")
        assert job.next_run_time == times["early"]
        assert (job._scheduler, job._jobstore_alias) == (scheduler, "default")

        assert store.get_next_run_time() == times["early"]
        assert [j.id for j in store.get_all_jobs()] == ["early", "middle", "late", "paused"]
        due = store.get_due_jobs(datetime(2030, 5, 2, tzinfo=timezone.utc))
        assert [j.id for j in due] == ["early", "middle"]

        job.next_run_time = datetime(2030, 6, 1, tzinfo=timezone.utc)
        job.max_instances = 7
        store.update_job(job)
        assert store.lookup_job("early").max_instances == 7
        assert store.get_next_run_time() == times["middle"]
        with pytest.raises(JobLookupError):
            store.update_job(make_job(scheduler, "missing"))

        store.remove_job("middle")
        with pytest.raises(JobLookupError):
            store.remove_job("middle")
        assert [j.id for j in store.get_all_jobs()] == ["late", "early", "paused"]
        store.remove_all_jobs()
        assert store.get_all_jobs() == []
        assert store.get_next_run_time() is None
    finally:
        store.shutdown()
