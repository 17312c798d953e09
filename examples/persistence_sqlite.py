"""Jobs that survive a restart: a scheduler keeps its jobs in an SQLite file.

The first run adds a job that fires every second and stops after its first runs, as a
process that is shut down would. The second run, a new scheduler on the same file,
finds the job there with its schedule, runs it again and removes it. Run it with a
path to keep the file (``python persistence_sqlite.py jobs.sqlite``); without one it
uses a temporary file and runs both halves in turn.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from datetime import timezone

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler


def tick() -> str:
    return "tick"


def run_scheduler(path: str, first: bool) -> None:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
        timezone=timezone.utc,
    )
    ran = threading.Event()

    def on_executed(event: JobExecutionEvent) -> None:
        print(f"ran {event.job_id}: {event.retval}")
        ran.set()

    scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    if first:
        # A text reference ("module:function") is what a persistent store saves, so
        # a restarted process finds the function again.
        scheduler.add_job(
            f"{__name__}:tick", "interval", seconds=1, id="ticker", replace_existing=True
        )
    scheduler.start()
    print("jobs in the file:", [job.id for job in scheduler.get_jobs()])
    if not ran.wait(10):
        raise SystemExit("the job did not run")
    if not first:
        scheduler.remove_job("ticker")
    scheduler.shutdown()


def main() -> None:
    if len(sys.argv) > 1:
        path = sys.argv[1]
        run_scheduler(path, first=not os.path.exists(path))
    else:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "jobs.sqlite")
            print("first process:")
            run_scheduler(path, first=True)
            print("second process, same file:")
            run_scheduler(path, first=False)
    print("Done.")


if __name__ == "__main__":
    main()
