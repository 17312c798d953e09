import os
import sys
import threading
import warnings
import weakref
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping, MutableMapping
from contextlib import ExitStack, nullcontext
from functools import wraps
from itertools import groupby
from operator import itemgetter

# ``datetime`` and ``get_localzone`` are resolved through this module's namespace when
# used, which lets the clock and the local time zone be replaced (tests patch them).
from datetime import datetime, timedelta
from logging import getLogger
from threading import TIMEOUT_MAX, Lock, RLock

from tzlocal import get_localzone

from apscheduler import _runwatch
from apscheduler._core import add_job_natively as _add_job_natively
from apscheduler._core import collect_due_runs as _collect_due_runs_natively
from apscheduler._core import report_jobs_added as _report_jobs_added_natively
from apscheduler._core import report_jobs_removed as _report_jobs_removed_natively
from apscheduler._core import store_pending_jobs as _store_pending_jobs_natively
from apscheduler.events import (
    EVENT_ALL,
    EVENT_ALL_JOBS_REMOVED,
    EVENT_EXECUTOR_ADDED,
    EVENT_EXECUTOR_REMOVED,
    EVENT_JOB_ADDED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MODIFIED,
    EVENT_JOB_REMOVED,
    EVENT_JOB_SUBMITTED,
    EVENT_JOBSTORE_ADDED,
    EVENT_JOBSTORE_REMOVED,
    EVENT_SCHEDULER_PAUSED,
    EVENT_SCHEDULER_RESUMED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
    JobEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores import _shared
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import (
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
)
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import (
    asbool,
    asint,
    astimezone,
    maybe_ref,
    obj_to_ref,
    ref_to_obj,
    undefined,
)

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2


class _EntryPoints:
    """
    The entry points of one plug-in group (``name -> EntryPoint``), read on first use.

    Reading the installed distributions' metadata takes tens of milliseconds, which
    an application that only ever passes plug-in instances should not pay at import
    time. The dictionary is built once and shared, like a plain class attribute; an
    instance (or subclass) may still replace it by assignment.
    """

    def __init__(self, group):
        self._group = group
        self._plugins = None

    def __get__(self, instance, owner=None):
        if self._plugins is None:
            self._plugins = _load_entry_points(self._group)

        return self._plugins


def _load_entry_points(group):
    from importlib.metadata import entry_points

    try:
        selected = entry_points(group=group)
    except TypeError:  # Python 3.9: entry_points() takes no arguments
        selected = entry_points().get(group, ())

    return {ep.name: ep for ep in selected}


class BaseScheduler(metaclass=ABCMeta):
    """
    Abstract base class for all schedulers.

    Takes the following keyword arguments:

    :param str|logging.Logger logger: logger to use for the scheduler's logging
        (defaults to apscheduler.scheduler)
    :param str|datetime.tzinfo timezone: the default time zone (defaults to the local
        timezone)
    :param int|float jobstore_retry_interval: the minimum number of seconds to wait
        between retries in the scheduler's main loop if the job store raises an
        exception when getting the list of due jobs
    :param dict job_defaults: default values for newly added jobs
    :param dict jobstores: a dictionary of job store alias -> job store instance or
        configuration dict
    :param dict executors: a dictionary of executor alias -> executor instance or
        configuration dict

    :ivar int state: current running state of the scheduler (one of the following
        constants from ``apscheduler.schedulers.base``: ``STATE_STOPPED``,
        ``STATE_RUNNING``, ``STATE_PAUSED``)

    .. seealso:: :ref:`scheduler-config`
    """

    # Locking rules: ``_jobstores_lock`` makes every read-modify-write of the job
    # stores (and of the pending job list) atomic, so it is held around job store
    # calls; it is never held while an executor runs a job or while a listener is
    # called. Events are therefore collected while a lock is held and dispatched once
    # it has been let go, which also lets any job or listener call back into the
    # scheduler (including shutdown()) from any thread.

    _trigger_plugins = _EntryPoints("apscheduler.triggers")
    _executor_plugins = _EntryPoints("apscheduler.executors")
    _jobstore_plugins = _EntryPoints("apscheduler.jobstores")

    # Plug-in classes already loaded, by alias (shared by all schedulers).
    _trigger_classes = {}
    _executor_classes = {}
    _jobstore_classes = {}

    # Replaced by a lock of its own in __init__(); this shared one only serves
    # subclasses whose constructor does not call ours.
    _state_lock = Lock()

    # Set by a pass that could not read a job store (it is read again at the next
    # pass): the loop of BlockingScheduler then makes no early pass before a due run,
    # which would read the store, and log its failure, once more than APScheduler does.
    _store_failed = False

    #
    # Public API
    #

    def __init__(self, gconfig={}, **options):
        super().__init__()
        self._executors = {}
        self._executors_lock = self._create_lock()
        self._jobstores = {}
        self._jobstores_lock = self._create_lock()
        self._listeners = []
        self._listeners_lock = self._create_lock()
        # (job, jobstore alias, replace_existing) for jobs added before start()
        self._pending_jobs = []
        # Makes the check-and-set of the state in shutdown() atomic, so that two
        # threads cannot both shut the scheduler down. Held for a few instructions
        # only, never around other code.
        self._state_lock = Lock()
        self.state = STATE_STOPPED
        _register_for_fork(self)
        self.configure(gconfig, **options)

    def __getstate__(self):
        raise TypeError(
            "Schedulers cannot be serialized. Ensure that you are not passing a "
            "scheduler instance as an argument to a job, or scheduling an instance "
            "method where the instance contains a scheduler as an attribute."
        )

    def configure(self, gconfig={}, prefix="apscheduler.", **options):
        """
        Reconfigures the scheduler with the given options.

        Can only be done when the scheduler isn't running.

        :param dict gconfig: a "global" configuration dictionary whose values can be
            overridden by keyword arguments to this method
        :param str|unicode prefix: pick only those keys from ``gconfig`` that are
            prefixed with this string (pass an empty string or ``None`` to use all keys)
        :raises SchedulerAlreadyRunningError: if the scheduler is already running

        """
        if self.state != STATE_STOPPED:
            raise SchedulerAlreadyRunningError

        if prefix:
            gconfig = {
                key[len(prefix) :]: value
                for key, value in gconfig.items()
                if key.startswith(prefix)
            }

        # Dotted keys become nested dictionaries: {"a.b.c": 1} -> {"a": {"b": {"c": 1}}}
        config = {}
        for key, value in gconfig.items():
            *parents, leaf = key.split(".")
            branch = config
            for part in parents:
                branch = branch.setdefault(part, {})
            branch[leaf] = value

        # Keyword arguments replace whole top-level entries of the global config.
        config.update(options)
        self._configure(config)

    def start(self, paused=False):
        """
        Start the configured executors and job stores and begin processing scheduled
        jobs.

        :param bool paused: if ``True``, don't start job processing until
            :meth:`resume` is called
        :raises SchedulerAlreadyRunningError: if the scheduler is already running
        :raises RuntimeError: if running under uWSGI with threads disabled

        """
        if self.state != STATE_STOPPED:
            raise SchedulerAlreadyRunningError

        self._check_uwsgi()
        # Again for a subclass whose constructor does not call ours.
        _register_for_fork(self)
        self.__dict__.pop("_stopped_by_fork", None)

        # The defaults are added before the locks are taken, so that the "added"
        # events reach the listeners without any lock held.
        with self._executors_lock:
            need_executor = "default" not in self._executors
        if need_executor:
            self.add_executor(self._create_default_executor(), "default")

        with self._executors_lock:
            for alias, executor in self._executors.items():
                executor.start(self, alias)

        with self._jobstores_lock:
            need_jobstore = "default" not in self._jobstores
        if need_jobstore:
            self.add_jobstore(self._create_default_jobstore(), "default")

        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                store.start(self, alias)

        self._schedule_pending_jobs(STATE_PAUSED if paused else STATE_RUNNING)
        self._logger.info("Scheduler started")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_STARTED))

        if not paused:
            self.wakeup()

    @abstractmethod
    def shutdown(self, wait=True):
        """
        Shuts down the scheduler, along with its executors and job stores.

        Does not interrupt any currently running jobs.

        :param bool wait: ``True`` to wait until all currently executing jobs have
            finished
        :raises SchedulerNotRunningError: if the scheduler has not been started yet

        """
        with self._state_lock:
            if self.state == STATE_STOPPED:
                # A scheduler stopped by a fork was running as far as the code that
                # forked knows (post-fork hooks of pre-forking servers commonly shut
                # it down), so that first shutdown succeeds as with the reference.
                if self.__dict__.pop("_stopped_by_fork", False):
                    return
                raise SchedulerNotRunningError

            self.state = STATE_STOPPED

        # Shut down outside the locks: an executor waiting for its running jobs must
        # not keep those jobs from calling back into the scheduler.
        with self._executors_lock:
            executors = list(self._executors.values())
        with self._jobstores_lock:
            jobstores = list(self._jobstores.values())

        for executor in executors:
            executor.shutdown(wait)

        for jobstore in jobstores:
            jobstore.shutdown()

        self._logger.info("Scheduler has been shut down")
        self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_SHUTDOWN))

    def pause(self):
        """
        Pause job processing in the scheduler.

        This will prevent the scheduler from waking up to do job processing until
        :meth:`resume` is called. It will not however stop any already running job
        processing.

        """
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        elif self.state == STATE_RUNNING:
            self.state = STATE_PAUSED
            self._logger.info("Paused scheduler job processing")
            self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_PAUSED))

    def resume(self):
        """Resume job processing in the scheduler."""
        if self.state == STATE_STOPPED:
            raise SchedulerNotRunningError
        elif self.state == STATE_PAUSED:
            self.state = STATE_RUNNING
            self._logger.info("Resumed scheduler job processing")
            self._dispatch_event(SchedulerEvent(EVENT_SCHEDULER_RESUMED))
            self.wakeup()

    @property
    def running(self):
        """
        Return ``True`` if the scheduler has been started.

        This is a shortcut for ``scheduler.state != STATE_STOPPED``.

        """
        return self.state != STATE_STOPPED

    def add_executor(self, executor, alias="default", **executor_opts):
        """
        Adds an executor to this scheduler.

        Any extra keyword arguments will be passed to the executor plugin's
        constructor, assuming that the first argument is the name of an executor
        plugin.

        :param str|unicode|apscheduler.executors.base.BaseExecutor executor: either an
            executor instance or the name of an executor plugin
        :param str|unicode alias: alias for the scheduler
        :raises ValueError: if there is already an executor by the given alias

        """
        with self._executors_lock:
            if alias in self._executors:
                raise ValueError(
                    f'This scheduler already has an executor by the alias of "{alias}"'
                )

            if isinstance(executor, str):
                executor = self._create_plugin_instance(
                    "executor", executor, executor_opts
                )
            elif not isinstance(executor, BaseExecutor):
                raise TypeError(
                    f"Expected an executor instance or a string, got "
                    f"{executor.__class__.__name__} instead"
                )

            self._executors[alias] = executor
            # Started while the lock is held, so that nobody can find it unstarted.
            if self.state != STATE_STOPPED:
                executor.start(self, alias)

        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_ADDED, alias))

    def remove_executor(self, alias, shutdown=True):
        """
        Removes the executor by the given alias from this scheduler.

        :param str|unicode alias: alias of the executor
        :param bool shutdown: ``True`` to shut down the executor after
            removing it

        """
        with self._executors_lock:
            executor = self._lookup_executor(alias)
            del self._executors[alias]

        if shutdown:
            executor.shutdown()

        self._dispatch_event(SchedulerEvent(EVENT_EXECUTOR_REMOVED, alias))

    def add_jobstore(self, jobstore, alias="default", **jobstore_opts):
        """
        Adds a job store to this scheduler.

        Any extra keyword arguments will be passed to the job store plugin's
        constructor, assuming that the first argument is the name of a job store
        plugin.

        :param str|unicode|apscheduler.jobstores.base.BaseJobStore jobstore: job store
            to be added
        :param str|unicode alias: alias for the job store
        :raises ValueError: if there is already a job store by the given alias

        """
        with self._jobstores_lock:
            if alias in self._jobstores:
                raise ValueError(
                    f'This scheduler already has a job store by the alias of "{alias}"'
                )

            if isinstance(jobstore, str):
                jobstore = self._create_plugin_instance(
                    "jobstore", jobstore, jobstore_opts
                )
            elif not isinstance(jobstore, BaseJobStore):
                raise TypeError(
                    f"Expected a job store instance or a string, got "
                    f"{jobstore.__class__.__name__} instead"
                )

            self._jobstores[alias] = jobstore
            # Started while the lock is held: the processing loop must never see a
            # job store that has not been started.
            if self.state != STATE_STOPPED:
                jobstore.start(self, alias)

        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_ADDED, alias))

        # The new store may hold jobs that are due before the current wakeup time.
        if self.state != STATE_STOPPED:
            self.wakeup()

    def remove_jobstore(self, alias, shutdown=True):
        """
        Removes the job store by the given alias from this scheduler.

        :param str|unicode alias: alias of the job store
        :param bool shutdown: ``True`` to shut down the job store after removing it

        """
        with self._jobstores_lock:
            jobstore = self._lookup_jobstore(alias)
            del self._jobstores[alias]

        if shutdown:
            jobstore.shutdown()

        self._dispatch_event(SchedulerEvent(EVENT_JOBSTORE_REMOVED, alias))

    def add_listener(self, callback, mask=EVENT_ALL):
        """
        add_listener(callback, mask=EVENT_ALL)

        Adds a listener for scheduler events.

        When a matching event  occurs, ``callback`` is executed with the event object
        as its sole argument. If the ``mask`` parameter is not provided, the callback
        will receive events of all types.

        :param callback: any callable that takes one argument
        :param int mask: bitmask that indicates which events should be
            listened to

        .. seealso:: :mod:`apscheduler.events`
        .. seealso:: :ref:`scheduler-events`

        """
        with self._listeners_lock:
            self._listeners.append((callback, mask))

    def remove_listener(self, callback):
        """Removes a previously added event listener."""

        # Differs from APScheduler: every registration of the callback is removed.
        # APScheduler deletes from the list while iterating over it, which skips the
        # entry after each removed one, so a callback added twice in a row stayed.
        with self._listeners_lock:
            self._listeners[:] = [
                entry for entry in self._listeners if not entry[0] == callback
            ]

    def add_job(
        self,
        func,
        trigger=None,
        args=None,
        kwargs=None,
        id=None,
        name=None,
        misfire_grace_time=undefined,
        coalesce=undefined,
        max_instances=undefined,
        next_run_time=undefined,
        jobstore="default",
        executor="default",
        replace_existing=False,
        **trigger_args,
    ):
        """
        add_job(func, trigger=None, args=None, kwargs=None, id=None, \
            name=None, misfire_grace_time=undefined, coalesce=undefined, \
            max_instances=undefined, next_run_time=undefined, \
            jobstore='default', executor='default', \
            replace_existing=False, **trigger_args)

        Adds the given job to the job list and wakes up the scheduler if it's already
        running.

        Any option that defaults to ``undefined`` will be replaced with the
        corresponding default value when the job is scheduled (which happens when the
        scheduler is started, or immediately if the scheduler is already running).

        The ``func`` argument can be given either as a callable object or a textual
        reference in the ``package.module:some.object`` format, where the first half
        (separated by ``:``) is an importable module and the second half is a reference
        to the callable object, relative to the module.

        The ``trigger`` argument can either be:
          #. the alias name of the trigger (e.g. ``date``, ``interval`` or ``cron``),
            in which case any extra keyword arguments to this method are passed on to
            the trigger's constructor
          #. an instance of a trigger class

        :param func: callable (or a textual reference to one) to run at the given time
        :param str|apscheduler.triggers.base.BaseTrigger trigger: trigger that
            determines when ``func`` is called
        :param list|tuple args: list of positional arguments to call func with
        :param dict kwargs: dict of keyword arguments to call func with
        :param str|unicode id: explicit identifier for the job (for modifying it later)
        :param str|unicode name: textual description of the job
        :param int misfire_grace_time: seconds after the designated runtime that the
            job is still allowed to be run (or ``None`` to allow the job to run no
            matter how late it is)
        :param bool coalesce: run once instead of many times if the scheduler
            determines that the job should be run more than once in succession
        :param int max_instances: maximum number of concurrently running instances
            allowed for this job
        :param datetime next_run_time: when to first run the job, regardless of the
            trigger (pass ``None`` to add the job as paused)
        :param str|unicode jobstore: alias of the job store to store the job in
        :param str|unicode executor: alias of the executor to run the job with
        :param bool replace_existing: ``True`` to replace an existing job with the same
            ``id`` (but retain the number of runs from the existing one)
        :rtype: Job

        """
        # The common case (a plain function, the library's own add path) is done
        # natively by the wrapper installed after the class (see _add_job_natively):
        # this is the rest.
        job_kwargs = {
            "trigger": self._create_trigger(trigger, trigger_args),
            "executor": executor,
            "func": func,
            "args": tuple(args) if args is not None else (),
            "kwargs": dict(kwargs) if kwargs is not None else {},
            "id": id,
            "name": name,
        }
        # Options left undefined get the scheduler's job defaults once the job is
        # really added to a job store (see _real_add_job()).
        for key, value in (
            ("misfire_grace_time", misfire_grace_time),
            ("coalesce", coalesce),
            ("max_instances", max_instances),
            ("next_run_time", next_run_time),
        ):
            if value is not undefined:
                job_kwargs[key] = value

        job = Job(self, **job_kwargs)

        # Jobs only go into job stores once the scheduler (and so the stores) runs.
        with self._jobstores_lock:
            pending = self.state == STATE_STOPPED
            if pending:
                self._pending_jobs.append((job, jobstore, replace_existing))

        if pending:
            self._logger.info(
                "Adding job tentatively -- it will be properly scheduled when "
                "the scheduler starts"
            )
        else:
            self._real_add_job(job, jobstore, replace_existing)

        return job

    def scheduled_job(
        self,
        trigger,
        args=None,
        kwargs=None,
        id=None,
        name=None,
        misfire_grace_time=undefined,
        coalesce=undefined,
        max_instances=undefined,
        next_run_time=undefined,
        jobstore="default",
        executor="default",
        **trigger_args,
    ):
        """
        scheduled_job(trigger, args=None, kwargs=None, id=None, \
            name=None, misfire_grace_time=undefined, \
            coalesce=undefined, max_instances=undefined, \
            next_run_time=undefined, jobstore='default', \
            executor='default',**trigger_args)

        A decorator version of :meth:`add_job`, except that ``replace_existing`` is
        always ``True``.

        .. important:: The ``id`` argument must be given if scheduling a job in a
        persistent job store. The scheduler cannot, however, enforce this requirement.

        """

        def decorator(func):
            # The function itself is returned, so decorators can be stacked.
            self.add_job(
                func,
                trigger,
                args,
                kwargs,
                id,
                name,
                misfire_grace_time,
                coalesce,
                max_instances,
                next_run_time,
                jobstore,
                executor,
                True,
                **trigger_args,
            )
            return func

        return decorator

    def modify_job(self, job_id, jobstore=None, **changes):
        """
        Modifies the properties of a single job.

        Modifications are passed to this method as extra keyword arguments.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that contains the job
        :return Job: the relevant job instance

        """
        with self._jobstores_lock:
            job, jobstore = self._lookup_job(job_id, jobstore)
            job._modify(**changes)
            if jobstore:
                self._lookup_jobstore(jobstore).update_job(job)

        self._dispatch_event(JobEvent(EVENT_JOB_MODIFIED, job_id, jobstore))

        # The job's next run time may have moved closer.
        if self.state == STATE_RUNNING:
            self.wakeup()

        return job

    def reschedule_job(self, job_id, jobstore=None, trigger=None, **trigger_args):
        """
        Constructs a new trigger for a job and updates its next run time.

        Extra keyword arguments are passed directly to the trigger's constructor.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that contains the job
        :param trigger: alias of the trigger type or a trigger instance
        :return Job: the relevant job instance

        """
        trigger = self._create_trigger(trigger, trigger_args)
        now = datetime.now(self.timezone)
        next_run_time = trigger.get_next_fire_time(None, now)
        return self.modify_job(
            job_id, jobstore, trigger=trigger, next_run_time=next_run_time
        )

    def pause_job(self, job_id, jobstore=None):
        """
        Causes the given job not to be executed until it is explicitly resumed.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that contains the job
        :return Job: the relevant job instance

        """
        return self.modify_job(job_id, jobstore, next_run_time=None)

    def resume_job(self, job_id, jobstore=None):
        """
        Resumes the schedule of the given job, or removes the job if its schedule is
        finished.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that contains the job
        :return Job|None: the relevant job instance if the job was rescheduled, or
            ``None`` if no next run time could be calculated and the job was removed

        """
        with self._jobstores_lock:
            job, jobstore = self._lookup_job(job_id, jobstore)
            now = datetime.now(self.timezone)
            next_run_time = job.trigger.get_next_fire_time(None, now)

        # modify_job() and remove_job() dispatch events, so they run without the lock.
        if next_run_time:
            return self.modify_job(job_id, jobstore, next_run_time=next_run_time)

        self.remove_job(job.id, jobstore)
        return None

    def get_jobs(self, jobstore=None, pending=None):
        """
        Returns a list of pending jobs (if the scheduler hasn't been started yet) and
        scheduled jobs, either from a specific job store or from all of them.

        If the scheduler has not been started yet, only pending jobs can be returned
        because the job stores haven't been started yet either.

        :param str|unicode jobstore: alias of the job store
        :param bool pending: **DEPRECATED**
        :rtype: list[Job]

        """
        if pending is not None:
            warnings.warn(
                'The "pending" option is deprecated -- get_jobs() always returns '
                "scheduled jobs if the scheduler has been started and pending jobs "
                "otherwise",
                DeprecationWarning,
            )

        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                return [
                    job
                    for job, alias, _ in self._pending_jobs
                    if jobstore is None or alias == jobstore
                ]

            jobs = []
            for alias, store in self._jobstores.items():
                if jobstore is None or alias == jobstore:
                    jobs.extend(store.get_all_jobs())

            return jobs

    def get_job(self, job_id, jobstore=None):
        """
        Returns the Job that matches the given ``job_id``.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that most likely contains
            the job
        :return: the Job by the given ID, or ``None`` if it wasn't found
        :rtype: Job

        """
        with self._jobstores_lock:
            try:
                return self._lookup_job(job_id, jobstore)[0]
            except JobLookupError:
                return None

    def remove_job(self, job_id, jobstore=None):
        """
        Removes a job, preventing it from being run any more.

        :param str|unicode job_id: the identifier of the job
        :param str|unicode jobstore: alias of the job store that contains the job
        :raises JobLookupError: if the job was not found

        """
        removed_from = None
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                for index, (job, alias, _) in enumerate(self._pending_jobs):
                    if job.id == job_id and jobstore in (None, alias):
                        del self._pending_jobs[index]
                        removed_from = alias
                        break
            else:
                # The first store (in the order they were added) that has it wins.
                for alias, store in self._jobstores.items():
                    if jobstore in (None, alias):
                        try:
                            store.remove_job(job_id)
                        except JobLookupError:
                            continue

                        removed_from = alias
                        break

        if removed_from is None:
            raise JobLookupError(job_id)

        self._job_removed(job_id, removed_from)

    def remove_all_jobs(self, jobstore=None):
        """
        Removes all jobs from the specified job store, or all job stores if none is
        given.

        :param str|unicode jobstore: alias of the job store

        """
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                if jobstore:
                    self._pending_jobs = [
                        entry for entry in self._pending_jobs if entry[1] != jobstore
                    ]
                else:
                    self._pending_jobs = []
            else:
                for alias, store in self._jobstores.items():
                    if jobstore in (None, alias):
                        store.remove_all_jobs()

        self._dispatch_event(SchedulerEvent(EVENT_ALL_JOBS_REMOVED, jobstore))

    def print_jobs(self, jobstore=None, out=None):
        """
        print_jobs(jobstore=None, out=sys.stdout)

        Prints out a textual listing of all jobs currently scheduled on either all job
        stores or just a specific one.

        :param str|unicode jobstore: alias of the job store, ``None`` to list jobs from
            all stores
        :param file out: a file-like object to print to (defaults to  **sys.stdout** if
            nothing is given)

        """
        out = out or sys.stdout
        # The listing is built under the lock and written after it is released, so a
        # slow output stream does not hold up the scheduler.
        lines = []
        with self._jobstores_lock:
            if self.state == STATE_STOPPED:
                lines.append("Pending jobs:")
                if self._pending_jobs:
                    lines.extend(
                        f"    {job}"
                        for job, alias, _ in self._pending_jobs
                        if jobstore in (None, alias)
                    )
                else:
                    lines.append("    No pending jobs")
            else:
                for alias, store in sorted(self._jobstores.items()):
                    if jobstore in (None, alias):
                        lines.append(f"Jobstore {alias}:")
                        jobs = store.get_all_jobs()
                        if jobs:
                            lines.extend(f"    {job}" for job in jobs)
                        else:
                            lines.append("    No scheduled jobs")

        for line in lines:
            print(line, file=out)

    def export_jobs(self, outfile, jobstore=None):
        """
        Export stored jobs as JSON.

        :param outfile: either a file object opened in text write mode ("w"), or a path
            to the target file
        :param jobstore: alias of the job store to export jobs from (if omitted, export
            from all configured job stores)

        """
        import json

        from apscheduler import version

        if self.state == STATE_STOPPED:
            raise RuntimeError(
                "the scheduler must have been started for job export to work"
            )

        with self._jobstores_lock:
            jobs = [
                job
                for alias, store in self._jobstores.items()
                if jobstore in (None, alias)
                for job in store.get_all_jobs()
            ]

        document = {
            "version": 1,
            "scheduler_version": version,
            "jobs": [job.__getstate__() for job in jobs],
        }
        with ExitStack() as stack:
            if not hasattr(outfile, "write"):
                outfile = stack.enter_context(open(outfile, "w"))

            json.dump(document, outfile, default=_encode_for_json)

    def import_jobs(self, infile, jobstore="default"):
        """
        Import jobs previously exported via :meth:`export_jobs.

        :param infile: either a file object opened in text read mode ("r") or a path to
            a JSON file containing previously exported jobs
        :param jobstore: the alias of the job store to import the jobs to

        """
        import json

        store = self._jobstores[jobstore]
        with ExitStack() as stack:
            if not hasattr(infile, "read"):
                infile = stack.enter_context(open(infile))

            data = json.load(infile, object_hook=_decode_from_json)

        if not isinstance(data, dict):
            raise ValueError()

        if (version := data.get("version", None)) != 1:
            raise ValueError(f"unrecognized version: {version}")

        for job_state in data["jobs"]:
            job = object.__new__(Job)
            job.__setstate__(job_state)
            job._scheduler = self
            job._jobstore_alias = jobstore
            with self._jobstores_lock:
                store.add_job(job)

        # The imported jobs may be due before the current wakeup time.
        if self.state == STATE_RUNNING:
            self.wakeup()

    @abstractmethod
    def wakeup(self):
        """
        Notifies the scheduler that there may be jobs due for execution.
        Triggers :meth:`_process_jobs` to be run in an implementation specific manner.
        """

    #
    # Private API
    #

    def _configure(self, config):
        # General options
        self._logger = maybe_ref(config.pop("logger", None)) or getLogger(
            "apscheduler.scheduler"
        )
        self.timezone = astimezone(config.pop("timezone", None)) or get_localzone()
        self.jobstore_retry_interval = float(config.pop("jobstore_retry_interval", 10))

        # Defaults for the options that add_job() leaves undefined
        job_defaults = config.get("job_defaults", {})
        self._job_defaults = {
            "misfire_grace_time": asint(job_defaults.get("misfire_grace_time", 1)),
            "coalesce": asbool(job_defaults.get("coalesce", True)),
            "max_instances": asint(job_defaults.get("max_instances", 1)),
        }

        self._executors.clear()
        for alias, value in config.get("executors", {}).items():
            if isinstance(value, BaseExecutor):
                executor = value
            elif isinstance(value, MutableMapping):
                executor = self._plugin_from_config("executor", alias, value)
            else:
                raise TypeError(
                    f"Expected executor instance or dict for executors['{alias}'], "
                    f"got {value.__class__.__name__} instead"
                )

            self.add_executor(executor, alias)

        self._jobstores.clear()
        for alias, value in config.get("jobstores", {}).items():
            if isinstance(value, BaseJobStore):
                jobstore = value
            elif isinstance(value, MutableMapping):
                jobstore = self._plugin_from_config("jobstore", alias, value)
            else:
                raise TypeError(
                    f"Expected job store instance or dict for jobstores['{alias}'], "
                    f"got {value.__class__.__name__} instead"
                )

            self.add_jobstore(jobstore, alias)

    def _plugin_from_config(self, type_, alias, options):
        """
        Create an executor or job store from its configuration dictionary: ``type``
        names a plug-in by its alias, ``class`` a class (or a ``module:Class``
        reference); every other key is passed to the constructor.

        """
        # Differs from APScheduler: the configuration dictionary is copied, not
        # consumed. APScheduler pops "type" and "class" from the caller's dictionary,
        # so the same configuration could not be used for a second scheduler.
        options = dict(options)
        plugin_class = options.pop("class", None)
        plugin = options.pop("type", None)
        if plugin:
            return self._create_plugin_instance(type_, plugin, options)

        if plugin_class:
            return maybe_ref(plugin_class)(**options)

        if type_ == "executor":
            raise ValueError(
                f'Cannot create executor "{alias}" -- either "type" or "class" must be '
                f"defined"
            )

        raise ValueError(
            f'Cannot create job store "{alias}" -- either "type" or "class" must be '
            f"defined"
        )

    def _create_default_executor(self):
        """Creates a default executor, specific to the particular scheduler type."""
        return ThreadPoolExecutor()

    def _create_default_jobstore(self):
        """Creates a default job store, specific to the particular scheduler type."""
        return MemoryJobStore()

    def _lookup_executor(self, alias):
        """
        Returns the executor instance by the given name from the list of executors that
        were added to this scheduler.

        :type alias: str
        :raises KeyError: if no executor by the given alias is not found

        """
        try:
            return self._executors[alias]
        except KeyError:
            raise KeyError(f"No such executor: {alias}") from None

    def _lookup_jobstore(self, alias):
        """
        Returns the job store instance by the given name from the list of job stores
        that were added to this scheduler.

        :type alias: str
        :raises KeyError: if no job store by the given alias is not found

        """
        try:
            return self._jobstores[alias]
        except KeyError:
            raise KeyError(f"No such job store: {alias}") from None

    def _lookup_job(self, job_id, jobstore_alias):
        """
        Finds a job by its ID.

        :type job_id: str
        :param str jobstore_alias: alias of a job store to look in
        :return tuple[Job, str]: a tuple of job, jobstore alias (jobstore alias is None
            in case of a pending job)
        :raises JobLookupError: if no job by the given ID is found.

        """
        if self.state == STATE_STOPPED:
            # Pending jobs are found whichever job store they are meant for.
            for job, _, _ in self._pending_jobs:
                if job.id == job_id:
                    return job, None
        else:
            for alias, store in self._jobstores.items():
                if jobstore_alias in (None, alias):
                    job = store.lookup_job(job_id)
                    if job is not None:
                        return job, alias

        raise JobLookupError(job_id)

    def _dispatch_event(self, event):
        """
        Dispatches the given event to interested listeners.

        :param SchedulerEvent event: the event to send

        """
        # Listeners are called on a snapshot taken under the lock and with no lock
        # held, so they may add or remove listeners (or do anything else).
        with self._listeners_lock:
            listeners = tuple(self._listeners)

        for callback, mask in listeners:
            if event.code & mask:
                try:
                    callback(event)
                except BaseException:
                    self._logger.exception("Error notifying listener")

    def _listened_codes(self):
        """
        The event codes some listener wants: events of other codes need not be built.
        All of them while ``_dispatch_event`` is not this class's own (a subclass or a
        test may observe every event there).
        """
        if (
            type(self)._dispatch_event is not BaseScheduler._dispatch_event
            or "_dispatch_event" in self.__dict__
        ):
            return EVENT_ALL

        codes = 0
        with self._listeners_lock:
            for _callback, mask in self._listeners:
                codes |= mask
        return codes

    def _check_uwsgi(self):
        """Check if we're running under uWSGI with threads disabled."""
        uwsgi_module = sys.modules.get("uwsgi")
        if not getattr(uwsgi_module, "has_threads", True):
            raise RuntimeError(
                "The scheduler seems to be running under uWSGI, but threads have "
                "been disabled. You must run uWSGI with the --enable-threads "
                "option for the scheduler to work."
            )

    def _schedule_pending_jobs(self, new_state):
        """
        Move the jobs added before start() into their job stores, then switch to
        ``new_state``.

        The state changes in the same locked section that finds the pending list
        empty: a job that another thread adds meanwhile is either still picked up here
        or, once the state has changed, added directly. The "added" events reach the
        listeners with no lock held.

        """
        if (
            type(self)._real_add_job is not BaseScheduler._real_add_job
            or "_real_add_job" in self.__dict__
        ):
            # A replaced _real_add_job is called for each job, as APScheduler does.
            return self._schedule_pending_jobs_one_by_one(new_state)

        while True:
            failure = None
            with self._jobstores_lock:
                if not self._pending_jobs:
                    self.state = new_state
                    return

                # The whole list at once, stored under the lock, so that no other
                # thread sees a job that is neither pending nor stored.
                batch = self._pending_jobs
                self._pending_jobs = []
                now = datetime.now(self.timezone)
                # The same steps done natively, unless a method on the way has been
                # replaced (then None).
                outcome = _store_pending_jobs_natively(self, batch, now)
                if outcome is None:
                    outcome = self._store_pending_jobs(batch, now)
                stored, failed = outcome
                if failed is not None:
                    # Left pending, as it was, with those after it.
                    index, failure = failed
                    self._pending_jobs[:0] = batch[index:]

            _report_jobs_added_natively(self, batch, stored)

            if failure is not None:
                raise failure

    def _store_pending_jobs(self, batch, now):
        """
        Complete and store each ``(job, jobstore_alias, replace_existing)`` of
        ``batch``; called with the job store lock held. Returns how many entries were
        stored (from the start) and ``(index, exception)`` for the entry that
        failed, if one did (the entries from there on are not stored).
        """
        for index, (job, jobstore_alias, replace_existing) in enumerate(batch):
            try:
                _complete_job(self, job, now)
                self._store_job(job, jobstore_alias, replace_existing)
            except BaseException as exc:
                return index, (index, exc)
        return len(batch), None

    def _schedule_pending_jobs_one_by_one(self, new_state):
        while True:
            with self._jobstores_lock:
                if not self._pending_jobs:
                    self.state = new_state
                    return

                entry = self._pending_jobs.pop(0)

            try:
                self._real_add_job(*entry)
            except BaseException:
                # Leave it pending, as it was, when it cannot be added.
                with self._jobstores_lock:
                    self._pending_jobs.insert(0, entry)
                raise

    def _real_add_job(self, job, jobstore_alias, replace_existing):
        """
        :param Job job: the job to add
        :param bool replace_existing: ``True`` to use update_job() in case the job
            already exists in the store

        """
        _complete_job(self, job)
        with self._jobstores_lock:
            self._store_job(job, jobstore_alias, replace_existing)

        self._job_added(job, jobstore_alias, self._listened_codes())

    def _store_job(self, job, jobstore_alias, replace_existing):
        """Add a job whose options are complete to its store; called with the lock."""
        store = self._lookup_jobstore(jobstore_alias)
        try:
            store.add_job(job)
        except ConflictingIdError:
            if not replace_existing:
                raise

            store.update_job(job)

        # No longer pending
        job._jobstore_alias = jobstore_alias

    def _job_added(self, job, jobstore_alias, listened=EVENT_ALL):
        """Tell the listeners and the log that a job has entered its job store."""
        if listened & EVENT_JOB_ADDED:
            self._dispatch_event(JobEvent(EVENT_JOB_ADDED, job.id, jobstore_alias))
        self._logger.info('Added job "%s" to job store "%s"', job.name, jobstore_alias)

        # The new job may be due before the current wakeup time.
        if self.state == STATE_RUNNING:
            self.wakeup()

    def _job_removed(self, job_id, jobstore_alias, listened=EVENT_ALL):
        """Tell the listeners and the log that a job has left its job store."""
        if listened & EVENT_JOB_REMOVED:
            self._dispatch_event(JobEvent(EVENT_JOB_REMOVED, job_id, jobstore_alias))
        self._logger.info("Removed job %s", job_id)

    def _create_plugin_instance(self, type_, alias, constructor_kwargs):
        """
        Creates an instance of the given plugin type, loading the plugin first if
        necessary.

        """
        if type_ == "trigger":
            plugins, classes, base_class = (
                self._trigger_plugins,
                self._trigger_classes,
                BaseTrigger,
            )
        elif type_ == "jobstore":
            plugins, classes, base_class = (
                self._jobstore_plugins,
                self._jobstore_classes,
                BaseJobStore,
            )
        elif type_ == "executor":
            plugins, classes, base_class = (
                self._executor_plugins,
                self._executor_classes,
                BaseExecutor,
            )
        else:
            raise KeyError(type_)

        plugin_cls = classes.get(alias)
        if plugin_cls is None:
            if alias not in plugins:
                raise LookupError(f'No {type_} by the name "{alias}" was found')

            plugin_cls = plugins[alias].load()
            is_class = isinstance(plugin_cls, type)
            if not (is_class and issubclass(plugin_cls, base_class)):
                raise TypeError(
                    f"The {type_} entry point does not point to a {type_} class"
                )

            classes[alias] = plugin_cls

        return plugin_cls(**constructor_kwargs)

    def _create_trigger(self, trigger, trigger_args):
        if isinstance(trigger, BaseTrigger):
            return trigger

        if trigger is None:
            trigger = "date"
        elif not isinstance(trigger, str):
            raise TypeError(
                f"Expected a trigger instance or string, got "
                f"{trigger.__class__.__name__} instead"
            )

        # Triggers created by alias use the scheduler's time zone unless told otherwise.
        trigger_args.setdefault("timezone", self.timezone)
        return self._create_plugin_instance("trigger", trigger, trigger_args)

    def _create_lock(self):
        """Creates a reentrant lock object."""
        return RLock()

    def _locks_for_fork(self):
        """
        The locks the forking thread takes before a fork (see the fork handlers at the
        end of this module): those that guard the job stores, executors and listeners.
        None of them is ever held while waiting for another thread.

        """
        names = ("_listeners_lock", "_executors_lock", "_jobstores_lock")
        return [lock for lock in map(self.__dict__.get, names) if lock is not None]

    def _after_fork_in_child(self):
        """
        Leave the copy of this scheduler in a forked child stopped, with new locks and
        its memory-stored jobs pending, so that :meth:`start` starts it again there.

        """
        # Any of these locks may have been held by a thread that does not exist here.
        self._state_lock = Lock()
        for name in ("_listeners_lock", "_executors_lock", "_jobstores_lock"):
            if name in self.__dict__:
                setattr(self, name, self._create_lock())

        # The executors count the runs going on in the parent, which never end here
        # (max_instances would hold those jobs back for good), and their locks may be
        # held too. start() starts them again.
        for executor in list(getattr(self, "_executors", {}).values()):
            instances = getattr(executor, "_instances", None)
            if instances is not None:
                instances.clear()
            if getattr(executor, "_lock", None) is not None:
                executor._lock = self._create_lock()

        # BlockingScheduler's wakeup event: the loop thread (gone) may have been
        # inside it. A loop still running here (the thread that forked) ends.
        if getattr(self, "_event", None) is not None:
            self._event = None

        if self.state == STATE_STOPPED:
            return

        self.state = STATE_STOPPED
        self._stopped_by_fork = True
        # The jobs of memory job stores become pending again, as if added to the
        # stopped scheduler, so that get_jobs() lists them and start() schedules them
        # anew. Other job stores may keep their jobs outside the process (a database
        # that the parent goes on using), so they are left as they are.
        pending = []
        for alias, store in list(getattr(self, "_jobstores", {}).items()):
            if isinstance(store, MemoryJobStore):
                for job in store.get_all_jobs():
                    job._jobstore_alias = None
                    pending.append((job, alias, False))
                store.remove_all_jobs()
        self._pending_jobs[:0] = pending

    #
    # Job processing
    #
    # One pass of the loop, written in Python for now and split so that its hot parts
    # (collecting due runs per job store, the wait computation) can move into the
    # native engine one at a time. A pass has three phases:
    #
    # 1. with the job store lock held: collect the due jobs of each store, compute
    #    their run times, and reschedule or remove them in their store;
    # 2. with no lock held: hand the runs to their executors;
    # 3. with no lock held: dispatch the events collected by the first two phases.
    #
    # Differs from APScheduler, which hands a run to its executor before rescheduling
    # the job and does both with the job store lock held: here the job store is up to
    # date before any job code runs. A job run synchronously (DebugExecutor) that
    # pauses, modifies or removes itself therefore keeps that change, where
    # APScheduler overwrote it or, for a removal, failed with JobLookupError and
    # stopped the scheduler's loop. A job's own events keep APScheduler's order
    # (executed or error, removed, submitted); with DebugExecutor and several jobs
    # due in one pass, the removals of the pass now follow all of its runs instead
    # of each job's own run.
    #

    def _process_jobs(self):
        """
        Iterates through jobs in every jobstore, starts jobs that are due and figures
        out how long to wait for the next round.

        If the ``get_due_jobs()`` call raises an exception, a new wakeup is scheduled
        in at least ``jobstore_retry_interval`` seconds.

        :return: the number of seconds to wait before the next pass, or ``None`` to
            wait until woken up

        """
        if self.state == STATE_PAUSED:
            self._logger.debug("Scheduler is paused -- not processing jobs")
            return None

        self._logger.debug("Looking for jobs to run")
        now = datetime.now(self.timezone)
        runs = []
        removed = []
        with self._jobstores_lock:
            next_wakeup_time, failure = self._collect_due_runs(now, runs, removed)

        listened = self._listened_codes()
        events = self._submit_runs(runs, listened)

        # Removals first: APScheduler dispatched them during its pass, before the
        # submission events it collected. (_job_removed for each, done natively.)
        _report_jobs_removed_natively(self, removed, listened)

        for event in events:
            self._dispatch_event(event)

        # A job that could not be processed is still due; the loop decides when to
        # try again (see BlockingScheduler._run_pass()). The other jobs of the pass
        # have been handled completely by now.
        if failure is not None:
            raise failure

        return self._wait_seconds(next_wakeup_time)

    def _collect_due_runs(self, now, runs, removed):
        """
        Phase 1 of a pass; called with the job store lock held.

        Appends ``(job, executor, run_times, jobstore_alias)`` to ``runs`` for every
        run to submit and ``(job_id, jobstore_alias)`` to ``removed`` for every job
        taken out of its store. Returns the earliest time the next pass is needed
        (``None`` if no store has a scheduled job) and the first exception raised
        while processing a job (``None`` if there was none): one failing job (a
        trigger that raises, a store that cannot update it) must not keep the others
        from running.

        """
        next_wakeup_time = None
        failure = None
        for jobstore_alias, jobstore in self._jobstores.items():
            native = _collects_natively(jobstore)
            claims = _claims_due_jobs(jobstore)
            try:
                if claims:
                    store_failure = self._collect_claimed_runs(
                        jobstore_alias, jobstore, now, runs, removed
                    )
                    jobstore_next_run_time = jobstore._next_wakeup_time(now)
                elif native:
                    # Due jobs the native path does not take are handed back to
                    # _collect_job_run() in their turn.
                    store_failure = _collect_due_runs_natively(
                        jobstore, now, jobstore_alias, self._executors, Job, runs,
                        removed,
                        lambda job: self._collect_job_run(
                            job, jobstore_alias, jobstore, now, runs, removed
                        ),
                    )
                else:
                    due_jobs = jobstore.get_due_jobs(now)
            except Exception as e:
                self._store_failed = True
                self._logger.warning(
                    "Error getting due jobs from job store %r: %s", jobstore_alias, e
                )
                retry_wakeup_time = now + timedelta(
                    seconds=self.jobstore_retry_interval
                )
                if not next_wakeup_time or next_wakeup_time > retry_wakeup_time:
                    next_wakeup_time = retry_wakeup_time

                continue

            if not (native or claims):
                store_failure = self._collect_store_runs(
                    jobstore_alias, jobstore, due_jobs, now, runs, removed
                )
            if failure is None:
                failure = store_failure

            if not claims:
                jobstore_next_run_time = jobstore.get_next_run_time()
            if jobstore_next_run_time and (
                next_wakeup_time is None or jobstore_next_run_time < next_wakeup_time
            ):
                next_wakeup_time = jobstore_next_run_time.astimezone(self.timezone)

        return next_wakeup_time, failure

    def _collect_store_runs(self, jobstore_alias, jobstore, due_jobs, now, runs, removed):
        """
        Phase 1 for the due jobs of one store, through _collect_job_run(). Returns the
        first exception raised (``None`` if there was none).

        A store that offers it takes the pass's changes in one transaction
        (``_pass_batch``). If that fails, none of its runs go ahead: its jobs are
        still due there and run in a later pass, which takes them one by one, so that
        a job that keeps failing does not hold the others back.
        """
        unbatched = self.__dict__.setdefault("_unbatched_stores", set())
        batch = getattr(jobstore, "_pass_batch", None)
        if not due_jobs or jobstore_alias in unbatched:
            batch = None
        runs_before, removed_before = len(runs), len(removed)
        store_failure = None
        try:
            with batch() if batch is not None else nullcontext():
                for job in due_jobs:
                    try:
                        self._collect_job_run(
                            job, jobstore_alias, jobstore, now, runs, removed
                        )
                    except Exception as exc:
                        if store_failure is None:
                            store_failure = exc
        except Exception as exc:
            del runs[runs_before:]
            del removed[removed_before:]
            unbatched.add(jobstore_alias)
            self._logger.warning(
                "Error saving the changes of this pass to job store %r: %s",
                jobstore_alias,
                exc,
            )
            return store_failure or exc

        if store_failure is None and due_jobs:
            unbatched.discard(jobstore_alias)
        return store_failure

    def _collect_claimed_runs(self, jobstore_alias, jobstore, now, runs, removed):
        """
        Phase 1 for a store that several processes share (see
        ``apscheduler.jobstores._shared``): the due jobs this process claimed go
        through _collect_job_run(), whose writes the store makes conditional on no
        other process having taken the job. Once the claim is committed, only the
        runs it won go ahead; a run that the other processes' instances hold back
        is reported as over ``max_instances``. Returns the first exception raised by
        a job (``None`` if there was none); a failure of the claim itself propagates.
        """
        for attempt in range(_CLAIM_ATTEMPTS):
            claimed_runs = []
            claimed_removed = []
            failure = None
            try:
                with jobstore._claim_due_jobs(now) as claim:
                    for job in claim.jobs:
                        try:
                            self._collect_job_run(
                                job, jobstore_alias, jobstore, now, claimed_runs,
                                claimed_removed,
                            )
                        except Exception as exc:
                            if failure is None:
                                failure = exc
            except _shared.ClaimConflict:
                if attempt == _CLAIM_ATTEMPTS - 1:
                    raise
            else:
                break

        outcomes = claim.outcomes
        queued = set()
        for job, executor, run_times, alias in claimed_runs:
            outcome = outcomes.get(job.id)
            if outcome == _shared.RUN:
                runs.append((job, executor, run_times, alias))
                queued.add(job.id)
            elif outcome == _shared.BUSY:
                runs.append((job, _shared.INSTANCES_BUSY_ELSEWHERE, run_times, alias))
        removed.extend(
            item for item in claimed_removed if outcomes.get(item[0]) != _shared.LOST
        )
        # A run reserved for a job that went without one (its executor is missing).
        for key_job_id in {job_id for _, job_id in claim.reserved} - queued:
            _runwatch.released(key_job_id)
        return failure

    def _collect_job_run(self, job, jobstore_alias, jobstore, now, runs, removed):
        """Phase 1 for one due job: queue its run, then reschedule or remove it."""
        try:
            executor = self._lookup_executor(job.executor)
        except BaseException:
            self._logger.error(
                'Executor lookup ("%s") failed for job "%s" -- removing it from the '
                "job store",
                job.executor,
                job,
            )
            self._remove_due_job(job, jobstore_alias, jobstore, removed)
            return

        run_times = job._get_run_times(now)
        if run_times and job.coalesce:
            run_times = run_times[-1:]

        if not run_times:
            return

        # Reschedule the job if its trigger fires again, otherwise it is finished.
        # The run is queued only once its store has taken that change: a job whose
        # store failed to update it is still due there and runs in a later pass, once
        # (not now and again then), and one that another thread removed meanwhile
        # does not run.
        next_run_time = job.trigger.get_next_fire_time(run_times[-1], now)
        if next_run_time:
            job._modify(next_run_time=next_run_time)
            try:
                jobstore.update_job(job)
            except JobLookupError:
                return
        elif not self._remove_due_job(job, jobstore_alias, jobstore, removed):
            return

        runs.append((job, executor, run_times, jobstore_alias))

    def _remove_due_job(self, job, jobstore_alias, jobstore, removed):
        """Remove a due job from its store; ``False`` if it was already gone."""
        try:
            jobstore.remove_job(job.id)
        except JobLookupError:
            # Already gone (removed by another party); nothing left to announce.
            return False

        removed.append((job.id, jobstore_alias))
        return True

    def _submit_runs(self, runs, listened=EVENT_ALL):
        """
        Phase 2 of a pass: hand each run to its executor, with no lock held (an
        executor may run the job right away, as DebugExecutor does).

        :param listened: the event codes to build events for (see _listened_codes)
        :return: the submission events to dispatch

        """
        events = []
        submitted_listened = listened & EVENT_JOB_SUBMITTED
        for executor, batch in groupby(runs, key=itemgetter(1)):
            batch = list(batch)
            outcomes = _submit_batch(executor, batch)
            if not submitted_listened and not any(outcomes):
                # Every run submitted, and no event wanted.
                continue
            for (job, _, run_times, jobstore_alias), error in zip(batch, outcomes):
                if error is None:
                    if submitted_listened:
                        events.append(
                            JobSubmissionEvent(
                                EVENT_JOB_SUBMITTED, job.id, jobstore_alias, run_times
                            )
                        )
                elif isinstance(error, MaxInstancesReachedError):
                    self._logger.warning(
                        'Execution of job "%s" skipped: maximum number of running '
                        "instances reached (%d)",
                        job,
                        job.max_instances,
                    )
                    events.append(
                        JobSubmissionEvent(
                            EVENT_JOB_MAX_INSTANCES, job.id, jobstore_alias, run_times
                        )
                    )
                else:
                    self._logger.error(
                        'Error submitting job "%s" to executor "%s"',
                        job,
                        job.executor,
                        exc_info=error,
                    )
                if error is not None and _runwatch.watchers:
                    # A run reserved in a shared store that will not take place.
                    store = self._jobstores.get(jobstore_alias)
                    if executor is not _shared.INSTANCES_BUSY_ELSEWHERE and (
                        _claims_due_jobs(store)
                    ):
                        _runwatch.released(job.id)

        return events

    def _wait_seconds(self, next_wakeup_time):
        """
        How long the loop may sleep after a pass, in seconds (``None``: until woken).

        Computed from absolute instants (timestamps), so a DST change between now and
        the wakeup time never lengthens or shortens the sleep.

        """
        if self.state == STATE_PAUSED:
            self._logger.debug("Scheduler is paused; waiting until resume() is called")
            return None

        if next_wakeup_time is None:
            self._logger.debug("No jobs; waiting until a job is added")
            return None

        now = datetime.now(self.timezone)
        wait_seconds = min(
            max(next_wakeup_time.timestamp() - now.timestamp(), 0), TIMEOUT_MAX
        )
        self._logger.debug(
            "Next wakeup is due at %s (in %f seconds)", next_wakeup_time, wait_seconds
        )
        return wait_seconds


def _native_first(add_job):
    """``add_job`` with the common case done natively: a plain function, the library's
    own add path (see src/py/add_job_entry.rs). The wrapper takes ``*args, **kwargs``:
    with the fourteen named parameters, every trigger argument such as ``seconds=5``
    was compared by value with each parameter name before it reached
    ``**trigger_args``, which cost more than the native work. ``wraps`` keeps the
    name, docstring and signature of ``add_job``."""

    @wraps(add_job)
    def native_first(self, *args, **kwargs):
        job = _add_job_natively(self, args, kwargs)
        if job is None:
            job = add_job(self, *args, **kwargs)
        return job

    return native_first


BaseScheduler.add_job = _native_first(BaseScheduler.add_job)


def _complete_job(scheduler, job, now=None):
    """
    What a job gets when it enters its store: the scheduler's job defaults for the
    options it was added without, and, without a next run time of its own, the
    trigger's first fire time after ``now``.

    Job._modify() validates the defaults. For a job of the library's own class the
    values it approved are remembered, keyed by the options missing and the default
    values, and set directly on the next such job: validating the same values again
    cannot give another answer.
    """
    defaults = scheduler._job_defaults
    missing = tuple(key for key in defaults if not hasattr(job, key))
    needs_next = not hasattr(job, "next_run_time")
    if needs_next:
        if now is None:
            now = datetime.now(scheduler.timezone)
        next_run_time = job.trigger.get_next_fire_time(None, now)

    key = approved = None
    if type(job) is Job:
        approved_by_key = scheduler.__dict__.setdefault("_approved_defaults", {})
        key = (missing, tuple(defaults[name] for name in missing))
        try:
            approved = approved_by_key.get(key)
        except TypeError:  # an unhashable default value
            key = None

    if approved is not None and (
        not needs_next or next_run_time is None or _is_aware(next_run_time)
    ):
        for name, value in zip(missing, approved):
            setattr(job, name, value)
        if needs_next:
            job.next_run_time = next_run_time
        return

    changes = {name: defaults[name] for name in missing}
    if needs_next:
        changes["next_run_time"] = next_run_time
    job._modify(**changes)
    if key is not None:
        if len(approved_by_key) >= 16:
            approved_by_key.clear()
        approved_by_key[key] = tuple(getattr(job, name) for name in missing)


def _is_aware(value):
    return isinstance(value, _datetime_type) and value.tzinfo is not None


# The class itself: tests replace this module's "datetime" to control the clock.
_datetime_type = datetime


def _submit_batch(executor, runs):
    """
    ``executor.submit_job(job, run_times)`` for each ``(job, executor, run_times,
    jobstore_alias)`` of ``runs``, in order. Returns, for each, ``None`` or the
    exception the submission raised.
    """
    # An executor class of the library that can submit a batch natively says so in
    # its own namespace (a subclass does not inherit it): _native_batch_unless names
    # the methods that, replaced on the instance, make it take the Python path.
    blockers = type(executor).__dict__.get("_native_batch_unless")
    if blockers is not None and not (blockers & executor.__dict__.keys()):
        # The same submissions, done natively when the executor can.
        outcomes = executor._submit_batch(runs)
        if outcomes is not None:
            return outcomes

    outcomes = []
    for job, _, run_times, _ in runs:
        # BaseException: a job run right away (DebugExecutor) may raise anything, and
        # the other jobs of the pass must still be submitted.
        try:
            executor.submit_job(job, run_times)
        except BaseException as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes



#: claims of one pass tried again at once after a conflict with another process
_CLAIM_ATTEMPTS = 3


def _claims_due_jobs(jobstore):
    """Whether the store is shared by several processes, whose passes claim its due
    jobs (``is True``: a mock store makes up any attribute)."""
    return getattr(jobstore, "_claims_due_jobs", False) is True


def _collects_natively(jobstore):
    """
    Whether a pass may process this store's due jobs natively: it must be the
    library's own memory store, with none of the methods a pass uses replaced on the
    instance (as tests do).
    """
    return type(jobstore) is MemoryJobStore and not (
        _PASS_STORE_METHODS & jobstore.__dict__.keys()
    )


_PASS_STORE_METHODS = frozenset(
    ("get_due_jobs", "update_job", "remove_job", "get_next_run_time")
)


#
# Fork safety
#
# Forking copies only the thread that forks. A lock that another thread held at that
# moment stays held for good in the child, which deadlocks at its first use, and the
# child has neither the scheduler's thread nor the executors' workers. Hence:
#
# - before the fork, the forking thread takes every scheduler's locks (in one order),
#   so that no other thread is halfway through changing job stores, executors or
#   listeners when the process is copied;
# - after it, the parent lets them go; the child gets each scheduler stopped, with new
#   locks (BaseScheduler._after_fork_in_child()). The thread pool resets itself in the
#   child (apscheduler.executors._threadpool), and the memory job store's native lock
#   is never held at a fork (os.fork() runs with the GIL, which that lock is only
#   taken under).
#
# Differs from APScheduler: its child inherits a scheduler that says it is running but
# has no thread, so none of its jobs ever runs there and start() raises
# SchedulerAlreadyRunningError (and a lock held in the parent at the fork may deadlock
# it). Here the child's scheduler is stopped: running is False, get_jobs() lists the
# jobs of its memory job stores (pending again), start() runs them with new threads,
# and shutdown() raises SchedulerNotRunningError as on any stopped scheduler.

# Every scheduler of the process, by id(), as weak references: the handlers must not
# keep a scheduler alive (and a subclass need not be hashable).
_schedulers = {}
# The locks the before-fork handler took, for the thread that forks.
_held_for_fork = threading.local()


def _register_for_fork(scheduler):
    key = id(scheduler)
    known = _schedulers.get(key)
    if known is not None and known() is scheduler:
        return

    def forget(ref, key=key):
        if _schedulers.get(key) is ref:
            _schedulers.pop(key, None)

    _schedulers[key] = weakref.ref(scheduler, forget)


def _live_schedulers():
    # list() of a dict view is atomic under the GIL, whatever other threads do.
    schedulers = [ref() for ref in list(_schedulers.values())]
    return [scheduler for scheduler in schedulers if scheduler is not None]


def _before_fork():
    held = []
    try:
        for scheduler in _live_schedulers():
            for lock in scheduler._locks_for_fork():
                lock.acquire()
                held.append(lock)
    finally:
        _held_for_fork.locks = held


def _after_fork_in_parent():
    held = getattr(_held_for_fork, "locks", ())
    _held_for_fork.locks = ()
    for lock in reversed(held):
        lock.release()


def _after_fork_in_child():
    _held_for_fork.locks = ()
    for scheduler in _live_schedulers():
        try:
            scheduler._after_fork_in_child()
        except Exception:
            logger = getattr(scheduler, "_logger", None) or getLogger(
                "apscheduler.scheduler"
            )
            logger.exception("Error resetting the scheduler in a forked child")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )


def _encode_for_json(obj):
    """
    ``default`` hook of export_jobs(): objects whose state is a mapping are written as
    their class reference plus that state, anything else as a base64 pickle.

    """
    if hasattr(obj, "__getstate__") and hasattr(obj, "__setstate__"):
        state = obj.__getstate__()
        if isinstance(state, Mapping):
            return {
                "__apscheduler_class__": obj_to_ref(obj.__class__),
                "__apscheduler_state__": state,
            }

    import pickle
    from base64 import b64encode

    data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    return {"__apscheduler_pickle__": b64encode(data).decode("ascii")}


def _decode_from_json(dct):
    """``object_hook`` of import_jobs(): the inverse of _encode_for_json()."""
    if pickle_data := dct.get("__apscheduler_pickle__"):
        import pickle
        from base64 import b64decode

        return pickle.loads(b64decode(pickle_data))

    if class_ref := dct.get("__apscheduler_class__"):
        if state := dct.get("__apscheduler_state__"):
            cls = ref_to_obj(class_ref)
            try:
                obj = object.__new__(cls)
            except TypeError:
                # Classes over a native base (our triggers) must be created by their
                # own __new__, as pickle does.
                obj = cls.__new__(cls)
            obj.__setstate__(state)
            return obj

    return dct
