"""
Every persistent store under a running scheduler: jobs fire, a new store instance
restores them, and a job whose callable has disappeared is logged and removed.

Redis, ZooKeeper and etcd run against the servers scripts/services.sh starts (the
tests skip without them); MongoDB, which has no Debian package, runs on mongomock's
in-process client. APScheduler's own store tests (run by
scripts/run_reference_tests.py) cover each store's API against the same servers.
"""

import importlib
import logging
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from _store_helpers import reachable

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler


def redis_store(name):
    pytest.importorskip("redis")
    if not reachable("localhost", 6379):
        pytest.skip("no Redis server on localhost:6379")
    from apscheduler.jobstores.redis import RedisJobStore

    return RedisJobStore(jobs_key=f"{name}.jobs", run_times_key=f"{name}.run_times")


def zookeeper_store(name):
    pytest.importorskip("kazoo")
    if not reachable("localhost", 2181):
        pytest.skip("no ZooKeeper server on localhost:2181")
    from apscheduler.jobstores.zookeeper import ZooKeeperJobStore

    return ZooKeeperJobStore(path=f"/{name}", close_connection_on_exit=True)


def etcd_store(name):
    pytest.importorskip("etcd3")
    if not reachable("localhost", 2379):
        pytest.skip("no etcd server on localhost:2379")
    from apscheduler.jobstores.etcd import EtcdJobStore

    return EtcdJobStore(path=f"/{name}")


# One mongomock client stands for the server: stores made from it share its data.
_mongomock_client = None


def mongodb_store(name):
    global _mongomock_client
    mongomock = pytest.importorskip("mongomock")
    from apscheduler.jobstores.mongodb import MongoDBJobStore

    if _mongomock_client is None:
        _mongomock_client = mongomock.MongoClient()
    return MongoDBJobStore(database=name, client=_mongomock_client)


FACTORIES = {
    "redis": redis_store,
    "zookeeper": zookeeper_store,
    "etcd": etcd_store,
    "mongodb": mongodb_store,
}


@pytest.fixture(params=sorted(FACTORIES))
def new_store(request):
    """A function that makes a new store instance over the same data each call."""
    name = f"apscheduler_test_{uuid.uuid4().hex[:12]}"
    factory = FACTORIES[request.param]
    made = []

    def new():
        made.append(factory(name))
        return made[-1]

    yield new
    if made:
        cleanup = factory(name)
        cleanup.start(None, "cleanup")
        cleanup.remove_all_jobs()
        cleanup.shutdown()


def tick():
    pass


@pytest.fixture
def vanishing_module(tmp_path, monkeypatch):
    """A module whose function a job uses, deleted once the job is stored."""
    name = f"_vanishing_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("def work():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)

    def vanish():
        (tmp_path / f"{name}.py").unlink()
        sys.modules.pop(name)
        importlib.invalidate_caches()

    return module, vanish


def test_jobs_fire_and_are_restored(new_store, vanishing_module, caplog):
    module, vanish = vanishing_module
    ran = threading.Event()
    runs = []

    def listener(event):
        runs.append(event.job_id)
        if len(runs) >= 6:
            ran.set()

    scheduler = BackgroundScheduler(jobstores={"default": new_store()}, timezone=timezone.utc)
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    start = datetime.now(timezone.utc) + timedelta(seconds=0.1)
    for i in range(3):
        scheduler.add_job(tick, "interval", seconds=0.2, start_date=start, id=f"job{i}")
    later = datetime.now(timezone.utc) + timedelta(days=1)
    scheduler.add_job(module.work, "date", run_date=later, id="vanishing")
    scheduler.add_job(tick, "date", run_date=later, id="paused").pause()
    scheduler.start()
    try:
        assert ran.wait(10)
    finally:
        scheduler.shutdown()
    assert {"job0", "job1", "job2"} <= set(runs)

    vanish()
    store = new_store()
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=timezone.utc)
    scheduler.start(paused=True)
    try:
        with caplog.at_level(logging.ERROR, "apscheduler.jobstores.default"):
            jobs = scheduler.get_jobs()
        # Same next run time: their order among themselves is the backend's.
        assert sorted(job.id for job in jobs[:3]) == ["job0", "job1", "job2"]
        assert [job.id for job in jobs[3:]] == ["paused"]
        assert jobs[3].next_run_time is None
        assert all(job.next_run_time > start for job in jobs[:3])
        assert all(job._jobstore_alias == "default" for job in jobs)
        messages = [record.getMessage() for record in caplog.records]
        # Redis hands back the raw key, and the message shows it, as in APScheduler.
        assert messages in (
            ['Unable to restore job "vanishing" -- removing it'],
            ['Unable to restore job "b\'vanishing\'" -- removing it'],
        )
        assert store.lookup_job("vanishing") is None
        assert store.lookup_job("job1").func is tick
    finally:
        scheduler.shutdown()


def test_rethinkdb_store_without_a_server():
    """No RethinkDB server can be installed here: what runs without one is checked."""
    pytest.importorskip("rethinkdb")
    from apscheduler.jobstores.rethinkdb import RethinkDBJobStore

    with pytest.raises(ValueError, match='"database"'):
        RethinkDBJobStore(database="")
    with pytest.raises(ValueError, match='"table"'):
        RethinkDBJobStore(table="")
    store = RethinkDBJobStore(database="jobs_db", table="jobs_table", port=1)
    assert (store.database, store.table_name, store.connect_args) == (
        "jobs_db",
        "jobs_table",
        {"port": 1},
    )
    assert repr(store) == "<RethinkDBJobStore (connection=None)>"


@pytest.mark.parametrize("store_name", ["zookeeper", "etcd"])
def test_repr_logs_nothing(store_name, caplog):
    store = FACTORIES[store_name](f"apscheduler_test_{uuid.uuid4().hex[:12]}")
    with caplog.at_level(logging.DEBUG):
        assert repr(store).startswith(f"<{type(store).__name__} (client=")
    assert caplog.records == []
    if store_name == "etcd":
        store.shutdown()
