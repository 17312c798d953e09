import concurrent.futures
from abc import abstractmethod
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job

class BasePoolExecutor(BaseExecutor):
    _pool: concurrent.futures.Executor
    @abstractmethod
    def __init__(self, pool: concurrent.futures.Executor) -> None: ...
    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...

class ThreadPoolExecutor(BasePoolExecutor):
    def __init__(
        self, max_workers: int | str = 10, pool_kwargs: Mapping[str, Any] | None = None
    ) -> None: ...

class ProcessPoolExecutor(BasePoolExecutor):
    def __init__(
        self, max_workers: int | str = 10, pool_kwargs: Mapping[str, Any] | None = None
    ) -> None: ...
