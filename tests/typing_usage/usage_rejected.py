"""Incorrect APScheduler code that the stubs must reject.

Each marked line must produce exactly the error named in its ignore comment:
scripts/typecheck.sh runs mypy with --warn-unused-ignores (part of --strict), so a
line the stubs wrongly accept shows up as an unused "type: ignore".
"""

from __future__ import annotations

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


def job_function() -> None:
    pass


def takes_int(value: int) -> None:
    pass


scheduler = BackgroundScheduler()
scheduler.add_job(job_function, trigger=5)  # type: ignore[arg-type]
scheduler.add_job(job_function, args=3)  # type: ignore[arg-type]
scheduler.add_job(job_function, max_instances="3")  # type: ignore[arg-type]
scheduler.add_job(job_function, replace_existing="yes")  # type: ignore[arg-type]
scheduler.add_listener(takes_int, EVENT_JOB_ERROR)  # type: ignore[type-var]
scheduler.add_listener(job_function)  # type: ignore[arg-type]
scheduler.start(True, True)  # type: ignore[call-arg]
scheduler.shutdown(wait=1.5)  # type: ignore[arg-type]

job = scheduler.add_job(job_function, "interval", seconds=1)
job.modify(max_instance=6)  # type: ignore[call-arg]
job.modify(trigger="cron")  # type: ignore[arg-type]
job.id = 5  # type: ignore[assignment]
job.next_run_time.isoformat()  # type: ignore[union-attr]
scheduler.get_job("x").id  # type: ignore[union-attr]

CronTrigger(hour=3.5)  # type: ignore[arg-type]
CronTrigger(hours=3)  # type: ignore[call-arg]
IntervalTrigger(seconds="10")  # type: ignore[arg-type]
CronTrigger().get_next_fire_time(None, None)  # type: ignore[arg-type]


def wrong_event(event: JobExecutionEvent) -> None:
    event.job_id + 1  # type: ignore[operator]


@scheduler.scheduled_job("interval", seconds=1)
def decorated() -> int:
    return 1


decorated().upper()  # type: ignore[attr-defined]


class IncompleteTrigger(BaseTrigger):
    pass


class IncompleteStore(BaseJobStore):
    def lookup_job(self, job_id: str) -> None:
        return None


IncompleteStore()  # type: ignore[abstract]
IncompleteTrigger()  # type: ignore[abstract]
scheduler.add_jobstore(MemoryJobStore, "x")  # type: ignore[arg-type]
