import asyncio
from datetime import datetime

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

class AsyncIOExecutor(BaseExecutor):
    _eventloop: asyncio.AbstractEventLoop
    _pending_futures: set[asyncio.Future[object]]
    def start(self, scheduler: BaseScheduler, alias: str) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
