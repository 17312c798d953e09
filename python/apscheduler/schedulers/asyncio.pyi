import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from apscheduler.schedulers.base import BaseScheduler

_F = TypeVar("_F", bound=Callable[..., Any])

def run_in_event_loop(func: _F) -> _F: ...

class AsyncIOScheduler(BaseScheduler):
    _eventloop: asyncio.AbstractEventLoop | None
    _timeout: asyncio.TimerHandle | None
    def start(self, paused: bool = False) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
    def wakeup(self) -> None: ...
