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

Between slices no lock is held, so jobs may be added, changed or removed meanwhile: a
due job of a later slice is looked up again and skipped if it is gone or no longer due.
A job that becomes due during the pass is left to the next one, which the caller
starts at once (the returned wait is 0).
"""

from time import perf_counter

from apscheduler.schedulers import base
from apscheduler.schedulers.base import STATE_PAUSED

#: most runs handed to executors in one slice: the tasks they start run in the loop's
#: next iteration, next to the following slice
MAX_RUNS_PER_SLICE = 8
#: seconds of scheduler work after which a slice ends, however few runs it collected
SLICE_BUDGET = 0.00015
#: due jobs read from the library's memory store at a time
PAGE_SIZE = 64
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
        # The library's memory store hands out its due jobs a page at a time, so that
        # a burst of thousands due at once is never listed in one go.
        paged = base._collects_natively(jobstore)
        cursor = None
        gone = False
        while not gone:
            while not lock.acquire(blocking=False):
                yield LOCK_BUSY
            try:
                if scheduler._jobstores.get(jobstore_alias) is not jobstore:
                    gone = True  # removed during an earlier slice
                    break

                if getattr(jobstore, "_claims_due_jobs", False):
                    # A shared store's claim is one transaction: taken in one slice.
                    runs = []
                    removed = []
                    failure = failure or scheduler._collect_claimed_runs(
                        jobstore_alias, jobstore, now, runs, removed
                    )
                    due_jobs = ()
                elif paged:
                    due_jobs, cursor = jobstore._due_page(now, cursor, PAGE_SIZE)
                else:
                    due_jobs = jobstore.get_due_jobs(now)
            except Exception as e:
                scheduler._logger.warning(
                    "Error getting due jobs from job store %r: %s", jobstore_alias, e
                )
                retry_wakeup_time = now + base.timedelta(
                    seconds=scheduler.jobstore_retry_interval
                )
                if not next_wakeup_time or next_wakeup_time > retry_wakeup_time:
                    next_wakeup_time = retry_wakeup_time

                gone = True
                break
            finally:
                lock.release()

            if getattr(jobstore, "_claims_due_jobs", False):
                _finish_slice(scheduler, runs, removed)
                break

            # Our own list: each job is let go once processed, so that a burst of
            # jobs that are finished is freed a slice at a time, not all at the end.
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
                        gone = True
                        break

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

            if not paged or len(due_jobs) < PAGE_SIZE:
                break
            # The next page comes after a yield, like the next slice.
            yield

        if gone:
            continue

        while not lock.acquire(blocking=False):
            yield LOCK_BUSY
        try:
            if scheduler._jobstores.get(jobstore_alias) is not jobstore:
                continue

            if getattr(jobstore, "_claims_due_jobs", False):
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


def _is_due(job, now):
    next_run_time = getattr(job, "next_run_time", None)
    return next_run_time is not None and next_run_time <= now


def _finish_slice(scheduler, runs, removed):
    """Phases 2 and 3 of the core's pass, for the runs and removals of one slice."""
    events = scheduler._submit_runs(runs)
    for job_id, jobstore_alias in removed:
        scheduler._job_removed(job_id, jobstore_alias)

    for event in events:
        scheduler._dispatch_event(event)
