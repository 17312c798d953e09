import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime, tzinfo
from os import PathLike
from typing import Any, Final, TypeVar

from _typeshed import SupportsRead, SupportsWrite

from apscheduler.events import SchedulerEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import _Undefined

_F = TypeVar("_F", bound=Callable[..., Any])
# A listener may accept any kind of event; the mask decides which ones it receives,
# so a listener for job execution events can be typed as taking JobExecutionEvent.
_E = TypeVar("_E", bound=SchedulerEvent)

#: constant indicating a scheduler's stopped state
STATE_STOPPED: Final = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING: Final = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED: Final = 2

class BaseScheduler(metaclass=ABCMeta):
    state: int
    timezone: tzinfo
    jobstore_retry_interval: float
    _logger: logging.Logger
    def __init__(self, gconfig: Mapping[str, Any] = {}, **options: Any) -> None: ...
    def __getstate__(self) -> Any: ...
    def configure(
        self, gconfig: Mapping[str, Any] = {}, prefix: str = "apscheduler.", **options: Any
    ) -> None: ...
    def start(self, paused: bool = False) -> None: ...
    @abstractmethod
    def shutdown(self, wait: bool = True) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    @property
    def running(self) -> bool: ...
    def add_executor(
        self, executor: BaseExecutor | str, alias: str = "default", **executor_opts: Any
    ) -> None: ...
    def remove_executor(self, alias: str, shutdown: bool = True) -> None: ...
    def add_jobstore(
        self, jobstore: BaseJobStore | str, alias: str = "default", **jobstore_opts: Any
    ) -> None: ...
    def remove_jobstore(self, alias: str, shutdown: bool = True) -> None: ...
    def add_listener(self, callback: Callable[[_E], object], mask: int = ...) -> None: ...
    def remove_listener(self, callback: Callable[[_E], object]) -> None: ...
    def add_job(
        self,
        func: Callable[..., Any] | str,
        trigger: BaseTrigger | str | None = None,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: int | None | _Undefined = ...,
        coalesce: bool | _Undefined = ...,
        max_instances: int | _Undefined = ...,
        next_run_time: datetime | date | str | None | _Undefined = ...,
        jobstore: str = "default",
        executor: str = "default",
        replace_existing: bool = False,
        **trigger_args: Any,
    ) -> Job: ...
    def scheduled_job(
        self,
        trigger: BaseTrigger | str,
        args: Iterable[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        misfire_grace_time: int | None | _Undefined = ...,
        coalesce: bool | _Undefined = ...,
        max_instances: int | _Undefined = ...,
        next_run_time: datetime | date | str | None | _Undefined = ...,
        jobstore: str = "default",
        executor: str = "default",
        **trigger_args: Any,
    ) -> Callable[[_F], _F]: ...
    def modify_job(self, job_id: str, jobstore: str | None = None, **changes: Any) -> Job: ...
    def reschedule_job(
        self,
        job_id: str,
        jobstore: str | None = None,
        trigger: BaseTrigger | str | None = None,
        **trigger_args: Any,
    ) -> Job: ...
    def pause_job(self, job_id: str, jobstore: str | None = None) -> Job: ...
    def resume_job(self, job_id: str, jobstore: str | None = None) -> Job | None: ...
    def get_jobs(self, jobstore: str | None = None, pending: bool | None = None) -> list[Job]: ...
    def get_job(self, job_id: str, jobstore: str | None = None) -> Job | None: ...
    def remove_job(self, job_id: str, jobstore: str | None = None) -> None: ...
    def remove_all_jobs(self, jobstore: str | None = None) -> None: ...
    def print_jobs(
        self, jobstore: str | None = None, out: SupportsWrite[str] | None = None
    ) -> None: ...
    # a path, or a file object opened in text mode
    def export_jobs(
        self, outfile: str | PathLike[str] | SupportsWrite[str], jobstore: str | None = None
    ) -> None: ...
    def import_jobs(
        self, infile: str | PathLike[str] | SupportsRead[str], jobstore: str = "default"
    ) -> None: ...
    @abstractmethod
    def wakeup(self) -> None: ...
    # Hooks for subclasses (documented in the reference's guide to extending it).
    def _configure(self, config: dict[str, Any]) -> None: ...
    def _create_default_executor(self) -> BaseExecutor: ...
    def _create_default_jobstore(self) -> BaseJobStore: ...
    # an RLock by default; a subclass may return its framework's lock (gevent's, ...)
    def _create_lock(self) -> AbstractContextManager[Any]: ...
    def _dispatch_event(self, event: SchedulerEvent) -> None: ...
    def _lookup_executor(self, alias: str) -> BaseExecutor: ...
    def _lookup_jobstore(self, alias: str) -> BaseJobStore: ...
    def _process_jobs(self) -> float | None: ...
