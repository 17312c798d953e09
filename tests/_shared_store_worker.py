"""
One scheduler process sharing a job store with others, for tests/test_shared_store.py.

    python _shared_store_worker.py STORE LOG_URL LOG SECONDS [--lease S] [--add-job]

STORE is ``sql:<table>:<SQLAlchemy URL>`` or ``redis:<jobs key>:<db number>``. The
process runs a
BackgroundScheduler on that store, in shared mode, for SECONDS, then shuts it down
(waiting for its jobs). Runs are logged in the PostgreSQL database at LOG_URL:

- ``<LOG>_jobs`` (job_id, pid, at): written by the job itself when it runs;
- ``<LOG>_runs`` (job_id, run_time, pid): written by an EVENT_JOB_EXECUTED listener
  with the run's scheduled time, which the job cannot know.

With ``--add-job`` the process adds, once it sees another live process, a job that
rendezvous hashing gives to another process, and prints its ID and the time it was
added (``added <id> <timestamp>``).
"""

import logging
import os
import sys
import threading
import time

import psycopg2

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores import _shared
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

_log = None
_log_name = None
_log_lock = threading.Lock()


def open_log(url, name):
    global _log, _log_name
    _log = psycopg2.connect(url)
    _log.autocommit = True
    _log_name = name


def create_log(url, name):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name}_jobs (job_id text, pid int, at float8)")
        cursor.execute(f"CREATE TABLE {name}_runs (job_id text, run_time float8, pid int)")
    connection.close()


def write_log(statement, params):
    with _log_lock, _log.cursor() as cursor:
        cursor.execute(statement, params)


def record(job_id):
    """The jobs' function: logs that the job ran, here and now. The "slow-" jobs
    take half a second first, so that a process killed just after they started
    dies with runs in flight."""
    if job_id.startswith("slow-"):
        time.sleep(0.5)
    write_log(
        f"INSERT INTO {_log_name}_jobs (job_id, pid, at) VALUES (%s, %s, %s)",
        (job_id, os.getpid(), time.time()),
    )


def on_executed(event):
    write_log(
        f"INSERT INTO {_log_name}_runs (job_id, run_time, pid) VALUES (%s, %s, %s)",
        (event.job_id, event.scheduled_run_time.timestamp(), os.getpid()),
    )


def make_store(spec, lease):
    kind, name, where = spec.split(":", 2)
    if kind == "sql":
        return SQLAlchemyJobStore(url=where, tablename=name, shared=True, lease_seconds=lease)
    return RedisJobStore(
        db=int(where),
        jobs_key=name,
        run_times_key=f"{name}.run_times",
        shared=True,
        lease_seconds=lease,
    )


def add_job_for_another(scheduler, store):
    """Adds a date job, due now, that another live process owns."""
    sharing = store._sharing
    deadline = time.monotonic() + 20
    while len(sharing._members) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    others = set(sharing._members) - {sharing.member}
    if not others:
        raise SystemExit("no other process joined the shared store")
    number = 0
    while _shared.owner_of(f"added-{number}", sharing._members) not in others:
        number += 1
    job_id = f"added-{number}"
    added_at = time.time()
    scheduler.add_job(record, "date", args=[job_id], id=job_id, misfire_grace_time=30)
    print(f"added {job_id} {added_at}", flush=True)


def main():
    logging.basicConfig(level=logging.WARNING, format="%(process)d %(name)s: %(message)s")
    spec, log_url, log_name, seconds = sys.argv[1:5]
    lease = float(sys.argv[sys.argv.index("--lease") + 1]) if "--lease" in sys.argv else 3.0
    open_log(log_url, log_name)
    store = make_store(spec, lease)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone="UTC")
    scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    scheduler.start()
    print("ready", os.getpid(), flush=True)
    if "--add-job" in sys.argv:
        add_job_for_another(scheduler, store)
    time.sleep(float(seconds))
    scheduler.shutdown(wait=True)
    print("done", flush=True)


if __name__ == "__main__":
    # The jobs name their function "_shared_store_worker:record": let that be this
    # very module, whose log connection main() opens.
    sys.modules.setdefault("_shared_store_worker", sys.modules["__main__"])
    main()
