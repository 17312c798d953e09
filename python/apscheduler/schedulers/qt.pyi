from typing import Any

from apscheduler.schedulers.base import BaseScheduler

# the QTimer class, the binding's name ("PySide" or "PyQt") and its major version
QTimer: Any
pkgname: str
version: int

class QtScheduler(BaseScheduler):
    # a QTimer of whichever Qt binding is installed
    _timer: Any
    def shutdown(self, wait: bool = True) -> None: ...
    def wakeup(self) -> None: ...
