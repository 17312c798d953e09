from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from types import MethodType

from apscheduler._core import forget_job_ids as _forget_ids
from apscheduler._core import new_job_id as _new_job_id
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import (
    check_callable_args,
    convert_to_datetime,
    datetime_repr,
    get_callable_name,
    obj_to_ref,
    ref_to_obj,
)

UTC = timezone.utc

# Marks a keyword that was not passed to Job._modify(); None is a meaningful value for
# several of them (next_run_time, misfire_grace_time, name).
_MISSING = object()

# Generated job IDs (_new_job_id) have the form of uuid.uuid4().hex and come from
# os.urandom() as uuid4's do, read for a batch of IDs at once (see src/py/job_ids.rs).
# A forked child forgets the batch: it must not hand out the IDs its parent still holds.
try:
    from os import register_at_fork
except ImportError:  # platforms without fork()
    pass
else:
    register_at_fork(after_in_child=_forget_ids)

# Trigger classes already seen to subclass BaseTrigger. isinstance() against the ABC
# takes about four times as long as a set lookup on the exact type, which is enough
# once that type has passed: ABCs cache positive answers the same way. Only real
# subclasses are recorded, never a type that merely claims the class through
# __class__ (as mocks with a spec do).
_trigger_types = set()


class Job:
    """
    The options a callable was scheduled with, together with its current schedule and
    other state. Jobs are created by the scheduler (``add_job()``,
    ``scheduled_job()``); do not instantiate this class yourself.

    :var str id: unique identifier of the job
    :var str name: description of the job
    :var func: the callable that is run
    :var tuple|list args: positional arguments the callable is given
    :var dict kwargs: keyword arguments the callable is given
    :var bool coalesce: run only once when several run times are due together
    :var trigger: the trigger that decides when the job runs
    :var str executor: alias of the executor that runs the job
    :var int misfire_grace_time: how many seconds late a run may still start (``None``
        means no limit)
    :var int max_instances: how many runs of the job may execute at the same time
    :var datetime.datetime next_run_time: when the job runs next (``None`` when paused)

    .. note::
        ``misfire_grace_time`` affects job execution in ways that are not obvious; see
        :ref:`missed-job-executions` in the documentation.
    """

    # The reference's tuple, name for name: code that introspects __slots__ (or
    # pickles by slot) sees the same layout.
    __slots__ = (
        "__weakref__",
        "_jobstore_alias",
        "_scheduler",
        "args",
        "coalesce",
        "executor",
        "func",
        "func_ref",
        "id",
        "kwargs",
        "max_instances",
        "misfire_grace_time",
        "name",
        "next_run_time",
        "trigger",
    )

    def __init__(self, scheduler, id=None, **kwargs):
        # For Job itself the next class in the MRO is object, whose __init__ does
        # nothing; only a subclass with a mixin after Job needs the cooperative call.
        if type(self) is not Job:
            super().__init__()

        self._scheduler = scheduler
        self._jobstore_alias = None
        if type(self)._modify is _plain_modify:
            # Same as the call below, minus packing the keywords into a new dict:
            # kwargs is already one of our own. The ID goes last instead of first,
            # which nothing can observe (it is never reported as unknown).
            kwargs["id"] = id or _new_job_id()
            _apply_changes(self, kwargs)
        else:
            self._modify(id=id or _new_job_id(), **kwargs)

    def modify(self, **changes):
        """
        Apply the given changes to this job and save it in its job store.

        Accepts the same keyword arguments as the attributes of this class.

        .. seealso:: :meth:`~apscheduler.schedulers.base.BaseScheduler.modify_job`

        :return Job: this job
        """
        self._scheduler.modify_job(self.id, self._jobstore_alias, **changes)
        return self

    def reschedule(self, trigger, **trigger_args):
        """
        Give this job a new trigger.

        .. seealso:: :meth:`~apscheduler.schedulers.base.BaseScheduler.reschedule_job`

        :return Job: this job
        """
        self._scheduler.reschedule_job(
            self.id, self._jobstore_alias, trigger, **trigger_args
        )
        return self

    def pause(self):
        """
        Stop running this job until it is resumed.

        .. seealso:: :meth:`~apscheduler.schedulers.base.BaseScheduler.pause_job`

        :return Job: this job
        """
        self._scheduler.pause_job(self.id, self._jobstore_alias)
        return self

    def resume(self):
        """
        Put this job back on its schedule after :meth:`pause`.

        .. seealso:: :meth:`~apscheduler.schedulers.base.BaseScheduler.resume_job`

        :return Job: this job
        """
        self._scheduler.resume_job(self.id, self._jobstore_alias)
        return self

    def remove(self):
        """
        Unschedule this job and delete it from its job store.

        .. seealso:: :meth:`~apscheduler.schedulers.base.BaseScheduler.remove_job`
        """
        self._scheduler.remove_job(self.id, self._jobstore_alias)

    @property
    def pending(self):
        """
        ``True`` while the job has not been added to its job store yet (the scheduler
        has not been started).
        """
        return self._jobstore_alias is None

    #
    # Private API (used by the scheduler, job stores and executors)
    #

    def _get_run_times(self, now):
        """
        List the run times that are due: from ``next_run_time`` up to and including
        ``now``, following the trigger.

        :type now: datetime.datetime
        :rtype: list[datetime.datetime]
        """
        run_times = []
        next_run_time = self.next_run_time
        if not next_run_time:
            return run_times

        # Compared as UTC: two times in the same zone compare by wall clock, ignoring
        # fold, so the repeated hour after a DST change would look like the first one
        # and the loop would never end.
        next_utc = next_run_time.astimezone(UTC)
        now_utc = now.astimezone(UTC)
        while next_utc <= now_utc:
            run_times.append(next_run_time)
            next_run_time = self.trigger.get_next_fire_time(next_run_time, now)
            if not next_run_time:
                break
            next_utc = next_run_time.astimezone(UTC)

        return run_times

    def _modify(self, **changes):
        """
        Validate the given changes and apply them, all of them or (when any is invalid)
        none.

        Exceptions, in the order the checks are made: ``TypeError`` or ``ValueError``
        for ``id``; for ``func``/``args``/``kwargs`` whatever resolving the reference or
        checking the arguments raises, or ``TypeError``; ``TypeError`` for ``name``,
        ``misfire_grace_time``, ``max_instances``, ``trigger`` and ``executor``; what
        converting ``next_run_time`` raises; ``AttributeError`` for any other keyword.
        """
        # The scheduler's loop reschedules every job it runs this way.
        if len(changes) == 1 and "next_run_time" in changes:
            value = changes["next_run_time"]
            tz = self._scheduler.timezone
            if value is not None and (type(value) is not datetime or value.tzinfo is None):
                value = convert_to_datetime(value, tz, "next_run_time")
            self.next_run_time = value
            return

        _apply_changes(self, changes)

    def __getstate__(self):
        # Without a textual reference the callable could not be found again on loading.
        if not self.func_ref:
            raise ValueError(
                f"This Job cannot be serialized since the reference to its callable "
                f"({self.func!r}) could not be determined. Consider giving a textual "
                f"reference (module:function name) instead."
            )

        # A reference to a bound method names the function on the class; the instance
        # it is bound to travels as the first positional argument instead.
        func = self.func
        args = self.args
        if (
            isinstance(func, MethodType)
            and not isinstance(func.__self__, type)
            and obj_to_ref(func) == self.func_ref
        ):
            args = (func.__self__,) + tuple(args)

        # Key order matters: it decides the pickled bytes, which match the reference's.
        return {
            "version": 1,
            "id": self.id,
            "func": self.func_ref,
            "trigger": self.trigger,
            "executor": self.executor,
            "args": args,
            "kwargs": self.kwargs,
            "name": self.name,
            "misfire_grace_time": self.misfire_grace_time,
            "coalesce": self.coalesce,
            "max_instances": self.max_instances,
            "next_run_time": self.next_run_time,
        }

    def __setstate__(self, state):
        if state.get("version", 1) > 1:
            raise ValueError(
                f"Job has version {state['version']}, but only version 1 can be handled"
            )

        # Set in this order so that a failure (unresolvable reference, missing key)
        # leaves the same attributes set as in APScheduler. The scheduler and the
        # job store alias are not part of the state; the job store sets them.
        self.id = state["id"]
        self.func_ref = state["func"]
        self.func = ref_to_obj(self.func_ref)
        self.trigger = state["trigger"]
        self.executor = state["executor"]
        self.args = state["args"]
        self.kwargs = state["kwargs"]
        self.name = state["name"]
        self.misfire_grace_time = state["misfire_grace_time"]
        self.coalesce = state["coalesce"]
        self.max_instances = state["max_instances"]
        self.next_run_time = state["next_run_time"]

    def __eq__(self, other):
        # Jobs are the same job when their IDs are equal. Defining __eq__ alone also
        # makes Job unhashable, as it is in APScheduler.
        if isinstance(other, Job):
            return self.id == other.id
        return NotImplemented

    def __repr__(self):
        return f"<Job (id={self.id} name={self.name})>"

    def __str__(self):
        # next_run_time is unset until the scheduler has placed the job in a store.
        try:
            next_run_time = self.next_run_time
        except AttributeError:
            status = "pending"
        else:
            if next_run_time:
                status = "next run at: " + datetime_repr(next_run_time)
            else:
                status = "paused"

        return f"{self.name} (trigger: {self.trigger}, {status})"


# Job.__init__ compares against this to see whether _modify() has been overridden (by a
# subclass, or patched by a test), in which case the override must be called.
_plain_modify = Job._modify


def _apply_changes(job, changes):
    """
    The work of Job._modify(): validates ``changes`` (a dict of its own, which it
    consumes) and applies them to ``job`` if all of them are valid.
    """
    pop = changes.pop

    new_id = pop("id", _MISSING)
    if new_id is not _MISSING:
        if not isinstance(new_id, str):
            raise TypeError("id must be a nonempty string")
        if hasattr(job, "id"):
            raise ValueError("The job ID may not be changed")

    func = pop("func", _MISSING)
    args = pop("args", _MISSING)
    kwargs = pop("kwargs", _MISSING)
    name = pop("name", _MISSING)
    if func is not _MISSING or args is not _MISSING or kwargs is not _MISSING:
        # The callable and its arguments are checked together, so a change to any
        # one of them is checked against the current values of the others.
        if func is _MISSING:
            func = job.func
        if args is _MISSING:
            args = job.args
        if kwargs is _MISSING:
            kwargs = job.kwargs

        if isinstance(func, str):
            func_ref = func
            func = ref_to_obj(func)
        elif callable(func):
            try:
                func_ref = obj_to_ref(func)
            except ValueError:
                # Lambdas, partials, nested functions: the job works but cannot
                # be serialized (__getstate__ says so, job stores refuse it).
                func_ref = None
        else:
            raise TypeError("func must be a callable or a textual reference to one")

        # A job without a name is named after its callable.
        if (name is _MISSING or name is None) and not hasattr(job, "name"):
            name = get_callable_name(func)

        if type(args) is not tuple and type(args) is not list:
            if isinstance(args, str) or not isinstance(args, Iterable):
                raise TypeError("args must be a non-string iterable")
        if type(kwargs) is not dict:
            if isinstance(kwargs, str) or not isinstance(kwargs, Mapping):
                raise TypeError("kwargs must be a dict-like object")

        check_callable_args(func, args, kwargs)

    if name is not _MISSING:
        if not name or not isinstance(name, str):
            raise TypeError("name must be a nonempty string")

    misfire_grace_time = pop("misfire_grace_time", _MISSING)
    if misfire_grace_time is not _MISSING and misfire_grace_time is not None:
        if not isinstance(misfire_grace_time, int) or misfire_grace_time <= 0:
            raise TypeError(
                "misfire_grace_time must be either None or a positive integer"
            )

    coalesce = pop("coalesce", _MISSING)
    if coalesce is not _MISSING:
        coalesce = bool(coalesce)

    max_instances = pop("max_instances", _MISSING)
    if max_instances is not _MISSING:
        if not isinstance(max_instances, int) or max_instances <= 0:
            raise TypeError("max_instances must be a positive integer")

    trigger = pop("trigger", _MISSING)
    if trigger is not _MISSING and type(trigger) not in _trigger_types:
        if not isinstance(trigger, BaseTrigger):
            raise TypeError(
                f"Expected a trigger instance, got {trigger.__class__.__name__} "
                f"instead"
            )
        if issubclass(type(trigger), BaseTrigger):
            _trigger_types.add(type(trigger))

    executor = pop("executor", _MISSING)
    if executor is not _MISSING and not isinstance(executor, str):
        raise TypeError("executor must be a string")

    next_run_time = pop("next_run_time", _MISSING)
    if next_run_time is not _MISSING:
        # The scheduler's time zone is looked up even for None or an aware
        # datetime, which need no zone: a scheduler without one fails here alike.
        tz = job._scheduler.timezone
        if next_run_time is not None and (
            type(next_run_time) is not datetime or next_run_time.tzinfo is None
        ):
            next_run_time = convert_to_datetime(next_run_time, tz, "next_run_time")

    if changes:
        raise AttributeError(
            "The following are not modifiable attributes of Job: "
            + ", ".join(changes)
        )

    # Everything is valid: apply it.
    if new_id is not _MISSING:
        job.id = new_id
    if func is not _MISSING:
        job.func = func
        job.func_ref = func_ref
        job.args = args
        job.kwargs = kwargs
    if name is not _MISSING:
        job.name = name
    if misfire_grace_time is not _MISSING:
        job.misfire_grace_time = misfire_grace_time
    if coalesce is not _MISSING:
        job.coalesce = coalesce
    if max_instances is not _MISSING:
        job.max_instances = max_instances
    if trigger is not _MISSING:
        job.trigger = trigger
    if executor is not _MISSING:
        job.executor = executor
    if next_run_time is not _MISSING:
        job.next_run_time = next_run_time
