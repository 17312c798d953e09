import logging
from abc import ABCMeta, abstractmethod
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any

from apscheduler.events import JobExecutionEvent
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

class MaxInstancesReachedError(Exception):
    def __init__(self, job: Job) -> None: ...

class BaseExecutor(metaclass=ABCMeta):
    _scheduler: BaseScheduler | None
    _lock: AbstractContextManager[Any] | None  # the scheduler's _create_lock()
    _logger: logging.Logger
    def __init__(self) -> None: ...
    def start(self, scheduler: BaseScheduler, alias: str) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    def submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
    # What an executor plug-in implements, and the callbacks it reports back to.
    @abstractmethod
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
    def _run_job_success(self, job_id: str, events: list[JobExecutionEvent]) -> None: ...
    def _run_job_error(
        self, job_id: str, exc: BaseException, traceback: TracebackType | None = None
    ) -> None: ...

def run_job(
    job: Job, jobstore_alias: str, run_times: list[datetime], logger_name: str
) -> list[JobExecutionEvent]: ...
async def run_coroutine_job(
    job: Job, jobstore_alias: str, run_times: list[datetime], logger_name: str
) -> list[JobExecutionEvent]: ...
