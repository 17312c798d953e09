"""
The part that the schedulers living on an event loop (asyncio, Tornado, Twisted) share.

Such a scheduler has no thread of its own: a pass of the loop (``_process_jobs``) runs
as a callback on the event loop, and a timer of the loop wakes it for the next one.
The subclass says how to call something on its loop from any thread
(:meth:`_call_in_loop`), whether the calling thread is the loop's
(:meth:`_in_loop_thread`) and how to set and cancel its timer (``_start_timer`` and
``_stop_timer``, as APScheduler names them).

Differs from APScheduler, whose ``wakeup()`` queued one full pass per call: wake-ups
that arrive before the queued pass has run share it (adding 10,000 jobs costs one
pass, not 10,000), an exception escaping a pass is logged and retried after
``jobstore_retry_interval`` seconds instead of leaving the scheduler without a timer,
and ``shutdown()`` called on the loop's own thread (from a job or a listener) takes
effect before it returns.
"""

from abc import abstractmethod
from threading import Lock

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler


class EventLoopScheduler(BaseScheduler):
    # True while a wake-up callback is queued on the loop and has not started yet.
    _wakeup_queued = False

    def __init__(self, gconfig={}, **options):
        # Guards _wakeup_queued only; held for a few instructions, never around a call.
        self._wakeup_lock = Lock()
        super().__init__(gconfig, **options)

    def _after_fork_in_child(self):
        super()._after_fork_in_child()
        # The lock may have been held by a thread that does not exist in the child;
        # no callback of the parent's loop is queued there.
        self._wakeup_lock = Lock()
        self._wakeup_queued = False

    def start(self, *args, **kwargs):
        # A wake-up queued on a loop that never ran it (closed before the previous
        # shutdown) must not stop this run's wake-ups from being queued.
        with self._wakeup_lock:
            self._wakeup_queued = False

        super().start(*args, **kwargs)

    def shutdown(self, wait=True):
        if not self.running:
            raise SchedulerNotRunningError

        if self._in_loop_thread() or not self._loop_is_running():
            # Nothing runs on the loop concurrently: shut down now, so that the
            # scheduler is stopped when this call returns.
            self._shutdown_in_loop(wait)
        else:
            # The loop runs in another thread: its timer and executors may only be
            # touched there.
            self._call_in_loop(self._shutdown_in_loop, wait)

    def _shutdown_in_loop(self, wait=True):
        try:
            BaseScheduler.shutdown(self, wait)
        except SchedulerNotRunningError:
            # Another shutdown() got there first.
            return

        self._stop_timer()

    def wakeup(self):
        with self._wakeup_lock:
            if self._wakeup_queued:
                return

            self._wakeup_queued = True

        try:
            self._call_in_loop(self._wakeup_in_loop)
        except BaseException:
            # No callback was queued (the loop is closed, say): a later wakeup must
            # try again.
            with self._wakeup_lock:
                self._wakeup_queued = False
            raise

    def _wakeup_in_loop(self):
        # Cleared before the pass, so that a wake-up arriving during the pass queues
        # another one: a job added meanwhile is never missed.
        with self._wakeup_lock:
            self._wakeup_queued = False

        if self.state == STATE_STOPPED:
            return

        self._stop_timer()
        wait_seconds = self._run_pass()
        # A job run during the pass (by the debug executor) may have shut us down.
        if self.state != STATE_STOPPED:
            self._start_timer(wait_seconds)

    def _run_pass(self):
        """
        Run one pass of :meth:`_process_jobs` and return how long to wait afterwards.

        An exception escaping the pass is logged and the next pass comes after
        ``jobstore_retry_interval`` seconds (or an earlier wake-up).
        """
        try:
            return self._process_jobs()
        except Exception:
            self._logger.exception(
                "Error processing jobs -- trying again in %s seconds",
                self.jobstore_retry_interval,
            )
            return self.jobstore_retry_interval

    #
    # What a subclass provides (for its loop: asyncio's, Tornado's IOLoop, Twisted's
    # reactor)
    #

    @abstractmethod
    def _call_in_loop(self, func, *args):
        """Call ``func(*args)`` soon on the loop's thread; callable from any thread."""

    @abstractmethod
    def _in_loop_thread(self):
        """Whether the calling thread is the one running the loop."""

    @abstractmethod
    def _loop_is_running(self):
        """Whether the loop runs (in some thread), so that callbacks handed to it run."""

    @abstractmethod
    def _start_timer(self, wait_seconds):
        """Call :meth:`wakeup` after ``wait_seconds`` (``None``: never)."""

    @abstractmethod
    def _stop_timer(self):
        """Cancel the timer :meth:`_start_timer` set, if any."""
