import asyncio
from datetime import timedelta
from functools import wraps

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers._eventloop import EventLoopScheduler
from apscheduler.util import maybe_ref

# Fail at import time, with a hint, when the framework is missing.
try:
    from tornado.ioloop import IOLoop
except ImportError as exc:  # pragma: nocover
    raise ImportError("TornadoScheduler requires tornado installed") from exc


def run_in_ioloop(func):
    """
    Make a method of a TornadoScheduler (or subclass) run on the scheduler's IOLoop:
    a call queues it there, from any thread, and returns ``None`` at once.
    """

    @wraps(func)
    def wrapper(self, *args, **kwargs):
        if self._ioloop is None:
            raise SchedulerNotRunningError

        self._ioloop.add_callback(func, self, *args, **kwargs)

    return wrapper


class TornadoScheduler(EventLoopScheduler):
    """
    A scheduler that runs on a Tornado IOLoop.

    The default executor can run jobs based on native coroutines (``async def``).

    =========== ===============================================================
    ``io_loop`` Tornado IOLoop instance to use (defaults to the global IO loop)
    =========== ===============================================================
    """

    _ioloop = None
    _timeout = None

    def _configure(self, config):
        self._ioloop = maybe_ref(config.pop("io_loop", None)) or IOLoop.current()
        super()._configure(config)

    def _create_default_executor(self):
        from apscheduler.executors.tornado import TornadoExecutor

        return TornadoExecutor()

    def _call_in_loop(self, func, *args):
        # add_callback() may be called from any thread.
        self._ioloop.add_callback(func, *args)

    def _asyncio_loop(self):
        # Every IOLoop of Tornado 5 and later runs on an asyncio loop.
        return getattr(self._ioloop, "asyncio_loop", None)

    def _in_loop_thread(self):
        loop = self._asyncio_loop()
        if loop is None:
            return False

        try:
            return asyncio.get_running_loop() is loop
        except RuntimeError:
            return False

    def _loop_is_running(self):
        loop = self._asyncio_loop()
        # Without an asyncio loop to ask, assume it runs: callbacks are then queued.
        return loop is None or loop.is_running()

    def _start_timer(self, wait_seconds):
        self._stop_timer()
        if wait_seconds is not None:
            self._timeout = self._ioloop.add_timeout(
                timedelta(seconds=wait_seconds), self._wakeup_in_loop
            )

    def _stop_timer(self):
        if self._timeout:
            self._ioloop.remove_timeout(self._timeout)
            del self._timeout
