"""Scheduler events: listeners with event masks.

As in the reference's user guide, a listener added with
EVENT_JOB_EXECUTED | EVENT_JOB_ERROR hears about each run of a job, and whether it
raised; a second listener with EVENT_ALL sees the scheduler's own events too
(started, job added, removed, shut down, ...). One job succeeds, one fails.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from apscheduler import events
from apscheduler.events import (
    EVENT_ALL,
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    JobExecutionEvent,
    SchedulerEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler

# event code -> constant name, for printing
EVENT_NAMES = {
    getattr(events, name): name
    for name in events.__all__
    if name.startswith("EVENT_") and name != "EVENT_ALL"
}


_print_lock = threading.Lock()


def say(line: str) -> None:
    # Listeners run in the scheduler's and the workers' threads: one line at a time.
    with _print_lock:
        print(line, flush=True)


def answer() -> int:
    return 42


def fail() -> None:
    raise ValueError("this job fails on purpose")


def my_listener(event: JobExecutionEvent) -> None:
    if event.exception:
        say(f"my_listener: the job {event.job_id} crashed :( ({event.exception!r})")
    else:
        say(f"my_listener: the job {event.job_id} worked :) and returned {event.retval!r}")


# job runs reported to every_event, the listener added last (listeners are called in
# the order they were added)
finished: list[int] = []


def every_event(event: SchedulerEvent) -> None:
    say(f"every_event: {EVENT_NAMES.get(event.code, event.code)}")
    if event.code & (EVENT_JOB_EXECUTED | EVENT_JOB_ERROR):
        finished.append(event.code)


def main() -> None:
    # The failing job's traceback is logged as APScheduler does; keep the output short.
    logging.basicConfig(level=logging.CRITICAL)

    scheduler = BackgroundScheduler()
    scheduler.add_listener(my_listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.add_listener(every_event, EVENT_ALL)
    scheduler.start()

    soon = datetime.now() + timedelta(seconds=0.2)
    scheduler.add_job(answer, "date", run_date=soon, id="answer")
    scheduler.add_job(fail, "date", run_date=soon, id="fail")
    # Wait until both runs have been reported (a busy machine may be slow).
    deadline = time.monotonic() + 10
    while len(finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    scheduler.remove_listener(my_listener)
    scheduler.shutdown()
    say("Done.")


if __name__ == "__main__":
    main()
