from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

class TwistedExecutor(BaseExecutor):
    # the scheduler's twisted reactor; typed loosely so that twisted is not needed
    _reactor: Any
    def start(self, scheduler: BaseScheduler, alias: str) -> None: ...
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
