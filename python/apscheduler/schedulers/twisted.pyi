from collections.abc import Callable
from typing import Any, TypeVar

from apscheduler.schedulers.base import BaseScheduler

_F = TypeVar("_F", bound=Callable[..., Any])

def run_in_reactor(func: _F) -> _F: ...

class TwistedScheduler(BaseScheduler):
    # the twisted reactor and its DelayedCall; typed loosely so that twisted is not
    # needed to type-check
    _reactor: Any
    _delayedcall: Any
    def shutdown(self, wait: bool = True) -> None: ...
    def wakeup(self) -> None: ...
