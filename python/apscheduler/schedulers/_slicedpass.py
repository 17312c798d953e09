"""
A pass of the scheduler's loop cut into slices, for schedulers that share a thread with
other work (an asyncio event loop must not be held for milliseconds).

It is ``BaseScheduler._process_jobs`` with the same phases and the same per-job steps
(``_collect_job_run``, ``_submit_runs``, ``_job_removed``, ``_wait_seconds``), taken a
few due jobs at a time: :func:`sliced_pass` is a generator that yields whenever the
caller should let other work run, and returns what ``_process_jobs`` returns. It
yields :data:`LOCK_BUSY` when the job store lock is held by another thread: the
caller tries again a little later instead of blocking its loop on the lock (a thread
adding jobs in a tight loop could otherwise keep the loop waiting for as long).

Between slices no lock is held, so jobs may be added, changed or removed meanwhile:
each slice of the library's memory store reads the store as it is then (after where
the previous slice ended), and a due job listed by another store is looked up again
and skipped if it is gone or no longer due. A job that becomes due during the pass is
left to the next one, which the caller starts at once (the returned wait is 0).
"""

from logging import INFO
from time import perf_counter

from apscheduler._core import collect_due_slice
from apscheduler.job import Job
from apscheduler.schedulers import base
from apscheduler.events import EVENT_JOB_REMOVED
from apscheduler.schedulers.base import STATE_PAUSED, BaseScheduler

#: most runs handed to executors in one slice: the tasks they start run in the loop's
#: next iteration, next to the following slice
MAX_RUNS_PER_SLICE = 8
#: the same when the slice's due jobs are processed natively (the library's memory
#: store): each costs a few microseconds, so a slice may take more of them
MAX_NATIVE_RUNS_PER_SLICE = 32
#: seconds of scheduler work after which a slice ends, however few runs it collected
SLICE_BUDGET = 0.00015
#: yielded when the job store lock is taken: call again after a short while
LOCK_BUSY = "lock busy"


def sliced_pass(scheduler):
    if scheduler.state == STATE_PAUSED:
        scheduler._logger.debug("Scheduler is paused -- not processing jobs")
        return None

    scheduler._logger.debug("Looking for jobs to run")
    # Read through the module at call time: tests replace base.datetime.
    now = base.datetime.now(scheduler.timezone)
    lock = scheduler._jobstores_lock
    next_wakeup_time = None
    failure = None
    while not lock.acquire(blocking=False):
        yield LOCK_BUSY
    try:
        stores = list(scheduler._jobstores.items())
    finally:
        lock.release()

    for jobstore_alias, jobstore in stores:
        # The library's memory store hands out its due jobs a slice at a time, so that
        # a burst of thousands due at once is never listed in one go, and they are
        # processed natively; any other store's are listed at once, then processed a
        # slice at a time.
        if base._claims_due_jobs(jobstore):
            slices = _claimed_slice
        elif base._collects_natively(jobstore):
            slices = _native_slices
        else:
            slices = _python_slices
        try:
            gone, store_failure = yield from slices(
                scheduler, jobstore_alias, jobstore, now
            )
        except _StoreFailed as e:
            scheduler._logger.warning(
                "Error getting due jobs from job store %r: %s", jobstore_alias, e.error
            )
            retry_wakeup_time = now + base.timedelta(
                seconds=scheduler.jobstore_retry_interval
            )
            if not next_wakeup_time or next_wakeup_time > retry_wakeup_time:
                next_wakeup_time = retry_wakeup_time
            continue

        if failure is None:
            failure = store_failure
        if gone:
            continue

        while not lock.acquire(blocking=False):
            yield LOCK_BUSY
        try:
            if scheduler._jobstores.get(jobstore_alias) is not jobstore:
                continue

            if base._claims_due_jobs(jobstore):
                jobstore_next_run_time = jobstore._next_wakeup_time(now)
            else:
                jobstore_next_run_time = jobstore.get_next_run_time()
        finally:
            lock.release()

        if jobstore_next_run_time and (
            next_wakeup_time is None or jobstore_next_run_time < next_wakeup_time
        ):
            next_wakeup_time = jobstore_next_run_time.astimezone(scheduler.timezone)

    if failure is not None:
        raise failure

    return scheduler._wait_seconds(next_wakeup_time)


class _StoreFailed(Exception):
    """The store could not list its due jobs (``error``)."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _native_slices(scheduler, jobstore_alias, jobstore, now):
    """
    The due jobs of the library's memory store, collected natively a slice at a time
    (``_core.collect_due_slice``, with ``_collect_job_run`` for the jobs it leaves to
    Python). Returns ``(gone, failure)``: whether the store was removed meanwhile, and
    the first exception a job raised.
    """
    lock = scheduler._jobstores_lock
    cursor = None
    failure = None
    while True:
        runs = []
        removed = []
        while not lock.acquire(blocking=False):
            yield LOCK_BUSY
        try:
            if scheduler._jobstores.get(jobstore_alias) is not jobstore:
                return True, failure  # removed during an earlier slice

            def python_path(job):
                scheduler._collect_job_run(
                    job, jobstore_alias, jobstore, now, runs, removed
                )

            try:
                store_failure, cursor, more = collect_due_slice(
                    jobstore, now, cursor, MAX_NATIVE_RUNS_PER_SLICE, SLICE_BUDGET,
                    jobstore_alias, scheduler._executors, Job, runs, removed,
                    python_path,
                )
            except Exception as e:
                raise _StoreFailed(e) from None
        finally:
            lock.release()

        if failure is None:
            failure = store_failure
        _finish_slice(scheduler, runs, removed)
        if not more:
            return False, failure
        yield


def _python_slices(scheduler, jobstore_alias, jobstore, now):
    """
    The due jobs of any other store, listed at once and processed a slice at a time
    through ``_collect_job_run``. Returns as :func:`_native_slices`.
    """
    lock = scheduler._jobstores_lock
    failure = None
    while not lock.acquire(blocking=False):
        yield LOCK_BUSY
    try:
        if scheduler._jobstores.get(jobstore_alias) is not jobstore:
            return True, failure  # removed during an earlier slice

        try:
            due_jobs = jobstore.get_due_jobs(now)
        except Exception as e:
            raise _StoreFailed(e) from None
    finally:
        lock.release()

    # Our own list: each job is let go once processed, so that a burst of jobs that
    # are finished is freed a slice at a time, not all at the end.
    due_jobs = list(due_jobs)
    position = 0
    looked_up = False  # True once the loop has run since the jobs were read
    while position < len(due_jobs):
        runs = []
        removed = []
        while not lock.acquire(blocking=False):
            yield LOCK_BUSY
            looked_up = True
        try:
            if scheduler._jobstores.get(jobstore_alias) is not jobstore:
                return True, failure

            deadline = perf_counter() + SLICE_BUDGET
            while position < len(due_jobs) and len(runs) < MAX_RUNS_PER_SLICE:
                job = due_jobs[position]
                due_jobs[position] = None
                position += 1
                if looked_up:
                    job = jobstore.lookup_job(job.id)
                    if job is None or not _is_due(job, now):
                        continue

                try:
                    scheduler._collect_job_run(
                        job, jobstore_alias, jobstore, now, runs, removed
                    )
                except Exception as exc:
                    if failure is None:
                        failure = exc

                if perf_counter() > deadline:
                    break
        finally:
            lock.release()

        _finish_slice(scheduler, runs, removed)
        if position < len(due_jobs):
            yield
            looked_up = True

    return False, failure


def _claimed_slice(scheduler, jobstore_alias, jobstore, now):
    """
    The due jobs of a store shared by several processes: its claim is one
    transaction (see ``BaseScheduler._collect_claimed_runs``), taken in one slice.
    Returns as :func:`_native_slices`.
    """
    lock = scheduler._jobstores_lock
    runs = []
    removed = []
    while not lock.acquire(blocking=False):
        yield LOCK_BUSY
    try:
        if scheduler._jobstores.get(jobstore_alias) is not jobstore:
            return True, None  # removed during an earlier slice

        try:
            failure = scheduler._collect_claimed_runs(
                jobstore_alias, jobstore, now, runs, removed
            )
        except Exception as e:
            raise _StoreFailed(e) from None
    finally:
        lock.release()

    _finish_slice(scheduler, runs, removed)
    return False, failure


def _removals_are_seen(scheduler, listened):
    """Whether ``_job_removed`` would do anything a listener, a log handler or a
    subclass could see: otherwise the slice skips its calls."""
    return (
        listened & EVENT_JOB_REMOVED
        or type(scheduler)._job_removed is not BaseScheduler._job_removed
        or "_job_removed" in scheduler.__dict__
        or scheduler._logger.isEnabledFor(INFO)
    )


def _is_due(job, now):
    next_run_time = getattr(job, "next_run_time", None)
    return next_run_time is not None and next_run_time <= now


def _finish_slice(scheduler, runs, removed):
    """Phases 2 and 3 of the core's pass, for the runs and removals of one slice."""
    listened = scheduler._listened_codes()
    events = scheduler._submit_runs(runs, listened)
    if removed and _removals_are_seen(scheduler, listened):
        for job_id, jobstore_alias in removed:
            scheduler._job_removed(job_id, jobstore_alias, listened)

    for event in events:
        scheduler._dispatch_event(event)
