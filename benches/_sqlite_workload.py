"""
One measurement of bench_sqlite.py, run under the interpreter being measured:

    python _sqlite_workload.py DB_PATH N

Prints one JSON line: ``add`` (add_job calls per second into a paused scheduler whose
default store is an SQLAlchemyJobStore on the SQLite file DB_PATH) and ``fire`` (runs
per second from resume() until all N jobs, due at once, have executed and been removed
from the store). Only public APScheduler 3.x API is used, so both packages run it.
"""

import json
import os
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def job():
    pass


def main(db_path, n):
    if os.path.exists(db_path):
        os.remove(db_path)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{db_path}")},
        job_defaults={"misfire_grace_time": None},
        timezone=timezone.utc,
    )
    done = threading.Event()
    executed = [0]

    def listener(event):
        executed[0] += 1
        if executed[0] == n:
            done.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)

    # Every job is due at once when the scheduler resumes.
    run_date = datetime.now(timezone.utc) - timedelta(seconds=1)
    started = time.perf_counter()
    for i in range(n):
        scheduler.add_job(job, "date", run_date=run_date, id=f"job{i}")
    add_seconds = time.perf_counter() - started

    started = time.perf_counter()
    scheduler.resume()
    if not done.wait(600):
        raise SystemExit(f"only {executed[0]} of {n} runs within 600 s")
    # Fired means run and gone from the store.
    while scheduler.get_jobs():
        time.sleep(0.01)
    fire_seconds = time.perf_counter() - started
    scheduler.shutdown()
    print(json.dumps({"add": n / add_seconds, "fire": n / fire_seconds}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
