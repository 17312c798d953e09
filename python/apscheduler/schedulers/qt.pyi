from typing import Any

from apscheduler.schedulers.base import BaseScheduler

class QtScheduler(BaseScheduler):
    # a QTimer of whichever Qt binding is installed
    _timer: Any
    def shutdown(self, wait: bool = True) -> None: ...
    def wakeup(self) -> None: ...
