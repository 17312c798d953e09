"""Run a BackgroundScheduler for about five seconds with three jobs, then exit.

An interval job, a cron job and a one-off date job fire on the default thread pool;
a listener reports each run as the scheduler sees it. This is APScheduler 3.x code
unchanged: only the engine underneath is Rust.
"""

import logging
import threading
import time
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

RUN_FOR = 5


def heartbeat():
    print(f"{datetime.now():%H:%M:%S.%f}"[:-3] + f"  heartbeat  on {threading.current_thread().name}")


def even_seconds():
    print(f"{datetime.now():%H:%M:%S.%f}"[:-3] + "  even second (cron)")


def once():
    raise RuntimeError("a job that fails is reported, and the scheduler goes on")


def report(event):
    outcome = "raised " + repr(event.exception) if event.exception else "ran"
    print(f"             listener: {event.job_id} {outcome}")


def main() -> None:
    scheduler = BackgroundScheduler()
    scheduler.add_job(heartbeat, "interval", seconds=1, id="heartbeat")
    scheduler.add_job(even_seconds, "cron", second="*/2", id="even-seconds")
    scheduler.add_job(once, "date", run_date=datetime.now() + timedelta(seconds=2.5), id="once")
    scheduler.add_listener(report, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    # The failing job's traceback is logged as with APScheduler; keep the output short.
    logging.basicConfig(level=logging.CRITICAL)

    scheduler.start()
    print(f"Scheduler started; running for {RUN_FOR} seconds:")
    scheduler.print_jobs()
    time.sleep(RUN_FOR)
    scheduler.shutdown()
    print("Done.")


if __name__ == "__main__":
    main()
