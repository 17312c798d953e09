from importlib import import_module

from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler


def _find_qtcore():
    # Newest binding first; at each major version PySide is preferred over PyQt.
    for major in range(6, 1, -1):
        for binding in ("PySide", "PyQt"):
            try:
                return import_module(f"{binding}{major}.QtCore"), binding, major
            except ImportError:
                continue

    raise ImportError("QtScheduler requires either PySide/PyQt (v6 to v2) installed")


# pkgname and version name the binding found, as the reference's module does.
_qtcore, pkgname, version = _find_qtcore()
QTimer = _qtcore.QTimer
# PySide names it Signal, PyQt pyqtSignal.
_Signal = getattr(_qtcore, "Signal", None) or _qtcore.pyqtSignal


class _Waker(_qtcore.QObject):
    """
    Lives in the thread that started the scheduler (the one running the Qt event
    loop) and runs the scheduler's passes there.

    Timers may only be started and stopped in their own thread, so the other threads
    reach it through a signal, which Qt queues to the object's thread.
    """

    wake = _Signal()
    stop = _Signal()

    def __init__(self, scheduler):
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        # Coarse timers (the default) may fire 5 % early or late: a job due in an
        # hour could start minutes late.
        self.timer.setTimerType(_precise_timer_type())
        self.timer.timeout.connect(scheduler._process_jobs)
        self.wake.connect(self._wake, _queued_connection())
        self.stop.connect(self.timer.stop, _queued_connection())

    def _wake(self):
        self.timer.start(0)


def _precise_timer_type():
    timer_type = getattr(_qtcore.Qt, "TimerType", _qtcore.Qt)
    return timer_type.PreciseTimer


def _queued_connection():
    connection_type = getattr(_qtcore.Qt, "ConnectionType", _qtcore.Qt)
    return connection_type.QueuedConnection


class QtScheduler(BaseScheduler):
    """
    A scheduler that runs in a Qt event loop.

    Start it in the thread that runs the Qt event loop (the GUI thread): its passes run
    there, and wake-ups from other threads (a job of a thread pool adding a job) are
    queued to it.
    """

    _timer = None
    _waker = None

    def start(self, *args, **kwargs):
        if self._waker is None or not _same_thread(self._waker):
            self._waker = _Waker(self)

        super().start(*args, **kwargs)

    def shutdown(self, *args, **kwargs):
        super().shutdown(*args, **kwargs)
        self._stop_timer()

    def _start_timer(self, wait_seconds):
        self._stop_timer()
        if wait_seconds is not None:
            wait_time = min(int(wait_seconds * 1000), 2147483647)
            self._waker.timer.start(wait_time)

    def _stop_timer(self):
        waker = self._waker
        if waker is None:
            return

        if _same_thread(waker):
            waker.timer.stop()
        else:
            waker.stop.emit()

    def wakeup(self):
        waker = self._waker
        if waker is None:
            return

        if _same_thread(waker):
            waker.timer.start(0)
        else:
            waker.wake.emit()

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None

        try:
            wait_seconds = super()._process_jobs()
        except Exception:
            # Differs from APScheduler, which left the scheduler without a timer.
            self._logger.exception(
                "Error processing jobs -- trying again in %s seconds",
                self.jobstore_retry_interval,
            )
            wait_seconds = self.jobstore_retry_interval

        if self.state != STATE_STOPPED:
            self._start_timer(wait_seconds)


def _same_thread(qobject):
    return qobject.thread() == _qtcore.QThread.currentThread()
