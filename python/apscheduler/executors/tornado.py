import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial

# Like APScheduler 3.x, a missing tornado surfaces here as a plain
# ModuleNotFoundError, at import time.
from tornado.gen import convert_yielded

# run_job and run_coroutine_job are read from this module's namespace at each
# submission, so that they can be patched here.
from apscheduler.executors.asyncio import _release_failed_frames
from apscheduler.executors.base import BaseExecutor, run_coroutine_job, run_job
from apscheduler.util import iscoroutinefunction_partial


class TornadoExecutor(BaseExecutor):
    """
    Runs jobs either in a thread pool or directly on the I/O loop.

    If the job function is a native coroutine function, it is scheduled to be run
    directly in the I/O loop as soon as possible. All other functions are run in a
    thread pool.

    Plugin alias: ``tornado``

    :param int max_workers: maximum number of worker threads in the thread pool
    """

    def __init__(self, max_workers=10):
        super().__init__()
        self.executor = ThreadPoolExecutor(max_workers)

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self._ioloop = scheduler._ioloop

    def _do_submit_job(self, job, run_times):
        args = (job, job._jobstore_alias, run_times, self._logger.name)
        if iscoroutinefunction_partial(job.func):
            future = run_coroutine_job(*args)
        else:
            future = self.executor.submit(run_job, *args)

        # A coroutine becomes a task of the running loop (and its callback runs
        # there); a thread pool future calls back in its worker thread.
        future = convert_yielded(future)
        future.add_done_callback(partial(self._job_done, job.id))

    def _job_done(self, job_id, future):
        try:
            events = future.result()
        except BaseException:
            self._run_job_error(job_id, *sys.exc_info()[1:])
        else:
            _release_failed_frames(events)
            self._run_job_success(job_id, events)
