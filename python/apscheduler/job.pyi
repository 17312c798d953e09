from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any, Final

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import _Undefined

UTC: Final[timezone]

class Job:
    id: str
    name: str
    func: Callable[..., Any]
    func_ref: str | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    coalesce: bool
    trigger: BaseTrigger
    executor: str
    misfire_grace_time: int | None
    max_instances: int
    # Set once the job is scheduled (missing on a pending job added to a scheduler
    # that has not started); None while the job is paused.
    next_run_time: datetime | None
    # Set by the scheduler; a custom job store that rebuilds Job objects restores
    # them (see the reference's guide to extending it).
    _scheduler: BaseScheduler
    _jobstore_alias: str | None
    def __init__(self, scheduler: BaseScheduler, id: str | None = None, **kwargs: Any) -> None: ...
    def modify(
        self,
        *,
        func: Callable[..., Any] | str = ...,
        trigger: BaseTrigger = ...,
        executor: str = ...,
        args: Iterable[Any] = ...,
        kwargs: Mapping[str, Any] = ...,
        name: str = ...,
        misfire_grace_time: int | None | _Undefined = ...,
        coalesce: bool | _Undefined = ...,
        max_instances: int | _Undefined = ...,
        next_run_time: datetime | date | str | None = ...,
    ) -> Job: ...
    def reschedule(self, trigger: BaseTrigger | str, **trigger_args: Any) -> Job: ...
    def pause(self) -> Job: ...
    def resume(self) -> Job: ...
    def remove(self) -> None: ...
    @property
    def pending(self) -> bool: ...
    def _get_run_times(self, now: datetime) -> list[datetime]: ...
    def _modify(self, **changes: Any) -> None: ...
    def __getstate__(self) -> dict[str, Any]: ...
    def __setstate__(self, state: dict[str, Any]) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    __hash__: None  # type: ignore[assignment]
