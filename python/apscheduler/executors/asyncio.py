import asyncio
import collections.abc
import sys
import traceback
from datetime import datetime
from functools import partial

from apscheduler import _core
from apscheduler.executors import base as _base

# run_job, run_coroutine_job and iscoroutinefunction_partial are read from this
# module's namespace at each submission, so that they can be patched here.
from apscheduler.executors.base import BaseExecutor, run_coroutine_job, run_job
from apscheduler.util import iscoroutinefunction_partial

# The functions whose work the native runner does itself (see _runs_natively()).
_library_run_coroutine_job = run_coroutine_job
_library_iscoroutinefunction_partial = iscoroutinefunction_partial

# loop.create_task() takes any object that implements the coroutine protocol.
collections.abc.Coroutine.register(_core.CoroutineRun)


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

    # What, replaced on an instance, makes submissions take the Python path.
    _native_batch_unless = frozenset(
        ("submit_job", "_do_submit_job", "_launch", "_job_done", "_submit_batch")
    )

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self._eventloop = scheduler._eventloop
        self._pending_futures = set()
        # Coroutine runs that finished, reported a batch at a time (see _submit_batch)
        self._reports = _core.CoroutineReports(self._eventloop)

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

    def _submit_batch(self, runs):
        """
        What ``submit_job(job, run_times)`` does for each ``(job, executor, run_times,
        jobstore_alias)`` of ``runs``, with the coroutine jobs started natively: each
        still runs as a Task of its own on the loop, whose coroutine does what
        ``run_coroutine_job`` does, and the finished runs are reported a batch per
        loop callback instead of one callback per Task. Returns, for each run,
        ``None`` or the exception ``submit_job`` raised; or ``None`` instead of a list
        when the Python path must be taken (a function it calls was replaced, or the
        caller is not on the running loop's thread).
        """
        loop = getattr(self, "_eventloop", None)
        if loop is None or _running_loop() is not loop or not _runs_natively():
            return None

        return _core.submit_coroutine_runs(
            self, runs, loop, _task_type(loop), self._reports, self._logger,
            iscoroutinefunction_partial,
        )

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


def _runs_natively():
    """Whether the native runner may do run_coroutine_job's work: neither it nor the
    functions it stands for, nor the executors' clock, have been replaced (as tests
    do)."""
    return (
        run_coroutine_job is _library_run_coroutine_job
        and iscoroutinefunction_partial is _library_iscoroutinefunction_partial
        and _base.datetime is datetime
    )


def _task_type(loop):
    """
    The Task class when ``loop.create_task(coro)`` would do no more than
    ``Task(coro, loop=loop)``: asyncio's own ``create_task``, no task factory, and not
    in debug mode (where it trims the Task's source traceback); else ``None``.
    """
    if (
        type(loop).create_task is _base_create_task
        and "create_task" not in getattr(loop, "__dict__", ())
        and loop._task_factory is None
        and not loop.get_debug()
    ):
        return asyncio.tasks.Task
    return None


_base_create_task = asyncio.BaseEventLoop.create_task


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
