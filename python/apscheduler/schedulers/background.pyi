import threading

from apscheduler.schedulers.blocking import BlockingScheduler

class BackgroundScheduler(BlockingScheduler):
    _daemon: bool
    _thread: threading.Thread | None
    def start(self, paused: bool = False) -> None: ...
    def shutdown(self, wait: bool = True) -> None: ...
