from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

class TornadoExecutor(BaseExecutor):
    executor: ThreadPoolExecutor
    # the scheduler's tornado IOLoop; typed loosely so that tornado is not needed
    _ioloop: Any
    def __init__(self, max_workers: int = 10) -> None: ...
    def start(self, scheduler: BaseScheduler, alias: str) -> None: ...
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
