"""
A scheduler process for tests/test_store_crash.py, run as a script:

    python _store_crash_worker.py URL TABLE EVENTS_FILE JOBS FIRST_RUN SECONDS

With JOBS > 0 it adds that many interval jobs (1 s apart runs, the first at the
timestamp FIRST_RUN) to an SQLAlchemyJobStore on URL/TABLE, replacing any there; with
JOBS == 0 it only restores the store's jobs. Either way it runs the scheduler for
SECONDS (for ever when negative: the test kills it) and appends a line per executed or
missed run to EVENTS_FILE: "executed|missed JOB_ID SCHEDULED_TIMESTAMP".

Even-numbered jobs coalesce and have no grace time limit; odd-numbered ones run every
missed time within a grace time of 1 second.
"""

import os
import sys
import time
from datetime import datetime, timezone

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def record():
    """The job: the listener does the recording."""


def main(url, table, events_path, jobs, first_run, seconds):
    # One write() per line on an O_APPEND descriptor: lines from worker threads never
    # interleave, and a kill loses no line already written.
    events = os.open(events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def listener(event):
        kind = "executed" if event.code == EVENT_JOB_EXECUTED else "missed"
        line = f"{kind} {event.job_id} {event.scheduled_run_time.timestamp():.6f}\n"
        os.write(events, line.encode())

    store = SQLAlchemyJobStore(url=url, tablename=table)
    scheduler = BackgroundScheduler(
        jobstores={"default": store}, timezone=timezone.utc
    )
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    start_date = datetime.fromtimestamp(first_run, timezone.utc)
    for i in range(jobs):
        coalesce = i % 2 == 0
        scheduler.add_job(
            "_store_crash_worker:record",
            "interval",
            seconds=1,
            start_date=start_date,
            id=f"job{i:03d}",
            coalesce=coalesce,
            misfire_grace_time=None if coalesce else 1,
            replace_existing=True,
        )

    scheduler.start()
    print("started", flush=True)
    if seconds < 0:
        while True:
            time.sleep(1)
    time.sleep(seconds)
    scheduler.shutdown(wait=True)
    os.close(events)


if __name__ == "__main__":
    url, table, events_path, jobs, first_run, seconds = sys.argv[1:]
    main(url, table, events_path, int(jobs), float(first_run), float(seconds))
