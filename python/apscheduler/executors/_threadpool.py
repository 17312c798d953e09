"""
The pool under ``apscheduler.executors.pool.ThreadPoolExecutor``.

Its class has the interface and the behaviour of
:class:`concurrent.futures.ThreadPoolExecutor` that APScheduler relies on: the same
constructor arguments and errors, the same threads (started lazily, one per submission
that finds no idle worker, up to ``max_workers``, named ``<prefix>_<index>``, with the
daemon flag of the thread that submits), the same attributes (``_max_workers``,
``_threads``, ``_thread_name_prefix``, ``_broken``, ``_shutdown``) and ``shutdown()``.
Jobs go through a native queue (``apscheduler._core.ThreadPool``), and each worker is a
``threading.Thread`` running the native loop ``ThreadPoolWorker.run``, which reports
every run to the executor's ``_run_job_success`` / ``_run_job_error`` itself instead of
through a future.
"""

import concurrent.futures
import itertools
import logging
import os
import sys
import threading
import weakref
from concurrent.futures.thread import BrokenThreadPool

from apscheduler._core import ThreadPool as _NativeQueue

# Where concurrent.futures logs a failing initializer or callback; ours log there too.
_futures_logger = logging.getLogger("concurrent.futures")

# Pools are numbered with concurrent.futures' own counter, so that thread names are
# the reference's (whose pools are concurrent.futures ones) even when the program also
# creates concurrent.futures pools.
_own_pool_numbers = itertools.count()


def _next_pool_number():
    counter = getattr(concurrent.futures.ThreadPoolExecutor, "_counter", None)
    return counter() if callable(counter) else next(_own_pool_numbers)


# Every live pool and worker thread, for _close_at_exit.
_live_pools = weakref.WeakSet()
_worker_threads = weakref.WeakSet()
_exiting = False


def _close_at_exit():
    """
    Let the workers finish the queued jobs and wait for them, before the interpreter
    waits for non-daemon threads (concurrent.futures does the same at exit; without it
    an idle worker would keep the process alive).
    """
    global _exiting
    _exiting = True
    for pool in list(_live_pools):
        pool._queue.close()
    for thread in list(_worker_threads):
        thread.join()


# Runs before the interpreter joins non-daemon threads (atexit would run after).
threading._register_atexit(_close_at_exit)

# Native queues that a fork left behind, kept alive for good in the child (see
# ThreadPoolExecutor._after_fork_in_child).
_abandoned_queues = []


def _after_fork_in_child():
    # A forked child has only the thread that forked: none of the workers exist there,
    # and one of them may have held a lock of the native queue at the moment of the
    # fork (workers wait on it without the GIL), which would deadlock the child at its
    # first submission. Each pool gets a fresh queue, lock and set of threads; new
    # workers start on demand as usual.
    global _worker_threads
    _worker_threads = weakref.WeakSet()
    for pool in list(_live_pools):
        pool._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _initialize_then_run(worker, pool_ref, initializer, initargs):
    """A worker's target when the pool has an initializer."""
    try:
        initializer(*initargs)
    except BaseException:
        _futures_logger.critical("Exception in initializer:", exc_info=True)
        pool = pool_ref()
        if pool is not None:
            pool._initializer_failed()
        return

    worker.run()


class ThreadPoolExecutor:
    """
    The ``_pool`` of an ``apscheduler.executors.pool.ThreadPoolExecutor``: takes the
    arguments of :class:`concurrent.futures.ThreadPoolExecutor` (hence the name, which
    error messages show) and behaves like it; see the module's docstring.
    """

    def __init__(
        self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()
    ):
        if max_workers is None:
            cpu_count = getattr(os, "process_cpu_count", os.cpu_count)
            max_workers = min(32, (cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")

        self._max_workers = max_workers
        self._thread_name_prefix = (
            thread_name_prefix or f"ThreadPoolExecutor-{_next_pool_number()}"
        )
        self._initializer = initializer
        self._initargs = initargs
        self._queue = _NativeQueue(min(max_workers, sys.maxsize))
        self._threads = set()
        self._broken = False
        self._shutdown = False
        self._shutdown_lock = threading.Lock()
        # Workers of this pool that are inside shutdown(wait=True), called by a job.
        self._joining = set()
        _live_pools.add(self)

    def _submit_job(self, executor, func, job, args):
        """Queue ``func(*args)``; the worker reports its outcome to ``executor``."""
        self._submit(self._queue.submit, executor, func, job, args)

    def _submit_run(self, executor, job, jobstore_alias, run_times, logger):
        """Queue what ``run_job(job, jobstore_alias, run_times, logger.name)`` does."""
        self._submit(
            self._queue.submit_run, executor, job, jobstore_alias, run_times, logger
        )

    def _submit(self, queue_submit, *args):
        with self._shutdown_lock:
            if self._broken:
                raise BrokenThreadPool(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if _exiting:
                raise RuntimeError(
                    "cannot schedule new futures after interpreter shutdown"
                )

            index = queue_submit(*args)
            if index is not None:
                self._start_worker(index)

    def _start_worker(self, index):
        worker = self._queue.worker()
        if self._initializer is None:
            target, args = worker.run, ()
        else:
            target = _initialize_then_run
            args = (worker, weakref.ref(self), self._initializer, self._initargs)
        # No daemon argument: like concurrent.futures' workers, the thread inherits
        # the flag of the submitting thread (a BackgroundScheduler's thread is a
        # daemon, so its workers are too).
        thread = threading.Thread(
            name=f"{self._thread_name_prefix}_{index}", target=target, args=args
        )
        try:
            thread.start()
        except BaseException:
            self._queue.worker_not_started()
            raise

        self._threads.add(thread)
        _worker_threads.add(thread)

    def _initializer_failed(self):
        with self._shutdown_lock:
            self._broken = (
                "A thread initializer failed, the thread pool is not usable anymore"
            )
            pending = self._queue.drain()

        # Reported after the lock is let go: a report may submit again.
        for executor, job in pending:
            try:
                executor._run_job_error(job.id, BrokenThreadPool(self._broken), None)
            except Exception:
                _futures_logger.exception("exception calling callback for %r", job)

    def _after_fork_in_child(self):
        # The old queue belongs to the parent: the jobs queued there are the parent's
        # to run, and its channel may be locked by a worker that no longer exists, so
        # it is neither used, closed nor freed (freeing it wakes its waiters, under
        # those locks). abandon() only sets a flag, which ends the worker that forked
        # (if a job of this pool did) once its job returns.
        self._queue.abandon()
        _abandoned_queues.append(self._queue)
        self._queue = _NativeQueue(self._queue.max_workers)
        if self._shutdown:
            self._queue.close()
        self._threads = set()
        self._joining = set()
        self._shutdown_lock = threading.Lock()

    def shutdown(self, wait=True):
        current = threading.current_thread()
        with self._shutdown_lock:
            self._shutdown = True
            self._queue.close()
            if not wait:
                return

            # Differs from APScheduler: a job that shuts its own executor down with
            # wait=True gets RuntimeError("cannot join current thread") from the
            # reference. Here it waits for the other workers but not for itself, nor
            # for a worker that is itself waiting in here (two jobs doing this at once
            # would otherwise wait for each other).
            others = self._threads - {current}
            if current in self._threads:
                others -= self._joining
                self._joining.add(current)

        # Thread.join waits with the GIL released.
        try:
            for thread in others:
                thread.join()
        finally:
            with self._shutdown_lock:
                self._joining.discard(current)
