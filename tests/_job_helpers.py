"""Callables, triggers and Job scenarios for test_job_api.py.

This module is imported both by our tests and, in a subprocess, by the interpreter
that has the real APScheduler 3.11.3 (see ``reference_main``). Jobs pickled by either
side refer to the callables here as ``_job_helpers:...``, so it must import nothing
from the test suite and only the public ``apscheduler`` API.
"""

import pickle
import re
import sys
from datetime import date, datetime, timedelta
from functools import partial
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytz

from apscheduler.job import Job
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

BERLIN = ZoneInfo("Europe/Berlin")
PYTZ_BERLIN = pytz.timezone("Europe/Berlin")
RUN_DATE = datetime(2030, 5, 17, 9, 30, tzinfo=BERLIN)


def tick(*args, **kwargs):
    return args, kwargs


def needs_two(a, b):
    return a + b


def keyword_only(*, flag):
    return flag


class Greeter:
    def __init__(self, greeting):
        self.greeting = greeting

    def greet(self, name="world"):
        return f"{self.greeting}, {name}"

    @classmethod
    def make(cls):
        return cls("hi")

    def __call__(self):
        return self.greeting

    def __eq__(self, other):
        return isinstance(other, Greeter) and other.greeting == self.greeting

    def __repr__(self):
        return f"Greeter({self.greeting!r})"


GREETER = Greeter("hello")


class EveryMinute(BaseTrigger):
    """A trigger written in Python, as plug-ins do; it pickles with every protocol."""

    def __init__(self, start):
        self.start = start

    def get_next_fire_time(self, previous_fire_time, now):
        if previous_fire_time is None:
            return self.start
        return previous_fire_time + timedelta(minutes=1)

    def __str__(self):
        return f"every minute from {self.start.isoformat()}"


class Scheduler:
    """Just enough of a scheduler for Job: the time zone it converts times with."""

    def __init__(self, timezone=BERLIN):
        self.timezone = timezone


class SchedulerWithoutTimezone:
    pass


def _text(value):
    # Reprs of functions and other objects carry addresses, which differ per process.
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _attribute(job, name):
    try:
        value = getattr(job, name)
    except AttributeError:
        return "<unset>"
    if callable(value) and not isinstance(value, BaseTrigger):
        return _text(value)
    if isinstance(value, datetime):
        return f"{value.isoformat()} {value.tzinfo!r} fold={value.fold}"
    if name == "trigger":
        return [type(value).__name__, str(value)]
    return [type(value).__name__, _text(value)]


def summarize(job):
    """Everything observable about a job, as plain data that both interpreters agree on."""
    names = ("id", "name", "func", "func_ref", "args", "kwargs", "trigger", "executor",
             "misfire_grace_time", "coalesce", "max_instances", "next_run_time",
             "_jobstore_alias")
    summary = {name: _attribute(job, name) for name in names}
    summary["str"] = outcome(lambda: str(job))
    summary["repr"] = outcome(lambda: repr(job))
    summary["pending"] = outcome(lambda: job.pending)
    return summary


def outcome(action):
    """The result of ``action()``, or the type and message of what it raised."""
    try:
        return ["ok", action()]
    except Exception as exc:
        return ["error", type(exc).__name__, _text(str(exc))]


#
# Scenarios run by both interpreters; their outcomes must be identical.
#

BASE_OPTIONS = {
    "trigger": "<date trigger>",
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


def _date_trigger():
    return DateTrigger(RUN_DATE)


def _values():
    """Values to try per option, valid and invalid ones."""
    return {
        "id": ["other", "", 3, None, b"bytes"],
        "func": [tick, "_job_helpers:tick", "_job_helpers:Greeter.make",
                 "_job_helpers:GREETER.greet", "_job_helpers:missing",
                 "module_that_does_not_exist:f", "no colon", 1, None, partial(tick),
                 lambda: None, GREETER.greet, Greeter.make, GREETER, Greeter, len,
                 needs_two, keyword_only, "_job_helpers:RUN_DATE"],
        "args": [(), [1], (1, 2), "ab", 1, None, {1}, range(2), (1, 2, 3), iter([1, 2])],
        "kwargs": [{}, {"b": 2}, {"flag": True}, "x", 1, None, [("a", 1)],
                   MappingProxyType({"a": 1})],
        "name": ["n", "", None, 1, b"x", "nämé"],
        "misfire_grace_time": [None, 1, 30, 0, -1, True, False, 1.5, "3"],
        "coalesce": [True, 0, "", [1], None],
        "max_instances": [1, 3, 0, -1, None, True, 2.0, "1"],
        "trigger": [_date_trigger(), EveryMinute(RUN_DATE), "date", None, 5],
        "executor": ["default", "", 1, None],
        "next_run_time": [None, RUN_DATE, datetime(2030, 1, 1, 12), date(2030, 1, 2),
                          "2030-01-01 10:00:00", "2030-01-01T10:00:00+02:00",
                          "2030-01-01 10:00:00.123456Z", 5, "garbage",
                          PYTZ_BERLIN.localize(datetime(2030, 7, 1, 8))],
        "bogus": [1],
        "scheduler": [None],
        "jobstore": ["default"],
    }


# One invalid value per option, for checking which error wins when several are wrong.
INVALID = {
    "id": 3,
    "func": 1,
    "args": 1,
    "kwargs": 1,
    "name": "",
    "misfire_grace_time": 0,
    "coalesce": None,
    "max_instances": 0,
    "trigger": "date",
    "executor": 1,
    "next_run_time": 5,
    "bogus": 1,
    "other_bogus": 2,
}


def _options(**overrides):
    options = dict(BASE_OPTIONS, trigger=_date_trigger())
    options.update(overrides)
    return options


def _constructed(scheduler, options):
    def build():
        job = Job(scheduler, **options)
        summary = summarize(job)
        if not options.get("id"):
            # A generated ID: random, so only its form is compared.
            job_id = job.id
            summary["id"] = [len(job_id), bool(re.fullmatch(
                "[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", job_id))]
            summary["repr"] = None
        return summary

    return outcome(build)


def _modified(job, **changes):
    def modify():
        job._modify(**changes)
        return summarize(job)

    return outcome(modify)


def run_scenarios():
    """Returns [(label, outcome)] for every scenario; labels are unique."""
    results = []
    scheduler = Scheduler()
    values = _values()

    # Each value in the constructor and through _modify() on an existing job; the
    # existing job is made again each time since a successful change alters it.
    for option, candidates in values.items():
        for index, value in enumerate(candidates):
            label = f"{option}[{index}]"
            results.append((f"new {label}", _constructed(scheduler, _options(**{option: value}))))
            job = Job(scheduler, **_options(next_run_time=None))
            results.append((f"modify {label}", _modified(job, **{option: value})))

    # Two invalid options at once, in both orders: the order of the checks decides.
    for first in INVALID:
        for second in INVALID:
            if first == second:
                continue
            changes = {first: INVALID[first], second: INVALID[second]}
            job = Job(scheduler, **_options(next_run_time=None))
            results.append((f"modify {first}+{second}", _modified(job, **changes)))
            if "id" not in changes:
                results.append((f"new {first}+{second}",
                                _constructed(scheduler, _options(**changes))))

    # Arguments checked against the callable: a change to any of the three is checked
    # against the current values of the others.
    job = Job(scheduler, **_options(func=needs_two, args=(1, 2)))
    results.append(("modify args only, mismatch", _modified(job, args=(1,))))
    results.append(("modify kwargs only, clash", _modified(job, kwargs={"a": 1})))
    results.append(("modify func only, mismatch", _modified(job, func=keyword_only)))
    results.append(("modify func+args+kwargs", _modified(
        job, func=keyword_only, args=(), kwargs={"flag": 1})))

    # Jobs that lack attributes: made without a callable, or with some removed.
    results.append(("new without options", _constructed(scheduler, {"id": "bare"})))
    results.append(("new without func, with args",
                    _constructed(scheduler, {"id": "x", "args": ()})))
    results.append(("new without func, name None",
                    _constructed(scheduler, {"id": "x", "name": None})))
    results.append(("new name None", _constructed(scheduler, _options(name=None))))
    results.append(("new name None, func ref", _constructed(
        scheduler, _options(name=None, func="_job_helpers:GREETER.greet"))))
    results.append(("new name None, func ref to non-callable", _constructed(
        scheduler, _options(name=None, func="_job_helpers:RUN_DATE"))))
    results.append(("new name None, no func", _constructed(
        scheduler, {"id": "x", "name": None, "trigger": _date_trigger()})))
    bare = Job(scheduler, id="bare")
    results.append(("modify bare: args", _modified(bare, args=(1,))))
    results.append(("modify bare: func", _modified(bare, func=Greeter.make)))
    nameless = Job(scheduler, **_options())
    del nameless.name
    results.append(("modify nameless: name None + func", _modified(
        nameless, func=GREETER.greet, name=None)))
    nameless = Job(scheduler, **_options())
    del nameless.name
    results.append(("modify nameless: trigger only", _modified(nameless, trigger=_date_trigger())))
    idless = Job(scheduler, **_options())
    del idless.id
    results.append(("modify idless: id", _modified(idless, id="fresh")))

    # The scheduler's time zone is looked up for next_run_time, even when not needed.
    for value in (None, RUN_DATE, datetime(2030, 1, 1)):
        results.append((f"no timezone, next_run_time={value}", _constructed(
            SchedulerWithoutTimezone(), _options(next_run_time=value))))
    results.append(("no timezone, no next_run_time",
                    _constructed(SchedulerWithoutTimezone(), _options())))
    results.append(("pytz scheduler, naive next_run_time", _constructed(
        Scheduler(PYTZ_BERLIN), _options(next_run_time=datetime(2030, 7, 1, 8)))))
    results.append(("str timezone scheduler, naive next_run_time", _constructed(
        Scheduler("Europe/Helsinki"), _options(next_run_time=datetime(2030, 7, 1, 8)))))

    # Serialization of what was built above.
    for label, options in _state_cases():
        job = Job(scheduler, **options)
        results.append((f"getstate {label}, pending", outcome(lambda: _plain_state(job))))
        job._modify(next_run_time=None)
        results.append((f"getstate {label}", outcome(lambda: _plain_state(job))))

    # Run times.
    for label, action in _run_time_cases(scheduler):
        results.append((f"run times {label}", outcome(action)))

    # __setstate__ errors, and what they leave behind.
    for label, state in _bad_states():
        job = Job.__new__(Job)
        results.append((f"setstate {label}", outcome(lambda: job.__setstate__(state))))
        results.append((f"setstate {label} leaves", summarize(job)))

    # Equality and hashing.
    first = Job(scheduler, **_options())
    second = Job(scheduler, **_options(name="another"))
    third = Job(scheduler, **_options(id="job-2"))
    results.append(("eq same id", outcome(lambda: first == second)))
    results.append(("eq other id", outcome(lambda: first == third)))
    results.append(("ne same id", outcome(lambda: first != second)))
    results.append(("eq str", outcome(lambda: first == "job-1")))
    results.append(("hash", outcome(lambda: hash(first))))
    return results


def _state_cases():
    return [
        ("plain", _options()),
        ("string reference", _options(func="_job_helpers:tick")),
        ("bound method", _options(func=GREETER.greet, args=["you"])),
        ("bound method by reference", _options(func="_job_helpers:GREETER.greet")),
        ("class method", _options(func=Greeter.make)),
        ("callable instance", _options(func=GREETER)),
        ("class", _options(func=Greeter, args=("hey",))),
        ("builtin", _options(func=len, args=([1],))),
        ("partial", _options(func=partial(tick))),
        ("lambda", _options(func=lambda: None)),
        ("list args", _options(args=[1, 2], kwargs={"k": "v"})),
        ("next run time", _options(next_run_time=RUN_DATE)),
        ("nested function", _options(func=_nested())),
    ]


def _nested():
    def nested():
        pass

    return nested


def _plain_state(job):
    state = job.__getstate__()
    return [(key, _text(value)) for key, value in state.items()]


def _run_time_cases(scheduler):
    interval = IntervalTrigger(minutes=10, start_date=RUN_DATE)

    def times(job, now):
        return [t.isoformat() for t in job._get_run_times(now)]

    def job_at(next_run_time, trigger=interval):
        return Job(scheduler, **_options(trigger=trigger, next_run_time=next_run_time))

    eastern = ZoneInfo("America/New_York")
    cron = CronTrigger(hour=1, minute=0, second=10, timezone=eastern)
    before_fold = datetime(2025, 11, 2, 1, 0, 10, tzinfo=eastern)
    in_fold = before_fold.replace(fold=1)
    now_first = datetime(2025, 11, 2, 1, 0, 10, 10, tzinfo=eastern)
    return [
        ("paused", lambda: times(job_at(None), RUN_DATE + timedelta(days=1))),
        ("before", lambda: times(job_at(RUN_DATE), RUN_DATE - timedelta(seconds=1))),
        ("exactly", lambda: times(job_at(RUN_DATE), RUN_DATE)),
        ("several", lambda: times(job_at(RUN_DATE), RUN_DATE + timedelta(minutes=35))),
        ("other zone now", lambda: times(
            job_at(RUN_DATE), (RUN_DATE + timedelta(minutes=20)).astimezone(eastern))),
        ("trigger ends", lambda: times(
            job_at(RUN_DATE, _date_trigger()), RUN_DATE + timedelta(days=3))),
        ("fold, first pass", lambda: times(job_at(before_fold, cron), now_first)),
        ("fold, second pass", lambda: times(job_at(before_fold, cron),
                                            now_first.replace(fold=1))),
        ("fold, from second", lambda: times(job_at(in_fold, cron), now_first)),
        ("naive now", lambda: times(job_at(RUN_DATE), datetime(2030, 5, 17, 9, 30))),
    ]


def _bad_states():
    good = {
        "version": 1, "id": "restored", "func": "_job_helpers:tick",
        "trigger": _date_trigger(), "executor": "default", "args": (), "kwargs": {},
        "name": "restored job", "misfire_grace_time": None, "coalesce": True,
        "max_instances": 2, "next_run_time": None,
    }
    missing_name = dict(good)
    del missing_name["name"]
    return [
        ("good", good),
        ("version 2", dict(good, version=2)),
        ("no version", {key: value for key, value in good.items() if key != "version"}),
        ("version 0", dict(good, version=0)),
        ("unresolvable func", dict(good, func="_job_helpers:nothing_here")),
        ("missing name", missing_name),
        ("extra keys", dict(good, scheduler=None, jobstore="default")),
    ]


#
# Jobs pickled by one interpreter and loaded by the other.
#

def pickle_cases():
    """[(label, job)] built the same way in both interpreters."""
    scheduler = Scheduler()
    return [
        ("date trigger", Job(scheduler, **_options(next_run_time=None))),
        ("interval, scheduled", Job(scheduler, **_options(
            trigger=IntervalTrigger(seconds=90, start_date=RUN_DATE),
            next_run_time=RUN_DATE, func="_job_helpers:tick", args=[1, "two"],
            kwargs={"k": (3,)}, name="nämé", misfire_grace_time=None, coalesce=True,
            max_instances=4, executor="processpool"))),
        ("cron, bound method", Job(scheduler, **_options(
            trigger=CronTrigger(hour="*/3", minute=15, timezone=BERLIN,
                                start_date=RUN_DATE),
            func=GREETER.greet, args=("you",), next_run_time=RUN_DATE))),
        ("class method", Job(scheduler, **_options(func=Greeter.make, next_run_time=None))),
        ("pytz next run time", Job(Scheduler(PYTZ_BERLIN), **_options(
            next_run_time=datetime(2030, 7, 1, 8)))),
        ("python trigger", Job(scheduler, **_options(trigger=EveryMinute(RUN_DATE),
                                                     next_run_time=RUN_DATE))),
    ]


# Our native triggers cannot be pickled with protocols 0 and 1; a job holding the
# Python trigger above can, so those protocols are checked with it alone.
def protocols_for(label):
    return range(6) if label == "python trigger" else range(2, 6)


def dump_cases():
    """{(label, protocol): pickle bytes} of every case, and of its state alone."""
    dumps = {}
    for label, job in pickle_cases():
        for protocol in protocols_for(label):
            dumps[(label, "job", protocol)] = pickle.dumps(job, protocol)
            dumps[(label, "state", protocol)] = pickle.dumps(job.__getstate__(), protocol)
    return dumps


def load_summary(data):
    """Loads a pickled job (or the state of one, as job stores keep it)."""
    loaded = pickle.loads(data)
    if isinstance(loaded, dict):
        job = Job.__new__(Job)
        job.__setstate__(loaded)
        loaded = job
    return {"type": f"{type(loaded).__module__}.{type(loaded).__qualname__}",
            "summary": summarize(loaded),
            "calls": outcome(lambda: _call(loaded))}


def _call(job):
    # Whether the restored callable and arguments still work (bound methods get their
    # instance back as the first argument).
    return _text(job.func(*job.args, **job.kwargs))


def reference_main():
    """Entry point in the reference interpreter: request on stdin, reply on stdout."""
    request = pickle.load(sys.stdin.buffer)
    reply = {
        "scenarios": run_scenarios(),
        "dumps": dump_cases(),
        "loaded": {key: outcome(lambda data=data: load_summary(data))
                   for key, data in request["load"].items()},
    }
    pickle.dump(reply, sys.stdout.buffer)
