from functools import wraps
from threading import get_ident

from apscheduler.schedulers._eventloop import EventLoopScheduler
from apscheduler.util import maybe_ref

# Fail at import time, with a hint, when the framework is missing.  Importing the
# reactor module also installs Twisted's default reactor unless another one was
# installed before, which is the reactor this scheduler uses by default.
try:
    from twisted.internet import reactor as default_reactor
except ImportError as exc:  # pragma: nocover
    raise ImportError("TwistedScheduler requires Twisted installed") from exc


def run_in_reactor(func):
    """
    Make a method of a TwistedScheduler (or subclass) run in the scheduler's reactor
    thread: a call queues it there, from any thread, and returns ``None`` at once.
    """

    @wraps(func)
    def wrapper(self, *args, **kwargs):
        self._reactor.callFromThread(func, self, *args, **kwargs)

    return wrapper


class TwistedScheduler(EventLoopScheduler):
    """
    A scheduler that runs on a Twisted reactor.

    Extra options:

    =========== ========================================================
    ``reactor`` Reactor instance to use (defaults to the global reactor)
    =========== ========================================================
    """

    _reactor = None
    _delayedcall = None
    # The thread that runs the reactor, as seen by the last wake-up that ran there.
    _reactor_thread = None

    def _configure(self, config):
        self._reactor = maybe_ref(config.pop("reactor", default_reactor))
        super()._configure(config)

    def _create_default_executor(self):
        from apscheduler.executors.twisted import TwistedExecutor

        return TwistedExecutor()

    def _call_in_loop(self, func, *args):
        # callFromThread() may be called from any thread, the reactor's included.
        self._reactor.callFromThread(func, *args)

    def _in_loop_thread(self):
        return self._reactor_thread == get_ident()

    def _loop_is_running(self):
        return bool(getattr(self._reactor, "running", True))

    def _wakeup_in_loop(self):
        self._reactor_thread = get_ident()
        super()._wakeup_in_loop()

    def _start_timer(self, wait_seconds):
        self._stop_timer()
        if wait_seconds is not None:
            self._delayedcall = self._reactor.callLater(
                wait_seconds, self._wakeup_in_loop
            )

    def _stop_timer(self):
        if self._delayedcall and self._delayedcall.active():
            self._delayedcall.cancel()
            del self._delayedcall
