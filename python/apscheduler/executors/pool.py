"""
Executors that run jobs in a pool of threads or processes.

``ThreadPoolExecutor`` runs its jobs in a native pool (``apscheduler.executors.
_threadpool``) whose threads are named, started and stopped as those of a
:class:`concurrent.futures.ThreadPoolExecutor`. ``ProcessPoolExecutor`` uses
:mod:`concurrent.futures` itself.
"""

import concurrent.futures
import multiprocessing
import os
from abc import abstractmethod
from concurrent.futures.process import BrokenProcessPool

from datetime import datetime

from apscheduler.executors import _threadpool
from apscheduler.executors import base as _base
from apscheduler.executors.base import BaseExecutor, run_job

# The run_job whose work the native pool can do itself (see _runs_natively()).
_library_run_job = run_job


class BasePoolExecutor(BaseExecutor):
    """
    Base class for the executors that hand jobs to a pool with the interface of
    :class:`concurrent.futures.Executor` (``submit`` returning a future, ``shutdown``).
    """

    @abstractmethod
    def __init__(self, pool):
        super().__init__()
        self._pool = pool

    def _do_submit_job(self, job, run_times):
        def report(future):
            # concurrent.futures futures have no exception_info(); the futures backport
            # for Python 2 had one, and a third-party pool may still offer it.
            if hasattr(future, "exception_info"):
                exc, tb = future.exception_info()
            else:
                exc = future.exception()
                tb = getattr(exc, "__traceback__", None)
            if exc:
                self._run_job_error(job.id, exc, tb)
            else:
                self._run_job_success(job.id, future.result())

        # run_job is read from this module's namespace at each submission, so that it
        # can be patched.
        future = self._pool.submit(
            run_job, job, job._jobstore_alias, run_times, self._logger.name
        )
        future.add_done_callback(report)

    def shutdown(self, wait=True):
        self._pool.shutdown(wait)


class ThreadPoolExecutor(BasePoolExecutor):
    """
    An executor that runs jobs in a concurrent.futures thread pool.

    Plugin alias: ``threadpool``

    :param max_workers: the maximum number of spawned threads.
    :param pool_kwargs: dict of keyword arguments to pass to the underlying
        ThreadPoolExecutor constructor

    The pool is native: workers take jobs from a Rust queue with the GIL released.
    It takes the same keyword arguments as :class:`concurrent.futures.ThreadPoolExecutor`
    (``thread_name_prefix``, ``initializer``, ``initargs``).
    """

    def __init__(self, max_workers=10, pool_kwargs=None):
        pool_kwargs = pool_kwargs or {}
        pool = _threadpool.ThreadPoolExecutor(int(max_workers), **pool_kwargs)
        super().__init__(pool)

    def _do_submit_job(self, job, run_times):
        pool = self._pool
        if not isinstance(pool, _threadpool.ThreadPoolExecutor):
            # A subclass gave itself a concurrent.futures-style pool of its own.
            return super()._do_submit_job(job, run_times)

        # The same call as BasePoolExecutor's, without a future: the worker reports to
        # _run_job_success / _run_job_error itself.
        if _runs_natively():
            pool._submit_run(self, job, job._jobstore_alias, run_times, self._logger)
        else:
            args = (job, job._jobstore_alias, run_times, self._logger.name)
            pool._submit_job(self, run_job, job, args)


    # What, replaced on an instance, makes submissions take the Python path.
    _native_batch_unless = frozenset(("submit_job", "_do_submit_job", "_submit_batch"))

    def _submit_batch(self, runs):
        """
        What ``submit_job(job, run_times)`` does for each ``(job, executor, run_times,
        jobstore_alias)`` of ``runs``, done by the native queue. Returns, for each,
        ``None`` or the exception ``submit_job`` would raise; or ``None`` instead of a
        list when the worker would not run ``run_job``'s work natively, for the caller
        to call ``submit_job`` itself.
        """
        pool = self._pool
        if not (isinstance(pool, _threadpool.ThreadPoolExecutor) and _runs_natively()):
            return None

        # Per job, the max_instances check and count under this executor's lock (taken
        # per job, not for the batch: workers reporting a finished run need it too)
        # and the submission under the pool's.
        return pool._queue.submit_runs(pool, self, runs, self._logger)


def _runs_natively():
    """Whether a worker does run_job's work natively: neither run_job nor the
    executors' clock has been replaced (as tests do)."""
    return run_job is _library_run_job and _base.datetime is datetime


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class ProcessPoolExecutor(BasePoolExecutor):
    """
    An executor that runs jobs in a concurrent.futures process pool.

    Plugin alias: ``processpool``

    :param max_workers: the maximum number of spawned processes.
    :param pool_kwargs: dict of keyword arguments to pass to the underlying
        ProcessPoolExecutor constructor
    """

    def __init__(self, max_workers=10, pool_kwargs=None):
        # The caller's dict is completed in place, as the reference does. "spawn"
        # because forking a process with running threads can deadlock the child.
        self.pool_kwargs = pool_kwargs or {}
        self.pool_kwargs.setdefault("mp_context", multiprocessing.get_context("spawn"))
        pool = concurrent.futures.ProcessPoolExecutor(
            int(max_workers), **self.pool_kwargs
        )
        super().__init__(pool)

    def _do_submit_job(self, job, run_times):
        if not self._workers_alive():
            # A worker is gone and concurrent.futures has not noticed yet: a job
            # submitted there would fail with BrokenProcessPool once it does.
            self._replace_pool()
        try:
            super()._do_submit_job(job, run_times)
        except BrokenProcessPool:
            # A worker process died (killed, out of memory): start a new pool of the
            # same size and submit there.
            self._replace_pool()
            super()._do_submit_job(job, run_times)

    def _replace_pool(self):
        self._logger.warning(
            "Process pool is broken; replacing pool with a fresh instance"
        )
        self._pool = self._pool.__class__(self._pool._max_workers, **self.pool_kwargs)

    def _workers_alive(self):
        """Whether every worker process the pool started still exists (a killed
        worker that has already been reaped no longer does)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return all(_process_exists(pid) for pid in list(processes))
