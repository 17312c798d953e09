from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

class GeventScheduler(BlockingScheduler):
    # a gevent Greenlet; typed loosely so that gevent is not needed to type-check
    _greenlet: Any
    def start(self, paused: bool = False) -> Any: ...  # returns the scheduler's Greenlet
    def shutdown(self, wait: bool = True) -> None: ...
