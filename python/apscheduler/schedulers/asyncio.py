import asyncio
from functools import partial, wraps

from apscheduler.schedulers._eventloop import EventLoopScheduler
from apscheduler.schedulers._slicedpass import LOCK_BUSY, sliced_pass
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.util import maybe_ref


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_in_event_loop(func):
    """
    Make a method of an AsyncIOScheduler (or subclass) run on the scheduler's event
    loop: a call queues it there, from any thread, and returns ``None`` at once.
    """

    @wraps(func)
    def wrapper(self, *args, **kwargs):
        self._eventloop.call_soon_threadsafe(partial(func, self, *args, **kwargs))

    return wrapper


class AsyncIOScheduler(EventLoopScheduler):
    """
    A scheduler that runs on an asyncio (:pep:`3156`) event loop.

    The default executor can run jobs based on native coroutines (``async def``).

    Extra options:

    ============== =============================================================
    ``event_loop`` AsyncIO event loop to use (defaults to the global event loop)
    ============== =============================================================

    The loop is the ``event_loop`` option or, if that is not given (or closed), the
    loop running when :meth:`start` is called.

    A pass never holds the loop for long: its due jobs are processed in slices of a
    few dozen at most, each a callback of its own, so that other tasks run between
    them (about 0.3 ms of scheduler work per loop iteration, however many jobs are
    due). Differs from APScheduler, whose one callback processed every due job at
    once and so held the loop for as long as that took.
    """

    _eventloop = None
    _timeout = None
    # The sliced pass underway (a generator), and whether a wake-up came during it.
    _pass = None
    _pass_again = False
    # Seconds before a slice that found the job store lock taken tries again.
    _lock_retry_delay = 0.0005

    def start(self, paused=False):
        if not self._eventloop or self._eventloop.is_closed():
            self._eventloop = asyncio.get_running_loop()

        super().start(paused)

    def _configure(self, config):
        self._eventloop = maybe_ref(config.pop("event_loop", None))
        super()._configure(config)

    def _shutdown_in_loop(self, wait=True):
        super()._shutdown_in_loop(wait)
        # A pass underway ends at its next slice; start() takes the loop anew.
        self._pass = None
        self._pass_again = False
        self._eventloop = None

    def _create_default_executor(self):
        from apscheduler.executors.asyncio import AsyncIOExecutor

        return AsyncIOExecutor()

    #
    # The loop
    #

    def _call_in_loop(self, func, *args):
        loop = self._eventloop
        if loop is None:
            return  # shut down meanwhile: nothing left to wake

        if _running_loop() is loop:
            loop.call_soon(func, *args)
        else:
            loop.call_soon_threadsafe(func, *args)

    def _in_loop_thread(self):
        loop = self._eventloop
        return loop is not None and _running_loop() is loop

    def _loop_is_running(self):
        loop = self._eventloop
        return loop is not None and loop.is_running()

    def _start_timer(self, wait_seconds):
        self._stop_timer()
        if wait_seconds is not None:
            self._timeout = self._eventloop.call_later(
                wait_seconds, self._wakeup_in_loop
            )

    def _stop_timer(self):
        if self._timeout:
            self._timeout.cancel()
            del self._timeout

    #
    # Sliced passes
    #

    def _wakeup_in_loop(self):
        with self._wakeup_lock:
            self._wakeup_queued = False

        if self.state == STATE_STOPPED or _running_loop() is not self._eventloop:
            return  # shut down, or queued on a loop that a restart has replaced

        if self._pass is not None:
            # The pass underway may have passed over the job this wake-up is about:
            # another pass follows it.
            self._pass_again = True
            return

        self._stop_timer()
        self._pass = sliced_pass(self)
        self._next_slice()

    def _next_slice(self):
        steps = self._pass
        if steps is None or self.state == STATE_STOPPED:
            return  # shut down meanwhile

        try:
            step = next(steps)
        except StopIteration as finished:
            wait_seconds = finished.value
        except Exception:
            self._logger.exception(
                "Error processing jobs -- trying again in %s seconds",
                self.jobstore_retry_interval,
            )
            wait_seconds = self.jobstore_retry_interval
        else:
            if self._pass is not steps:
                return  # a job of the slice shut the scheduler down

            if step is LOCK_BUSY:
                # Another thread is changing the job stores: try again shortly
                # rather than wait for the lock with the loop held.
                self._eventloop.call_later(self._lock_retry_delay, self._next_slice)
            else:
                # More due jobs: the loop runs what else is ready before the next
                # slice.
                self._eventloop.call_soon(self._next_slice)
            return

        self._pass = None
        if self.state == STATE_STOPPED or self._eventloop is None:
            return

        if self._pass_again:
            self._pass_again = False
            wait_seconds = 0

        self._start_timer(wait_seconds)
