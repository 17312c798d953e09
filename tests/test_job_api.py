"""Behaviour of apscheduler.job.Job, down to exact messages and pickled bytes.

The tests at the end run the same scenarios and pickles through the real APScheduler
3.11.3 (``<repo>/.venv-ref/bin/python``, or ``APSCHEDULER_REF_PYTHON``) and compare;
without that interpreter they are skipped, or fail when ``CI`` is set.
"""

import gc
import inspect
import os
import pickle
import re
import subprocess
import uuid
import warnings
import weakref
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from unittest.mock import Mock, patch
from zoneinfo import ZoneInfo

import pytest
import pytz

import _job_helpers as helpers
from _job_helpers import GREETER, Greeter, needs_two, tick
from apscheduler.job import Job
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BERLIN = ZoneInfo("Europe/Berlin")
HELSINKI = ZoneInfo("Europe/Helsinki")
RUN_DATE = datetime(2030, 5, 17, 9, 30, tzinfo=BERLIN)
ID_PATTERN = re.compile("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")

SLOTS = (
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


ANONYMOUS = lambda: None  # noqa: E731 - a lambda at module level


def nested_function_factory():
    def nested():
        pass

    return nested


def scheduler_mock(tz=BERLIN):
    return Mock(timezone=tz)


def make_job(scheduler=None, **options):
    defaults = {
        "trigger": DateTrigger(RUN_DATE),
        "executor": "default",
        "func": tick,
        "args": (),
        "kwargs": {},
        "id": "job-1",
        "name": "a job",
        "misfire_grace_time": 1,
        "coalesce": False,
        "max_instances": 1,
    }
    defaults.update(options)
    return Job(scheduler or scheduler_mock(), **defaults)


def attributes(job):
    return {name: getattr(job, name) for name in SLOTS[1:] if hasattr(job, name)}


class TestClass:
    def test_slots_are_the_references(self):
        assert Job.__slots__ == SLOTS
        job = make_job()
        assert not hasattr(job, "__dict__")
        with pytest.raises(AttributeError):
            job.color = "red"

    def test_module_and_name(self):
        assert (Job.__module__, Job.__qualname__) == ("apscheduler.job", "Job")
        assert Job.__mro__ == (Job, object)

    def test_constructor_signature(self):
        assert str(inspect.signature(Job)) == "(scheduler, id=None, **kwargs)"

    def test_weak_references_do_not_keep_jobs_alive(self):
        job = make_job()
        ref = weakref.ref(job)
        del job
        gc.collect()
        assert ref() is None

    def test_jobs_are_unhashable(self):
        # __eq__ without __hash__, as in APScheduler: jobs cannot go into sets.
        assert Job.__hash__ is None
        with pytest.raises(TypeError, match="unhashable type: 'Job'"):
            hash(make_job())


class TestConstructor:
    def test_options_are_stored(self):
        scheduler = scheduler_mock()
        trigger = IntervalTrigger(seconds=5, start_date=RUN_DATE)
        job = Job(scheduler, id="abc", func=needs_two, args=[1], kwargs={"b": 2},
                  trigger=trigger, executor="pool", name="adder", misfire_grace_time=None,
                  coalesce=1, max_instances=3, next_run_time=RUN_DATE)
        assert job._scheduler is scheduler
        assert job._jobstore_alias is None
        assert attributes(job) == {
            "_jobstore_alias": None, "_scheduler": scheduler, "args": [1],
            "coalesce": True, "executor": "pool", "func": needs_two,
            "func_ref": "_job_helpers:needs_two", "id": "abc", "kwargs": {"b": 2},
            "max_instances": 3, "misfire_grace_time": None, "name": "adder",
            "next_run_time": RUN_DATE, "trigger": trigger,
        }

    def test_only_what_is_given_is_set(self):
        job = Job(scheduler_mock(), id="bare")
        assert attributes(job) == {
            "_jobstore_alias": None, "_scheduler": job._scheduler, "id": "bare",
        }

    def test_id_positionally(self):
        assert Job(scheduler_mock(), "positional").id == "positional"

    @pytest.mark.parametrize("given", [None, "", 0, False])
    def test_falsy_id_is_replaced_by_a_generated_one(self, given):
        job = Job(scheduler_mock(), id=given)
        assert ID_PATTERN.fullmatch(job.id)

    def test_generated_ids_are_uuid4_hex_and_unique(self):
        ids = [Job(scheduler_mock()).id for _ in range(2000)]
        assert len(set(ids)) == len(ids)
        for job_id in ids:
            parsed = uuid.UUID(hex=job_id)
            assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
            assert parsed.hex == job_id

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork()")
    def test_forked_child_generates_other_ids_than_its_parent(self):
        Job(scheduler_mock())  # make sure this process holds unused generated IDs
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking a process that has threads.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                os.write(write_end, Job(scheduler_mock()).id.encode())
            finally:
                os._exit(0)
        os.close(write_end)
        child_id = os.read(read_end, 100).decode()
        os.close(read_end)
        os.waitpid(pid, 0)
        assert ID_PATTERN.fullmatch(child_id)
        assert child_id != Job(scheduler_mock()).id

    def test_patched_private_modify_receives_every_option(self):
        with patch("apscheduler.job.Job._modify") as modify:
            job = Job(scheduler_mock(), id=None, func=tick, name="x")
        assert job._jobstore_alias is None
        assert modify.call_count == 1
        assert modify.call_args.args == ()
        assert set(modify.call_args.kwargs) == {"id", "func", "name"}
        assert ID_PATTERN.fullmatch(modify.call_args.kwargs["id"])

    def test_overridden_private_modify_is_called(self):
        calls = []

        class RecordingJob(Job):
            __slots__ = ()

            def _modify(self, **changes):
                calls.append(list(changes))
                super()._modify(**changes)

        job = RecordingJob(scheduler_mock(), id="sub", func=tick, args=(), kwargs={},
                           coalesce=True)
        assert calls == [["id", "func", "args", "kwargs", "coalesce"]]
        assert (job.id, job.func, job.coalesce, job.name) == ("sub", tick, True, "tick")

    def test_subclass_init_is_cooperative(self):
        class Mixin:
            def __init__(self):
                self.mixed_in = True

        class MixedJob(Job, Mixin):
            __slots__ = ("mixed_in",)

        assert MixedJob(scheduler_mock(), id="m").mixed_in is True


class TestPublicMethods:
    def test_modify(self):
        job = make_job()
        assert job.modify(name="x", bogus=1) is job
        job._scheduler.modify_job.assert_called_once_with("job-1", None, name="x", bogus=1)

    def test_reschedule(self):
        job = make_job()
        assert job.reschedule("cron", hour=3) is job
        job._scheduler.reschedule_job.assert_called_once_with("job-1", None, "cron", hour=3)

    def test_pause_resume(self):
        job = make_job()
        job._jobstore_alias = "store"
        assert job.pause() is job
        assert job.resume() is job
        job._scheduler.pause_job.assert_called_once_with("job-1", "store")
        job._scheduler.resume_job.assert_called_once_with("job-1", "store")

    def test_remove_returns_none(self):
        job = make_job()
        assert job.remove() is None
        job._scheduler.remove_job.assert_called_once_with("job-1", None)

    def test_methods_do_not_touch_the_job(self):
        job = make_job()
        before = attributes(job)
        job.modify(name="changed")
        job.pause()
        assert attributes(job) == before

    def test_pending(self):
        job = make_job()
        assert job.pending is True
        job._jobstore_alias = "default"
        assert job.pending is False
        del job._jobstore_alias
        with pytest.raises(AttributeError):
            job.pending


class TestModifyValidation:
    @pytest.mark.parametrize(
        "changes, exc_type, message",
        [
            ({"id": "other"}, ValueError, "The job ID may not be changed"),
            ({"id": 3}, TypeError, "id must be a nonempty string"),
            ({"func": 1}, TypeError, "func must be a callable or a textual reference to one"),
            ({"func": None}, TypeError, "func must be a callable or a textual reference to one"),
            ({"func": "no colon"}, ValueError, "Invalid reference"),
            ({"func": "_job_helpers:missing"}, LookupError,
             "Error resolving reference _job_helpers:missing: error looking up object"),
            ({"func": "not_a_module_anywhere:f"}, LookupError,
             "Error resolving reference not_a_module_anywhere:f: could not import module"),
            ({"args": 1}, TypeError, "args must be a non-string iterable"),
            ({"args": "ab"}, TypeError, "args must be a non-string iterable"),
            ({"args": None}, TypeError, "args must be a non-string iterable"),
            ({"kwargs": 1}, TypeError, "kwargs must be a dict-like object"),
            ({"kwargs": "k"}, TypeError, "kwargs must be a dict-like object"),
            ({"kwargs": [("a", 1)]}, TypeError, "kwargs must be a dict-like object"),
            ({"func": needs_two}, ValueError,
             "The following arguments have not been supplied: a, b"),
            ({"name": ""}, TypeError, "name must be a nonempty string"),
            ({"name": None}, TypeError, "name must be a nonempty string"),
            ({"name": b"x"}, TypeError, "name must be a nonempty string"),
            ({"misfire_grace_time": 0}, TypeError,
             "misfire_grace_time must be either None or a positive integer"),
            ({"misfire_grace_time": 1.5}, TypeError,
             "misfire_grace_time must be either None or a positive integer"),
            ({"misfire_grace_time": False}, TypeError,
             "misfire_grace_time must be either None or a positive integer"),
            ({"max_instances": None}, TypeError, "max_instances must be a positive integer"),
            ({"max_instances": -1}, TypeError, "max_instances must be a positive integer"),
            ({"max_instances": 2.0}, TypeError, "max_instances must be a positive integer"),
            ({"trigger": "date"}, TypeError, "Expected a trigger instance, got str instead"),
            ({"trigger": None}, TypeError,
             "Expected a trigger instance, got NoneType instead"),
            ({"executor": None}, TypeError, "executor must be a string"),
            ({"next_run_time": 5}, TypeError, "Unsupported type for next_run_time: int"),
            ({"next_run_time": "soon"}, ValueError, "Invalid date string"),
            ({"scheduler": 1}, AttributeError,
             "The following are not modifiable attributes of Job: scheduler"),
            ({"b": 1, "name": "ok", "a": 2}, AttributeError,
             "The following are not modifiable attributes of Job: b, a"),
            # Checks run in a fixed order; the first failing one is reported.
            ({"executor": 1, "name": ""}, TypeError, "name must be a nonempty string"),
            ({"bogus": 1, "next_run_time": 5}, TypeError,
             "Unsupported type for next_run_time: int"),
            ({"trigger": 1, "max_instances": 0}, TypeError,
             "max_instances must be a positive integer"),
            ({"kwargs": 1, "args": 1}, TypeError, "args must be a non-string iterable"),
        ],
    )
    def test_invalid_changes(self, changes, exc_type, message):
        job = make_job(next_run_time=None)
        before = attributes(job)
        with pytest.raises(exc_type) as exc_info:
            job._modify(**changes)
        assert type(exc_info.value) is exc_type
        assert str(exc_info.value) == message
        assert attributes(job) == before  # nothing applied

    def test_invalid_func_for_a_new_job_in_the_constructor(self):
        with pytest.raises(TypeError, match="^func must be a callable"):
            make_job(func=3)

    def test_missing_timezone_on_naive_next_run_time(self):
        with pytest.raises(ValueError, match='^The "tz" argument must be specified if '
                                             "next_run_time has no timezone information$"):
            make_job(scheduler=scheduler_mock(tz=None), next_run_time=datetime(2030, 1, 1))

    def test_id_may_be_set_once_and_empty(self):
        job = make_job()
        del job.id
        job._modify(id="")
        assert job.id == ""

    def test_args_change_checked_against_current_func(self):
        job = make_job(func=needs_two, args=(1, 2))
        with pytest.raises(ValueError, match="^The following arguments have not been "
                                             "supplied: b$"):
            job._modify(args=(1,))
        job._modify(args=(1,), kwargs={"b": 5})
        assert (job.args, job.kwargs) == ((1,), {"b": 5})

    def test_args_change_on_a_job_without_func(self):
        job = Job(scheduler_mock(), id="bare")
        with pytest.raises(AttributeError, match="'Job' object has no attribute 'func'"):
            job._modify(args=())


class TestModifyValues:
    def test_textual_reference_is_resolved(self):
        job = make_job()
        job._modify(func="_job_helpers:needs_two", args=(1, 2))
        assert (job.func, job.func_ref) == (needs_two, "_job_helpers:needs_two")

    def test_reference_to_bound_method_is_kept_as_given(self):
        job = make_job(func="_job_helpers:GREETER.greet")
        assert job.func == GREETER.greet
        assert job.func_ref == "_job_helpers:GREETER.greet"

    @pytest.mark.parametrize(
        "func, func_ref",
        [
            (tick, "_job_helpers:tick"),
            (GREETER.greet, "_job_helpers:Greeter.greet"),
            (Greeter.make, "_job_helpers:Greeter.make"),
            (Greeter, "_job_helpers:Greeter"),
            (GREETER, "_job_helpers:Greeter"),
            (len, "builtins:len"),
            (partial(tick), None),
            (lambda: None, None),
            (nested_function_factory(), None),
        ],
        ids=["function", "method", "classmethod", "class", "instance", "builtin",
             "partial", "lambda", "nested"],
    )
    def test_func_ref(self, func, func_ref):
        args = ("x",) if func in (Greeter, len) else ()
        job = make_job(func=func, args=args)
        assert job.func is func
        assert job.func_ref == func_ref

    @pytest.mark.parametrize(
        "func, name",
        [(tick, "tick"), (GREETER.greet, "Greeter.greet"), (Greeter.make, "Greeter.make"),
         (ANONYMOUS, "<lambda>"), ("_job_helpers:tick", "tick")],
    )
    def test_name_defaults_to_callable_name(self, func, name):
        assert make_job(func=func, name=None).name == name
        job = make_job()
        del job.name
        job._modify(func=func)
        assert job.name == name

    def test_name_is_not_replaced_on_existing_job(self):
        job = make_job(name="mine")
        job._modify(func=needs_two, args=(1, 2))
        assert job.name == "mine"

    def test_no_default_name_without_func_change(self):
        job = make_job()
        del job.name
        job._modify(coalesce=True)
        assert not hasattr(job, "name")

    def test_args_and_kwargs_are_stored_as_given(self):
        args, kwargs = [1, 2], {"x": 1}
        job = make_job(args=args, kwargs=kwargs)
        assert job.args is args
        assert job.kwargs is kwargs
        generator_args = range(3)
        job._modify(args=generator_args)
        assert job.args is generator_args

    @pytest.mark.parametrize("value, expected", [(1, True), (0, False), ("", False),
                                                 ([0], True), (None, False)])
    def test_coalesce_is_made_boolean(self, value, expected):
        assert make_job(coalesce=value).coalesce is expected

    @pytest.mark.parametrize("value", [None, 1, 3600, True])
    def test_valid_misfire_grace_time(self, value):
        assert make_job(misfire_grace_time=value).misfire_grace_time is value

    def test_max_instances_accepts_true(self):
        assert make_job(max_instances=True).max_instances is True

    @pytest.mark.parametrize(
        "value, expected",
        [
            (None, None),
            (RUN_DATE, RUN_DATE),
            (datetime(2030, 1, 1, 12), datetime(2030, 1, 1, 12, tzinfo=BERLIN)),
            (date(2030, 1, 2), datetime(2030, 1, 2, tzinfo=BERLIN)),
            ("2030-01-01 10:00:00", datetime(2030, 1, 1, 10, tzinfo=BERLIN)),
            ("2030-01-01 10:00:00+02:00",
             datetime(2030, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))),
        ],
    )
    def test_next_run_time_conversion(self, value, expected):
        job = make_job(next_run_time=value)
        assert job.next_run_time == expected
        if expected is not None:
            assert job.next_run_time.utcoffset() == expected.utcoffset()
        job._modify(next_run_time=value)
        assert job.next_run_time == expected

    def test_aware_next_run_time_is_kept_as_is(self):
        when = datetime(2030, 1, 1, 12, tzinfo=HELSINKI)
        job = make_job(next_run_time=when)
        assert job.next_run_time is when
        job._modify(next_run_time=None)
        job._modify(next_run_time=when)
        assert job.next_run_time is when

    def test_naive_next_run_time_in_pytz_zone(self):
        berlin = pytz.timezone("Europe/Berlin")
        job = make_job(scheduler=scheduler_mock(berlin), next_run_time=datetime(2030, 7, 1, 8))
        assert job.next_run_time.tzinfo.zone == "Europe/Berlin"
        assert job.next_run_time.utcoffset() == timedelta(hours=2)

    @pytest.mark.parametrize("changes", [{"next_run_time": None},
                                         {"next_run_time": RUN_DATE, "coalesce": True}])
    def test_scheduler_timezone_is_read_even_when_not_needed(self, changes):
        job = make_job()
        job._scheduler = object()
        with pytest.raises(AttributeError, match="'object' object has no attribute 'timezone'"):
            job._modify(**changes)

    def test_a_trigger_type_is_checked_by_its_real_class(self):
        # A mock with a trigger spec passes the isinstance() check, but its type must not
        # let other mocks through afterwards.
        spec_mock = Mock(spec=DateTrigger)
        job = make_job(trigger=spec_mock)
        assert job.trigger is spec_mock
        with pytest.raises(TypeError, match="^Expected a trigger instance, got Mock instead$"):
            job._modify(trigger=Mock())

    def test_python_trigger(self):
        trigger = helpers.EveryMinute(RUN_DATE)
        assert make_job(trigger=trigger).trigger is trigger


class TestRunTimes:
    def test_up_to_and_including_now(self):
        trigger = IntervalTrigger(minutes=10, start_date=RUN_DATE)
        job = make_job(trigger=trigger, next_run_time=RUN_DATE)
        assert job._get_run_times(RUN_DATE - timedelta(microseconds=1)) == []
        assert job._get_run_times(RUN_DATE) == [RUN_DATE]
        assert job._get_run_times(RUN_DATE + timedelta(minutes=25)) == [
            RUN_DATE, RUN_DATE + timedelta(minutes=10), RUN_DATE + timedelta(minutes=20)]

    def test_now_in_another_zone(self):
        trigger = IntervalTrigger(minutes=10, start_date=RUN_DATE)
        job = make_job(trigger=trigger, next_run_time=RUN_DATE)
        now = (RUN_DATE + timedelta(minutes=10)).astimezone(HELSINKI)
        assert job._get_run_times(now) == [RUN_DATE, RUN_DATE + timedelta(minutes=10)]

    def test_paused_job_has_none(self):
        job = make_job(next_run_time=None)
        assert job._get_run_times(RUN_DATE + timedelta(days=100)) == []

    def test_ends_when_trigger_ends(self):
        job = make_job(next_run_time=RUN_DATE)
        assert job._get_run_times(RUN_DATE + timedelta(days=3)) == [RUN_DATE]

    def test_trigger_receives_previous_time_and_now(self):
        trigger = Mock(spec=DateTrigger)
        trigger.get_next_fire_time.side_effect = [RUN_DATE + timedelta(hours=1), None]
        job = make_job(trigger=trigger, next_run_time=RUN_DATE)
        now = RUN_DATE + timedelta(hours=2)
        assert job._get_run_times(now) == [RUN_DATE, RUN_DATE + timedelta(hours=1)]
        assert [c.args for c in trigger.get_next_fire_time.call_args_list] == [
            (RUN_DATE, now), (RUN_DATE + timedelta(hours=1), now)]

    @pytest.mark.timeout(5)
    def test_repeated_hour_after_dst_change_ends(self):
        eastern = ZoneInfo("America/New_York")
        trigger = CronTrigger(hour=1, minute=0, second=10, timezone=eastern)
        first = datetime(2025, 11, 2, 1, 0, 10, tzinfo=eastern)
        second = first.replace(fold=1)
        now = datetime(2025, 11, 2, 1, 0, 10, 10, tzinfo=eastern)
        job = make_job(trigger=trigger, next_run_time=first)
        assert [str(t) for t in job._get_run_times(now)] == [str(first)]
        assert [str(t) for t in job._get_run_times(now.replace(fold=1))] == [
            str(first), str(second)]


class TestSerialization:
    def test_state_layout(self):
        trigger = DateTrigger(RUN_DATE)
        job = make_job(trigger=trigger, args=[1], kwargs={"k": 2}, next_run_time=RUN_DATE)
        state = job.__getstate__()
        assert list(state.items()) == [
            ("version", 1), ("id", "job-1"), ("func", "_job_helpers:tick"),
            ("trigger", trigger), ("executor", "default"), ("args", [1]),
            ("kwargs", {"k": 2}), ("name", "a job"), ("misfire_grace_time", 1),
            ("coalesce", False), ("max_instances", 1), ("next_run_time", RUN_DATE),
        ]
        assert state["args"] is job.args
        assert state["kwargs"] is job.kwargs

    def test_bound_method_moves_its_instance_into_args(self):
        job = make_job(func=GREETER.greet, args=["you"], next_run_time=None)
        state = job.__getstate__()
        assert state["func"] == "_job_helpers:Greeter.greet"
        assert state["args"] == (GREETER, "you")
        assert state["args"][0] is GREETER
        restored = pickle.loads(pickle.dumps(job))
        assert restored.func is Greeter.greet
        assert restored.func(*restored.args) == "hello, you"

    @pytest.mark.parametrize("func", [Greeter.make, "_job_helpers:GREETER.greet"],
                             ids=["classmethod", "reference to bound method"])
    def test_other_methods_keep_their_args(self, func):
        job = make_job(func=func, args=[], next_run_time=None)
        assert job.__getstate__()["args"] is job.args

    @pytest.mark.parametrize("func", [partial(tick), lambda: None], ids=["partial", "lambda"])
    def test_job_without_reference_cannot_be_serialized(self, func):
        job = make_job(func=func, next_run_time=None)
        message = (
            f"This Job cannot be serialized since the reference to its callable "
            f"({func!r}) could not be determined. Consider giving a textual reference "
            f"(module:function name) instead."
        )
        with pytest.raises(ValueError) as exc_info:
            pickle.dumps(job)
        assert str(exc_info.value) == message

    def test_round_trip(self):
        job = make_job(trigger=CronTrigger(hour=3, timezone=BERLIN), args=(1,),
                       kwargs={"k": "v"}, next_run_time=RUN_DATE, coalesce=True)
        restored = pickle.loads(pickle.dumps(job))
        assert type(restored) is Job
        assert restored == job
        assert {k: v for k, v in attributes(restored).items() if k != "trigger"} == {
            k: v for k, v in attributes(job).items()
            if k not in ("trigger", "_scheduler", "_jobstore_alias")
        }
        assert str(restored.trigger) == str(job.trigger)
        # The job store attaches the scheduler and its alias after loading.
        assert not hasattr(restored, "_scheduler")
        assert not hasattr(restored, "_jobstore_alias")

    def test_setstate_applies_every_field(self):
        trigger = DateTrigger(RUN_DATE)
        job = Job.__new__(Job)
        job.__setstate__({
            "version": 1, "scheduler": object(), "jobstore": object(), "trigger": trigger,
            "executor": "x", "func": "_job_helpers:needs_two", "name": "n", "args": [1],
            "kwargs": {"b": 2}, "id": "restored", "misfire_grace_time": None,
            "coalesce": 0, "max_instances": 9, "next_run_time": RUN_DATE,
        })
        assert attributes(job) == {
            "args": [1], "coalesce": 0, "executor": "x", "func": needs_two,
            "func_ref": "_job_helpers:needs_two", "id": "restored", "kwargs": {"b": 2},
            "max_instances": 9, "misfire_grace_time": None, "name": "n",
            "next_run_time": RUN_DATE, "trigger": trigger,
        }

    @pytest.mark.parametrize("version", [2, 9999])
    def test_newer_state_is_refused(self, version):
        job = Job.__new__(Job)
        with pytest.raises(ValueError) as exc_info:
            job.__setstate__({"version": version})
        assert str(exc_info.value) == (
            f"Job has version {version}, but only version 1 can be handled")

    def test_failed_setstate_keeps_what_was_set_before(self):
        job = Job.__new__(Job)
        with pytest.raises(LookupError):
            job.__setstate__({"id": "x", "func": "_job_helpers:absent"})
        assert attributes(job) == {"id": "x", "func_ref": "_job_helpers:absent"}


class TestTextAndEquality:
    def test_repr(self):
        assert repr(make_job(id="téstïd", name="nämé")) == "<Job (id=téstïd name=nämé)>"

    def test_str_scheduled(self):
        job = make_job(next_run_time=RUN_DATE)
        assert str(job) == "a job (trigger: date[2030-05-17 09:30:00 CEST], " \
                           "next run at: 2030-05-17 09:30:00 CEST)"

    def test_str_paused(self):
        job = make_job(next_run_time=None)
        assert str(job) == "a job (trigger: date[2030-05-17 09:30:00 CEST], paused)"

    def test_str_pending(self):
        assert str(make_job()) == "a job (trigger: date[2030-05-17 09:30:00 CEST], pending)"

    def test_equality_by_id(self):
        first = make_job(func=tick, name="one")
        assert first == make_job(func=needs_two, args=(1, 2), name="two")
        assert first != make_job(id="job-2")
        assert first != "job-1"
        assert (first == "job-1") is False
        assert first.__eq__("job-1") is NotImplemented


#
# Against the reference
#

def reference_python():
    override = os.environ.get("APSCHEDULER_REF_PYTHON")
    candidate = Path(override) if override else REPO / ".venv-ref" / "bin" / "python"
    if candidate.exists():
        return candidate
    if os.environ.get("CI"):
        pytest.fail(f"reference interpreter {candidate} missing on CI")
    pytest.skip(f"reference interpreter {candidate} not found (run scripts/bootstrap.sh)")


# Runs in the reference interpreter, isolated (-I) so that only its own apscheduler
# can be imported; the directory of _job_helpers comes as the first argument.
REFERENCE_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import apscheduler, _job_helpers
assert "site-packages" in apscheduler.__file__, apscheduler.__file__
_job_helpers.reference_main()
"""


@pytest.fixture(scope="module")
def our_dumps():
    return helpers.dump_cases()


@pytest.fixture(scope="module")
def reference(our_dumps, tmp_path_factory):
    """The reference's scenario outcomes, its pickles, and how it loads ours."""
    python = reference_python()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    proc = subprocess.run(
        [str(python), "-I", "-c", REFERENCE_SCRIPT, str(HERE)],
        input=pickle.dumps({"load": our_dumps}), capture_output=True, timeout=300,
        cwd=tmp_path_factory.mktemp("reference-job"), env=env,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-4000:]
    return pickle.loads(proc.stdout)


def test_scenarios_match_reference(reference):
    ours = helpers.run_scenarios()
    theirs = reference["scenarios"]
    assert [label for label, _ in ours] == [label for label, _ in theirs]
    assert len(ours) > 500
    differing = [
        f"{label}:\n  ours:      {mine}\n  reference: {other}"
        for (label, mine), (_, other) in zip(ours, theirs)
        if mine != other
    ]
    assert not differing, "\n".join(differing[:20])


def test_our_pickles_are_byte_identical_to_the_references(reference, our_dumps):
    assert our_dumps.keys() == reference["dumps"].keys()
    differing = [key for key, data in our_dumps.items() if data != reference["dumps"][key]]
    assert not differing


def test_our_pickles_load_in_reference(reference, our_dumps):
    for key, data in our_dumps.items():
        loaded = reference["loaded"][key]
        assert loaded[0] == "ok", (key, loaded)
        expected = helpers.load_summary(data)
        assert loaded[1] == expected, key
        assert loaded[1]["type"] == "apscheduler.job.Job"
        assert loaded[1]["calls"][0] == "ok", (key, loaded)


def test_reference_pickles_load_in_ours(reference, our_dumps):
    for key, data in reference["dumps"].items():
        loaded = helpers.load_summary(data)
        assert loaded == helpers.load_summary(our_dumps[key]), key
        assert loaded["calls"][0] == "ok", (key, loaded)
        # Loading and pickling again gives the reference's bytes back.
        if key[1] == "job":
            assert pickle.dumps(pickle.loads(data), key[2]) == data, key
