import asyncio
import sys
import traceback
from functools import partial

# run_job and run_coroutine_job are read from this module's namespace at each
# submission, so that they can be patched here.
from apscheduler.executors.base import BaseExecutor, run_coroutine_job, run_job
from apscheduler.util import iscoroutinefunction_partial


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class AsyncIOExecutor(BaseExecutor):
    """
    Runs jobs in the default executor of the event loop.

    If the job function is a native coroutine function, it is scheduled to be run
    directly in the event loop as soon as possible. All other functions are run in the
    event loop's default executor which is usually a thread pool.

    Plugin alias: ``asyncio``

    A job submitted from a thread other than the loop's is handed to the loop with
    ``call_soon_threadsafe`` (asyncio's objects may only be touched on their loop's
    thread), and so is ``shutdown()`` called from another thread.
    """

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self._eventloop = scheduler._eventloop
        self._pending_futures = set()

    def shutdown(self, wait=True):
        # wait=True cannot be honoured without making this a coroutine method: the
        # jobs run on the loop that is calling us. Unfinished jobs are cancelled.
        loop = getattr(self, "_eventloop", None)
        if loop is not None and loop.is_running() and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._cancel_pending)
        else:
            self._cancel_pending()

    def _cancel_pending(self):
        pending = getattr(self, "_pending_futures", set())
        loop = getattr(self, "_eventloop", None)
        # A closed loop can run no callback, a cancellation's included: its jobs are
        # simply forgotten.
        if loop is None or not loop.is_closed():
            for future in pending:
                if not future.done():
                    future.cancel()

        pending.clear()

    def _do_submit_job(self, job, run_times):
        loop = self._eventloop
        if loop.is_running() and _running_loop() is not loop:
            loop.call_soon_threadsafe(self._launch_later, job, run_times)
        else:
            self._launch(job, run_times)

    def _launch(self, job, run_times):
        args = (job, job._jobstore_alias, run_times, self._logger.name)
        if iscoroutinefunction_partial(job.func):
            future = self._eventloop.create_task(run_coroutine_job(*args))
        else:
            future = self._eventloop.run_in_executor(None, run_job, *args)

        future.add_done_callback(partial(self._job_done, job.id))
        self._pending_futures.add(future)

    def _launch_later(self, job, run_times):
        # The submission was counted already: a launch that fails must be reported
        # like a failed run, or max_instances would hold the job back for good.
        try:
            self._launch(job, run_times)
        except BaseException:
            self._run_job_error(job.id, *sys.exc_info()[1:])

    def _job_done(self, job_id, future):
        self._pending_futures.discard(future)
        try:
            events = future.result()
        except BaseException:
            self._run_job_error(job_id, *sys.exc_info()[1:])
        else:
            _release_failed_frames(events)
            self._run_job_success(job_id, events)


def _release_failed_frames(events):
    """
    Clear the frames of the tracebacks that the error events keep.

    A job's exception keeps its traceback, whose first frame is the finished
    ``run_coroutine_job`` (or ``run_job``) that caught it; that frame's locals hold
    the list of events, which holds the exception: a reference cycle that kept every
    failed run in memory until the garbage collector found it. The frames have
    finished, so clearing them loses nothing the event reports (its ``traceback``
    text was formatted already).
    """
    for event in events:
        exception = getattr(event, "exception", None)
        if exception is not None:
            traceback.clear_frames(exception.__traceback__)
