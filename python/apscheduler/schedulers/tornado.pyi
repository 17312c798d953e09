from collections.abc import Callable
from typing import Any, TypeVar

from apscheduler.schedulers.base import BaseScheduler

_F = TypeVar("_F", bound=Callable[..., Any])

def run_in_ioloop(func: _F) -> _F: ...

class TornadoScheduler(BaseScheduler):
    # a tornado IOLoop and its timeout handle; typed loosely so that tornado is not
    # needed to type-check
    _ioloop: Any
    _timeout: Any
    def shutdown(self, wait: bool = True) -> None: ...
    def wakeup(self) -> None: ...
