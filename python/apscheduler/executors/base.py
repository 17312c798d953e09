import logging
import sys
import traceback
from abc import ABCMeta, abstractmethod
from collections import defaultdict

# ``datetime`` is looked up through this module's namespace at call time so that the
# clock can be replaced (tests freeze time by patching this very name).
from datetime import datetime, timedelta, timezone
from traceback import format_tb

from apscheduler import _runwatch
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)


class MaxInstancesReachedError(Exception):
    def __init__(self, job):
        super().__init__(
            f'Job "{job.id}" has already reached its maximum number of instances '
            f"({job.max_instances})"
        )


class BaseExecutor(metaclass=ABCMeta):
    """
    Abstract base class that defines the interface that every executor must
    implement.
    """

    _scheduler = None
    _lock = None
    # Until start() learns the executor's alias, messages go to the generic logger.
    _logger = logging.getLogger("apscheduler.executors")

    def __init__(self):
        super().__init__()
        # job id -> number of instances currently submitted or running
        self._instances = defaultdict(int)

    def start(self, scheduler, alias):
        """
        Called by the scheduler when the scheduler is being started or when the executor
        is being added to an already running scheduler.

        :param apscheduler.schedulers.base.BaseScheduler scheduler: the scheduler that
            is starting this executor
        :param str|unicode alias: alias of this executor as it was assigned to the
            scheduler

        """
        self._scheduler = scheduler
        # The scheduler decides the lock type (a gevent scheduler needs a gevent lock).
        self._lock = scheduler._create_lock()
        self._logger = logging.getLogger(f"apscheduler.executors.{alias}")

    def shutdown(self, wait=True):
        """
        Shuts down this executor.

        :param bool wait: ``True`` to wait until all submitted jobs
            have been executed
        """

    def submit_job(self, job, run_times):
        """
        Submits job for execution.

        :param Job job: job to execute
        :param list[datetime] run_times: list of datetimes specifying
            when the job should have been run
        :raises MaxInstancesReachedError: if the maximum number of
            allowed instances for this job has been reached

        """
        assert self._lock is not None, "This executor has not been started yet"
        with self._lock:
            if self._instances[job.id] >= job.max_instances:
                raise MaxInstancesReachedError(job)

            # Counted only once the submission itself has succeeded.
            self._do_submit_job(job, run_times)
            self._instances[job.id] += 1

    @abstractmethod
    def _do_submit_job(self, job, run_times):
        """Performs the actual task of scheduling `run_job` to be called."""

    def _release_instance(self, job_id):
        with self._lock:
            self._instances[job_id] -= 1
            if self._instances[job_id] == 0:
                del self._instances[job_id]
        if _runwatch.watchers:
            _runwatch.released(job_id)

    def _run_job_success(self, job_id, events):
        """
        Called by the executor with the list of generated events when :func:`run_job`
        has been successfully called.

        """
        self._release_instance(job_id)
        for event in events:
            self._scheduler._dispatch_event(event)

    def _run_job_error(self, job_id, exc, traceback=None):
        """
        Called by the executor with the exception if there is an error calling
        `run_job`.
        """
        self._release_instance(job_id)
        exc_info = (exc.__class__, exc, traceback)
        self._logger.error("Error running job %s", job_id, exc_info=exc_info)


def _missed_event(job, jobstore_alias, run_time, logger):
    """
    Return a "missed" event if ``run_time`` lies further in the past than the job's
    misfire grace time allows, else ``None``.

    """
    if job.misfire_grace_time is None:
        return None

    lateness = datetime.now(timezone.utc) - run_time
    if lateness <= timedelta(seconds=job.misfire_grace_time):
        return None

    # APScheduler's message, then which setting decided it.
    logger.warning(
        'Run time of job "%s" was missed by %s (more than its misfire_grace_time of '
        "%s s; a larger value, or None, lets late runs go ahead)",
        job,
        lateness,
        job.misfire_grace_time,
    )
    return JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time)


def _error_event(job, jobstore_alias, run_time, logger, exc=None):
    """
    Build the error event for ``exc`` (default: the exception being handled), and log
    it.
    """
    if exc is None:
        exc = sys.exc_info()[1]
    tb = exc.__traceback__
    event = JobExecutionEvent(
        EVENT_JOB_ERROR,
        job.id,
        jobstore_alias,
        run_time,
        exception=exc,
        traceback="".join(format_tb(tb)),
    )
    logger.error('Job "%s" raised an exception', job, exc_info=exc)
    # The frames would otherwise keep every local of the failed job alive for as long
    # as the exception (stored on the event) lives.
    traceback.clear_frames(tb)
    return event


def _success_event(job, jobstore_alias, run_time, retval, logger):
    logger.info('Job "%s" executed successfully', job)
    return JobExecutionEvent(
        EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=retval
    )


def _call_job(job):
    # The native pool's workers call jobs through here, so that a job's traceback
    # starts at this line, as it starts at the same line of run_job() below.
    retval = job.func(*job.args, **job.kwargs)
    return retval


async def _await_job(job):
    # The native coroutine runner (apscheduler._core.CoroutineRun) awaits jobs through
    # here, so that a job's traceback starts at this line, as it starts at the same
    # line of run_coroutine_job() below.
    retval = await job.func(*job.args, **job.kwargs)
    return retval


def run_job(job, jobstore_alias, run_times, logger_name):
    """
    Called by executors to run the job. Returns a list of scheduler events to be
    dispatched by the scheduler.

    """
    events = []
    logger = logging.getLogger(logger_name)
    for run_time in run_times:
        missed = _missed_event(job, jobstore_alias, run_time, logger)
        if missed is not None:
            events.append(missed)
            continue

        logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        # BaseException on purpose: a job calling sys.exit() must not take the worker
        # down with it.
        try:
            retval = job.func(*job.args, **job.kwargs)
        except BaseException:
            events.append(_error_event(job, jobstore_alias, run_time, logger))
        else:
            events.append(_success_event(job, jobstore_alias, run_time, retval, logger))

    return events


async def run_coroutine_job(job, jobstore_alias, run_times, logger_name):
    """Coroutine version of run_job()."""
    events = []
    logger = logging.getLogger(logger_name)
    for run_time in run_times:
        missed = _missed_event(job, jobstore_alias, run_time, logger)
        if missed is not None:
            events.append(missed)
            continue

        logger.info('Running job "%s" (scheduled at %s)', job, run_time)
        try:
            retval = await job.func(*job.args, **job.kwargs)
        except BaseException:
            events.append(_error_event(job, jobstore_alias, run_time, logger))
        else:
            events.append(_success_event(job, jobstore_alias, run_time, retval, logger))

    return events
