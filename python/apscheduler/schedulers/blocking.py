from threading import TIMEOUT_MAX, Event

from apscheduler._core import spin_for, tighten_timer_slack
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler


# The last part of a wait for a due run that the loop spins through instead of
# sleeping (see src/py/timer.rs): a timed wait wakes 0.1 to 0.3 ms late here.
_FINAL_SPIN = 0.0006


class BlockingScheduler(BaseScheduler):
    """
    A scheduler that runs in the foreground
    (:meth:`~apscheduler.schedulers.base.BaseScheduler.start` will block).
    """

    # Set by wakeup() and shutdown(); the loop sleeps on it between passes.
    _event = None

    def start(self, *args, **kwargs):
        self._prepare_wakeup_event()
        super().start(*args, **kwargs)
        self._main_loop()

    def shutdown(self, wait=True):
        super().shutdown(wait)
        # No event after a fork stopped the scheduler: there is no loop to wake.
        if self._event is not None:
            self._event.set()

    def wakeup(self):
        self._event.set()

    def _prepare_wakeup_event(self):
        # A fresh event after a shutdown (which leaves it set), so that a loop still
        # winding down from the previous run cannot take the new run's wakeups.
        if self._event is None or self._event.is_set():
            self._event = Event()

    def _main_loop(self):
        # The loop belongs to the event it was started with: once a restart has
        # replaced the event, a loop left over from the previous run ends.
        event = self._event
        wait_seconds = TIMEOUT_MAX
        # The loop sleeps until the next run is due: wake it on time.
        tighten_timer_slack()
        while self.state != STATE_STOPPED and self._event is event:
            self._wait_for_wakeup(event, wait_seconds, early_pass=not self._store_failed)
            if self.state == STATE_STOPPED or self._event is not event:
                break

            wait_seconds = self._run_pass()

    @staticmethod
    def _wait_for_wakeup(event, wait_seconds, early_pass=True):
        # Event.wait() returns early for a wakeup or a shutdown. In the main thread it
        # is interrupted by signals, so Ctrl+C stops a blocking start() at once.
        if wait_seconds is None:
            event.wait(TIMEOUT_MAX)
        elif wait_seconds <= _FINAL_SPIN:
            spin_for(wait_seconds)
        elif not early_pass:
            event.wait(wait_seconds)
        else:
            # Differs from APScheduler: sleep until just before the run is due. The
            # loop then makes a pass, which finds the run not yet due (a cold pass
            # after a sleep costs 0.1 to 0.2 ms here, a warm one a few
            # microseconds), and spins through the rest of the wait before the pass
            # that runs it (a wakeup in those last moments waits for the spin).
            event.wait(wait_seconds - _FINAL_SPIN)
        event.clear()

    def _run_pass(self):
        """
        Run one pass of :meth:`_process_jobs` and return how long to sleep afterwards.

        Differs from APScheduler: an exception escaping a pass is logged and the loop
        tries again after ``jobstore_retry_interval`` seconds (or an earlier wakeup);
        APScheduler let it end the loop, leaving a scheduler that reports itself
        running but never runs a job again.
        """
        if self._store_failed:
            self._store_failed = False
        try:
            return self._process_jobs()
        except Exception:
            self._store_failed = True
            self._logger.exception(
                "Error processing jobs -- trying again in %s seconds",
                self.jobstore_retry_interval,
            )
            return self.jobstore_retry_interval
