from datetime import datetime

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job

class GeventExecutor(BaseExecutor):
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
