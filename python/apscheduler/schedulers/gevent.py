from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

# Fail at import time, with a hint, when the framework is missing.
try:
    import gevent
    from gevent.event import Event
    from gevent.lock import RLock
except ImportError as exc:  # pragma: nocover
    raise ImportError("GeventScheduler requires gevent installed") from exc


class GeventScheduler(BlockingScheduler):
    """
    A scheduler that runs as a Gevent greenlet.

    :meth:`start` spawns the greenlet that runs the scheduler's loop and returns it.
    """

    _greenlet = None

    def start(self, *args, **kwargs):
        self._prepare_wakeup_event()
        BaseScheduler.start(self, *args, **kwargs)
        self._greenlet = gevent.spawn(self._main_loop)
        return self._greenlet

    def shutdown(self, *args, **kwargs):
        super().shutdown(*args, **kwargs)
        greenlet = self._greenlet
        self._greenlet = None
        # Called from the scheduler's own greenlet (a listener, or a job run by the
        # debug executor), the loop ends once that call returns: joining would wait
        # for ever.
        if greenlet is not None and greenlet is not gevent.getcurrent():
            greenlet.join()

    def _prepare_wakeup_event(self):
        # A gevent event: its wait() lets the other greenlets run.
        if self._event is None or self._event.is_set():
            self._event = Event()

    def _create_lock(self):
        return RLock()

    def _create_default_executor(self):
        from apscheduler.executors.gevent import GeventExecutor

        return GeventExecutor()
