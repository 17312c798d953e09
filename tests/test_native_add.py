"""``add_job`` and ``start()`` store jobs natively in the common case, with the same
outcome as the Python code they replace.

A plain function added to a started scheduler, and the jobs pending at ``start()``,
are built, completed and stored natively when the scheduler's add path is the
library's own. Replacing one of its methods on the instance (even with itself) sends
every call through the Python code, so each test here runs the same calls both ways
and compares the jobs, the errors, the events and the log.
"""

import inspect
import logging
import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from apscheduler.events import EVENT_JOB_ADDED, EVENT_JOB_EXECUTED
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = timezone.utc
HELSINKI = ZoneInfo("Europe/Helsinki")
LATER = datetime(2040, 1, 1, 12, tzinfo=UTC)


def job_function(a, b=2, *, c=3):
    return a, b, c


def no_arguments():
    pass


class Callable:
    def __call__(self):
        pass


class PythonPathStore(MemoryJobStore):
    """Not the library's exact class: the job is stored through its methods."""


def make_scheduler(native, **options):
    options.setdefault("timezone", HELSINKI)
    scheduler = BackgroundScheduler(**options)
    if not native:
        # The same method, but set on the instance: the add path counts as replaced.
        scheduler._job_added = scheduler._job_added
    return scheduler


@pytest.fixture(params=[True, False], ids=["native", "python"])
def native(request):
    return request.param


def started(native, **options):
    scheduler = make_scheduler(native, **options)
    scheduler.start(paused=True)
    return scheduler


def describe(job):
    """What a job holds, minus what depends on the moment it was added."""
    trigger = job.trigger
    described = {
        "type": type(job).__name__,
        "name": job.name,
        "func": job.func,
        "func_ref": job.func_ref,
        "args": job.args,
        "kwargs": job.kwargs,
        "executor": job.executor,
        "misfire_grace_time": job.misfire_grace_time,
        "coalesce": job.coalesce,
        "max_instances": job.max_instances,
        "jobstore": job._jobstore_alias,
        "pending": job.pending,
        "trigger": type(trigger).__name__,
        "trigger_str": str(trigger),
        "timezone": str(trigger.timezone) if hasattr(trigger, "timezone") else None,
    }
    if isinstance(trigger, IntervalTrigger):
        described["interval"] = (trigger.interval, trigger.interval_length)
        described["next_is_start"] = job.next_run_time == trigger.start_date
    else:
        described["next_run_time"] = job.next_run_time
        described["trigger_repr"] = repr(trigger)
    if isinstance(trigger, CronTrigger):
        described["fields"] = [(field.name, str(field), field.is_default) for field in trigger.fields]
    return described


ADD_CALLS = [
    pytest.param((no_arguments, "interval"), {"seconds": 5}, id="interval"),
    pytest.param((no_arguments, "interval"), {"hours": 1, "minutes": 30, "jitter": 2}, id="interval-jitter"),
    pytest.param((no_arguments, "interval"), {"seconds": 2.5, "start_date": LATER}, id="interval-float"),
    pytest.param((no_arguments, "cron"), {"minute": "*/5", "start_date": LATER}, id="cron"),
    pytest.param(
        (no_arguments, "cron"),
        {"day_of_week": "mon-fri", "hour": "9-17", "minute": "*/15", "end_date": LATER + timedelta(days=90)},
        id="cron-fields",
    ),
    pytest.param((no_arguments, "interval"), {"minutes": 1, "timezone": "Asia/Tokyo"}, id="interval-timezone"),
    pytest.param((no_arguments, "cron"), {"timezone": UTC, "hour": 3}, id="cron-timezone-first"),
    pytest.param((no_arguments, "date"), {"run_date": LATER}, id="date"),
    pytest.param((no_arguments,), {"trigger": DateTrigger(LATER, UTC)}, id="trigger-instance"),
    pytest.param((job_function, "date"), {"run_date": LATER, "args": [1], "kwargs": {"c": 4}}, id="arguments"),
    pytest.param((job_function,), {"trigger": "date", "run_date": LATER, "args": (1, 2), "id": "fixed", "name": "named"}, id="id-and-name"),
    pytest.param(
        (no_arguments, "interval"),
        {"seconds": 5, "misfire_grace_time": None, "coalesce": False, "max_instances": 3, "executor": "other"},
        id="options",
    ),
    pytest.param((lambda: None, "interval"), {"minutes": 1}, id="lambda"),
    pytest.param((Callable(), "interval"), {"minutes": 1}, id="callable-instance"),
    pytest.param(("test_native_add:no_arguments", "interval"), {"minutes": 1}, id="text-reference"),
    pytest.param((no_arguments, IntervalTrigger(seconds=3, timezone=UTC)), {}, id="interval-instance"),
]


@pytest.mark.parametrize("call_args, call_kwargs", ADD_CALLS)
def test_added_jobs_are_the_same_both_ways(call_args, call_kwargs):
    jobs = []
    for native in (True, False):
        scheduler = started(native, job_defaults={"misfire_grace_time": 7, "max_instances": 2})
        try:
            job = scheduler.add_job(*call_args, **dict(call_kwargs))
            assert scheduler.get_job(job.id) is job
            jobs.append((job, describe(job)))
        finally:
            scheduler.shutdown()
    (native_job, native_view), (python_job, python_view) = jobs
    assert native_view == python_view
    if "id" not in call_kwargs:
        for job, _ in jobs:
            assert re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", job.id)
    if native_job.func_ref is not None:
        assert native_job.__getstate__().keys() == python_job.__getstate__().keys()


def test_interval_start_date_is_now_plus_the_interval(native):
    scheduler = started(native)
    try:
        before = datetime.now(HELSINKI)
        job = scheduler.add_job(no_arguments, "interval", minutes=2)
        after = datetime.now(HELSINKI)
    finally:
        scheduler.shutdown()
    start = job.trigger.start_date
    assert start.tzinfo is HELSINKI and start.fold == 0
    assert before + timedelta(minutes=2) <= start <= after + timedelta(minutes=2)
    assert job.next_run_time == start


@pytest.mark.parametrize(
    "parts, interval",
    [
        ({"weeks": 1, "days": 2, "hours": 3, "minutes": 4, "seconds": 5}, timedelta(days=9, seconds=11045)),
        ({"hours": -1}, timedelta(hours=-1)),
        ({"seconds": 0}, timedelta(seconds=1)),
        ({"seconds": 1.5}, timedelta(seconds=1.5)),
        ({"days": 10**6}, timedelta(days=10**6)),
    ],
)
def test_interval_trigger_arguments(parts, interval):
    trigger = IntervalTrigger(**parts, timezone=UTC)
    assert trigger.interval == interval
    assert trigger.interval_length == interval.total_seconds()
    assert type(trigger.interval_length) is (int if parts == {"seconds": 0} else float)


def test_interval_trigger_out_of_range_errors_are_pythons():
    with pytest.raises(OverflowError):
        IntervalTrigger(days=10**9, timezone=UTC)
    with pytest.raises(OverflowError):
        timedelta(days=10**9)


def test_a_patched_clock_is_used(monkeypatch, native):
    import apscheduler.schedulers.base as base_module
    import apscheduler.triggers.interval as interval_module

    frozen = datetime(2030, 6, 1, 12, 1, tzinfo=HELSINKI)

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen.astimezone(tz)

    monkeypatch.setattr(interval_module, "datetime", FrozenDatetime)
    monkeypatch.setattr(base_module, "datetime", FrozenDatetime)
    scheduler = started(native)
    try:
        job = scheduler.add_job(no_arguments, "interval", seconds=30)
        dated = scheduler.add_job(no_arguments, "cron", minute="*/5")
    finally:
        scheduler.shutdown()
    assert job.trigger.start_date == frozen + timedelta(seconds=30)
    assert job.next_run_time == frozen + timedelta(seconds=30)
    assert dated.next_run_time == datetime(2030, 6, 1, 12, 5, tzinfo=HELSINKI)


def errors(call):
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - compared below
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize(
    "call_args, call_kwargs",
    [
        pytest.param((job_function, "date"), {"run_date": LATER}, id="missing-argument"),
        pytest.param((job_function, "date"), {"run_date": LATER, "args": (1,), "kwargs": {"d": 1}}, id="unknown-keyword"),
        pytest.param((no_arguments, "date"), {"run_date": LATER, "jobstore": "nowhere"}, id="unknown-store"),
        pytest.param((no_arguments, "nosuchtrigger"), {}, id="unknown-trigger"),
        pytest.param((no_arguments, "interval"), {"secs": 5}, id="bad-trigger-argument"),
        pytest.param((no_arguments, "cron"), {"minute": "*/5", "mins": 5}, id="bad-cron-argument"),
        pytest.param((no_arguments, "cron"), {"hour": "25"}, id="bad-cron-value"),
        pytest.param((no_arguments, "date"), {"run_date": LATER, "name": ""}, id="empty-name"),
        pytest.param((no_arguments, "date"), {"run_date": LATER, "max_instances": 0}, id="bad-max-instances"),
        pytest.param((no_arguments, "date"), {"run_date": LATER, "misfire_grace_time": -1}, id="bad-grace-time"),
        pytest.param((no_arguments, "date"), {"run_date": LATER, "id": 5}, id="bad-id"),
        pytest.param((no_arguments, 5), {}, id="bad-trigger-type"),
    ],
)
def test_errors_are_the_same_both_ways(call_args, call_kwargs):
    outcomes = []
    for native in (True, False):
        scheduler = started(native)
        try:
            # Twice: the second call of a callable check is answered from its cache.
            outcomes.append([errors(lambda: scheduler.add_job(*call_args, **dict(call_kwargs))) for _ in range(2)])
            assert scheduler.get_jobs() == []
        finally:
            scheduler.shutdown()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is not None


def test_conflicts_and_replacement(native):
    scheduler = started(native)
    try:
        first = scheduler.add_job(no_arguments, "date", run_date=LATER, id="job")
        with pytest.raises(ConflictingIdError, match=r"\(job\)"):
            scheduler.add_job(no_arguments, "date", run_date=LATER, id="job")
        assert scheduler.get_job("job") is first
        second = scheduler.add_job(job_function, "date", run_date=LATER, id="job", args=(1,), replace_existing=True)
        assert scheduler.get_job("job") is second
        assert len(scheduler.get_jobs()) == 1
    finally:
        scheduler.shutdown()


def test_a_store_of_another_class_gets_the_job_through_its_methods(native):
    scheduler = make_scheduler(native, jobstores={"default": PythonPathStore()})
    calls = []
    store = scheduler._jobstores["default"]
    original = store.add_job
    store.add_job = lambda job: calls.append(job.id) or original(job)
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(no_arguments, "date", run_date=LATER)
        assert calls == [job.id]
        assert scheduler.get_job(job.id) is job
    finally:
        scheduler.shutdown()


def test_events_log_lines_and_wakeup(native, caplog):
    scheduler = make_scheduler(native)
    seen = []
    ran = threading.Event()
    scheduler.add_listener(lambda event: seen.append((event.code, event.job_id)), EVENT_JOB_ADDED)
    scheduler.add_listener(lambda event: ran.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
            job = scheduler.add_job(no_arguments, "date", run_date=datetime.now(UTC) + timedelta(seconds=0.1))
        assert ran.wait(5), "a job added to a running scheduler must wake it up"
    finally:
        scheduler.shutdown()
    assert seen == [(EVENT_JOB_ADDED, job.id)]
    assert 'Added job "no_arguments" to job store "default"' in caplog.messages


def test_listeners_of_other_events_leave_the_added_report_as_it_is(native, caplog):
    scheduler = make_scheduler(native)
    ran = threading.Event()
    scheduler.add_listener(lambda event: ran.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
            scheduler.add_job(no_arguments, "date", run_date=datetime.now(UTC) + timedelta(seconds=0.1))
            assert ran.wait(5), "a job added to a running scheduler must wake it up"
            # A listener added later for every event hears of the next job added.
            seen = []
            scheduler.add_listener(lambda event: seen.append(event.code))
            scheduler.add_job(no_arguments, "interval", seconds=60)
            assert seen == [EVENT_JOB_ADDED]
            # A _dispatch_event replaced on the instance sees every event.
            dispatched = []
            scheduler._dispatch_event = dispatched.append
            scheduler.add_job(no_arguments, "interval", seconds=60, id="watched")
            assert [(event.code, event.job_id) for event in dispatched] == [(EVENT_JOB_ADDED, "watched")]
    finally:
        scheduler.shutdown()
    assert caplog.messages.count('Added job "no_arguments" to job store "default"') == 3


def test_log_line_without_listeners(native, caplog):
    scheduler = started(native)
    try:
        with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
            scheduler.add_job(no_arguments, "date", run_date=LATER, name="quiet job")
    finally:
        scheduler.shutdown()
    assert caplog.messages == ['Added job "quiet job" to job store "default"']


def pending_scheduler(how, **options):
    scheduler = make_scheduler(how != "python", **options)
    if how == "one-by-one":
        scheduler._real_add_job = scheduler._real_add_job
    return scheduler


@pytest.mark.parametrize("how", ["native", "python", "one-by-one"])
def test_pending_jobs_are_stored_at_start(how, caplog):
    scheduler = pending_scheduler(how, job_defaults={"coalesce": False})
    added = []
    scheduler.add_listener(lambda event: added.append(event.job_id), EVENT_JOB_ADDED)
    jobs = [
        scheduler.add_job(no_arguments, "interval", seconds=30, start_date=LATER, id="a"),
        scheduler.add_job(
            job_function, "cron", args=(1,), minute="*/5", start_date=LATER + timedelta(days=1), id="b", max_instances=4
        ),
        scheduler.add_job(no_arguments, "date", run_date=LATER, id="c", next_run_time=None),
    ]
    assert all(job.pending for job in jobs)
    with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
        scheduler.start(paused=True)
    try:
        assert [job.id for job in scheduler.get_jobs()] == ["a", "b", "c"]
        assert all(not job.pending for job in jobs)
        assert [(job.coalesce, job.max_instances, job.misfire_grace_time) for job in jobs] == [
            (False, 1, 1),
            (False, 4, 1),
            (False, 1, 1),
        ]
        assert jobs[0].next_run_time == jobs[0].trigger.start_date
        assert jobs[1].next_run_time.minute % 5 == 0
        assert jobs[2].next_run_time is None
        assert added == ["a", "b", "c"]
        assert [message for message in caplog.messages if message.startswith("Added job")] == [
            'Added job "no_arguments" to job store "default"',
            'Added job "job_function" to job store "default"',
            'Added job "no_arguments" to job store "default"',
        ]
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("how", ["native", "python"])
@pytest.mark.parametrize(
    "changes",
    [
        {"misfire_grace_time": None},
        {"coalesce": False},
        {"max_instances": 3},
        {"next_run_time": LATER},
        {"misfire_grace_time": 7, "max_instances": 2, "next_run_time": None},
    ],
)
def test_a_pending_job_keeps_what_was_set_on_it_before_start(how, changes):
    # start() fills in only what a pending job lacks; what modify_job set on it stays.
    scheduler = pending_scheduler(how)
    job = scheduler.add_job(no_arguments, "interval", seconds=30, id="early")
    scheduler.modify_job("early", **changes)
    scheduler.start(paused=True)
    try:
        defaults = {"misfire_grace_time": 1, "coalesce": True, "max_instances": 1}
        for option, default in defaults.items():
            assert getattr(job, option) == changes.get(option, default)
        expected_next = changes.get("next_run_time", job.trigger.start_date)
        assert job.next_run_time == expected_next
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("how", ["native", "python"])
def test_a_pending_job_that_fails_stays_pending_with_those_after_it(how):
    scheduler = pending_scheduler(how)
    scheduler.add_job(no_arguments, "date", run_date=LATER, id="first")
    scheduler.add_job(no_arguments, "date", run_date=LATER, id="lost", jobstore="nowhere")
    scheduler.add_job(no_arguments, "date", run_date=LATER, id="last")
    with pytest.raises(KeyError, match="nowhere"):
        scheduler.start(paused=True)
    assert [job.id for job, _, _ in scheduler._pending_jobs] == ["lost", "last"]
    assert [job.id for job in scheduler._jobstores["default"].get_all_jobs()] == ["first"]


def test_a_job_added_before_start_is_pending(native, caplog):
    scheduler = make_scheduler(native)
    with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
        job = scheduler.add_job(job_function, "interval", args=(1,), minutes=1, id="early", replace_existing=True)
    assert job.pending
    assert scheduler._pending_jobs == [(job, "default", True)]
    assert caplog.messages == [
        "Adding job tentatively -- it will be properly scheduled when the scheduler starts"
    ]
    for option in ("misfire_grace_time", "coalesce", "max_instances", "next_run_time"):
        assert not hasattr(job, option)
    assert scheduler.get_job("early") is job
    scheduler.start(paused=True)
    try:
        assert not job.pending
        assert job.next_run_time == job.trigger.start_date
    finally:
        scheduler.shutdown()


def test_cron_triggers_of_one_expression_keep_their_own_fields():
    # Triggers of the same expressions share their compiled fields; replacing the
    # fields of one must leave the others as they were.
    first = CronTrigger(hour="*/2", minute=30, timezone=UTC)
    second = CronTrigger(hour="*/2", minute=30, timezone=UTC)
    other = CronTrigger(hour="*/3", timezone=UTC)
    now = datetime(2030, 1, 1, 0, 45, tzinfo=UTC)
    assert first.get_next_fire_time(None, now) == datetime(2030, 1, 1, 2, 30, tzinfo=UTC)
    first.fields = other.fields
    assert first.get_next_fire_time(None, now) == datetime(2030, 1, 1, 3, 0, tzinfo=UTC)
    assert second.get_next_fire_time(None, now) == datetime(2030, 1, 1, 2, 30, tzinfo=UTC)
    assert str(second) == "cron[hour='*/2', minute='30']"


def _scheduled_function():
    def scheduled(a, b=2, *, c=3):
        pass

    return scheduled


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: setattr(f, "__defaults__", None), "have not been supplied: b"),
        (lambda f: setattr(f, "__kwdefaults__", None), "keyword-only arguments have not been supplied in kwargs: c"),
        (lambda f: setattr(f, "__code__", (lambda a, b, d: None).__code__), "have not been supplied: b"),
        (lambda f: setattr(f, "__signature__", inspect.Signature()), r"longer than the target callable can handle \(allowed: 0"),
    ],
    ids=["defaults", "kwdefaults", "code", "signature"],
)
def test_a_function_changed_after_a_passing_check_is_checked_again(native, change, message):
    scheduler = started(native)
    try:
        func = _scheduled_function()
        for _ in range(2):  # the second time, the answer is a remembered one
            scheduler.add_job(func, "interval", seconds=5, args=(1,))
        change(func)
        with pytest.raises(ValueError, match=message):
            scheduler.add_job(func, "interval", seconds=5, args=(1,))
        assert len(scheduler.get_jobs()) == 2
    finally:
        scheduler.shutdown(wait=False)


def test_a_renamed_function_gets_a_reference_to_its_new_name(native):
    scheduler = started(native)
    try:
        func = _scheduled_function()
        func.__qualname__ = "renamed"
        func.__module__ = "elsewhere"
        assert scheduler.add_job(func, "interval", seconds=5, args=(1,)).func_ref == "elsewhere:renamed"
        assert scheduler.add_job(func, "interval", seconds=5, args=(1,)).name == "renamed"
    finally:
        scheduler.shutdown(wait=False)


def test_generated_ids_are_uuid4_hex_and_unique_across_batches(native):
    import uuid

    scheduler = started(native)
    try:
        ids = [scheduler.add_job(no_arguments, "interval", seconds=60).id for _ in range(700)]
    finally:
        scheduler.shutdown(wait=False)
    assert len(set(ids)) == len(ids)
    for job_id in ids:
        parsed = uuid.UUID(hex=job_id)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, job_id)


def test_a_replaced_id_generator_is_called(native, monkeypatch):
    import apscheduler.job

    names = iter(["first", "second"])
    monkeypatch.setattr(apscheduler.job, "_new_job_id", lambda: next(names))
    scheduler = started(native)
    try:
        assert scheduler.add_job(no_arguments, "interval", seconds=60).id == "first"
        assert scheduler.add_job(no_arguments, "interval", seconds=60).id == "second"
    finally:
        scheduler.shutdown(wait=False)


# The native path remembers, per class and instance, that their methods are the
# library's, and that the scheduler's logger is silent at INFO level, until one of
# them changes. Each change below comes after many adds, once the answers are
# remembered, and must be seen by the very next add.


def warmed_up(scheduler):
    for _ in range(5):
        scheduler.add_job(no_arguments, "interval", seconds=60)


@pytest.mark.parametrize("where", ["instance", "subclass", "base class"])
def test_a_method_replaced_after_many_adds_is_called_at_the_next_add(where, monkeypatch):
    from apscheduler.schedulers.base import BaseScheduler

    class Scheduler(BackgroundScheduler):
        pass

    scheduler = Scheduler(timezone=HELSINKI)
    scheduler.start(paused=True)
    try:
        warmed_up(scheduler)
        calls = []
        original = BaseScheduler._real_add_job

        def real_add_job(self, *args, **kwargs):
            calls.append(args[0].id)
            return original(self, *args, **kwargs)

        if where == "instance":
            scheduler._real_add_job = real_add_job.__get__(scheduler)
        elif where == "subclass":
            Scheduler._real_add_job = real_add_job
        else:
            monkeypatch.setattr(BaseScheduler, "_real_add_job", real_add_job)
        job = scheduler.add_job(no_arguments, "interval", seconds=60)
        assert calls == [job.id]
    finally:
        scheduler.shutdown(wait=False)


def test_a_job_method_replaced_after_many_adds_is_called_at_the_next_add(monkeypatch):
    from apscheduler.job import Job

    scheduler = started(True)
    try:
        warmed_up(scheduler)
        modified = []
        original = Job._modify

        def _modify(self, **changes):
            modified.append(sorted(changes))
            return original(self, **changes)

        monkeypatch.setattr(Job, "_modify", _modify)
        scheduler.add_job(no_arguments, "interval", seconds=60)
        assert modified, "the replaced Job._modify was not called"
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize("change", ["setLevel", "level attribute", "disable"])
def test_the_log_line_follows_the_logger_changed_after_many_adds(change, caplog):
    logger = logging.getLogger("apscheduler.scheduler")
    scheduler = started(True)
    saved_level = logger.level
    try:
        logger.setLevel(logging.WARNING)
        warmed_up(scheduler)
        assert caplog.messages == []
        if change == "setLevel":
            logger.setLevel(logging.INFO)
        elif change == "level attribute":
            # Set without setLevel: the logger's own cache goes stale, as it does for
            # the standard library's isEnabledFor; once cleared, the level counts.
            logger.level = logging.INFO
            logging.getLogger("unrelated").setLevel(logging.DEBUG)
        else:
            logger.setLevel(logging.INFO)
            warmed_up(scheduler)
            logging.disable(logging.INFO)
        caplog.clear()
        scheduler.add_job(no_arguments, "interval", seconds=60, name="watched")
        expected = [] if change == "disable" else ['Added job "watched" to job store "default"']
        assert caplog.messages == expected
    finally:
        logging.disable(logging.NOTSET)
        logger.setLevel(saved_level)
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "change",
    ["defaults replaced", "defaults changed in place", "timezone", "patched clock", "trigger plug-in", "trigger __init__"],
)
def test_what_add_job_reads_follows_changes_made_after_many_adds(change, monkeypatch):
    """The entries the add path reads (the scheduler's attributes, its job defaults,
    module globals, the trigger classes) are read anew after any change to them."""
    import apscheduler.triggers.interval as interval_module

    scheduler = started(True)
    try:
        warmed_up(scheduler)
        expected_start = None
        if change == "defaults replaced":
            scheduler._job_defaults = {"misfire_grace_time": 7, "coalesce": False, "max_instances": 4}
        elif change == "defaults changed in place":
            scheduler._job_defaults["max_instances"] = 4
        elif change == "timezone":
            scheduler.timezone = ZoneInfo("Asia/Tokyo")
        elif change == "patched clock":
            frozen = datetime(2031, 3, 1, 9, tzinfo=HELSINKI)

            class FrozenDatetime(datetime):
                @classmethod
                def now(cls, tz=None):
                    return frozen.astimezone(tz)

            monkeypatch.setattr(interval_module, "datetime", FrozenDatetime)
            expected_start = frozen + timedelta(seconds=60)
        elif change == "trigger plug-in":

            class Interval(IntervalTrigger):
                pass

            monkeypatch.setitem(type(scheduler)._trigger_classes, "interval", Interval)
        else:
            original = IntervalTrigger.__init__
            seen = []

            def __init__(self, *args, **kwargs):
                original(self, *args, **kwargs)
                seen.append(kwargs)

            monkeypatch.setattr(IntervalTrigger, "__init__", __init__)
        job = scheduler.add_job(no_arguments, "interval", seconds=60)
    finally:
        scheduler.shutdown(wait=False)
    if change == "defaults replaced":
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (7, False, 4)
    elif change == "defaults changed in place":
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (1, True, 4)
    elif change == "timezone":
        assert job.trigger.timezone == ZoneInfo("Asia/Tokyo")
    elif change == "patched clock":
        assert job.trigger.start_date == expected_start
        assert job.next_run_time == expected_start
    elif change == "trigger plug-in":
        assert type(job.trigger).__name__ == "Interval"
    else:
        assert seen == [{"seconds": 60, "timezone": HELSINKI}]


def test_a_disabled_logger_after_many_logged_adds_logs_nothing(caplog):
    logger = logging.getLogger("apscheduler.scheduler")
    scheduler = started(True)
    try:
        with caplog.at_level(logging.INFO, logger="apscheduler.scheduler"):
            warmed_up(scheduler)
            assert len(caplog.messages) == 5
            logger.disabled = True
            caplog.clear()
            scheduler.add_job(no_arguments, "interval", seconds=60)
            assert caplog.messages == []
    finally:
        logger.disabled = False
        scheduler.shutdown(wait=False)


def next_spring_forward_wall_time(tz):
    """The wall time at which ``tz`` next skips an hour (naive)."""
    now = datetime.now(UTC)
    step = timedelta(hours=1)
    instant = now
    while instant.astimezone(tz).utcoffset() >= (instant + step).astimezone(tz).utcoffset():
        instant += step
    # The change lies within (instant, instant + 1 h]: narrow it to the microsecond.
    low, high = instant, instant + step
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
            low = middle
        else:
            high = middle
    return (low.astimezone(tz) + timedelta(microseconds=1)).replace(tzinfo=None)


@pytest.mark.parametrize("interval", ["plain", "in a DST gap"])
def test_the_first_run_time_of_an_interval_job_is_its_normalized_start_date(native, interval):
    scheduler = started(native)
    try:
        if interval == "plain":
            job = scheduler.add_job(no_arguments, "interval", minutes=5)
        else:
            # now + the interval, in wall-clock time, lands half an hour into the gap.
            gap = next_spring_forward_wall_time(HELSINKI)
            now = datetime.now(HELSINKI).replace(tzinfo=None)
            seconds = int((gap + timedelta(minutes=30) - now).total_seconds())
            job = scheduler.add_job(no_arguments, "interval", seconds=seconds)
    finally:
        scheduler.shutdown(wait=False)
    start = job.trigger.start_date
    normalized = datetime.fromtimestamp(start.timestamp(), HELSINKI)
    assert job.next_run_time == normalized
    assert (job.next_run_time.replace(tzinfo=None), job.next_run_time.fold) == (normalized.replace(tzinfo=None), normalized.fold)
    if interval == "in a DST gap":
        assert start.replace(tzinfo=None) != normalized.replace(tzinfo=None)


def test_add_job_keeps_the_signature_name_and_errors_of_the_python_function():
    from apscheduler.schedulers.base import BaseScheduler

    parameters = list(inspect.signature(BaseScheduler.add_job).parameters)
    assert parameters == [
        "self", "func", "trigger", "args", "kwargs", "id", "name", "misfire_grace_time", "coalesce",
        "max_instances", "next_run_time", "jobstore", "executor", "replace_existing", "trigger_args",
    ]
    scheduler = started(True)
    try:
        bound = scheduler.add_job
        assert inspect.ismethod(bound) and bound.__self__ is scheduler
        assert (bound.__name__, bound.__qualname__) == ("add_job", "BaseScheduler.add_job")
        assert list(inspect.signature(bound).parameters)[:2] == ["func", "trigger"]
        assert "Adds the given job to the job list" in bound.__doc__
        for call, message in [
            (lambda: scheduler.add_job(), "missing 1 required positional argument: 'func'"),
            (lambda: scheduler.add_job(no_arguments, "interval", func=no_arguments), "got multiple values for argument 'func'"),
            (lambda: scheduler.add_job(no_arguments, "interval", self=1), "got multiple values for argument 'self'"),
            (lambda: scheduler.add_job(*range(14)), "takes from 2 to 14 positional arguments but 15 were given"),
        ]:
            with pytest.raises(TypeError, match=re.escape("BaseScheduler.add_job() " + message)):
                call()
        # Parameters by position and by name, and trigger arguments beside them.
        job = scheduler.add_job(job_function, "interval", (1,), {"c": 4}, "by-position", seconds=30)
        assert (job.id, job.args, job.kwargs, job.trigger.interval) == ("by-position", (1,), {"c": 4}, timedelta(seconds=30))
        job = scheduler.add_job(func=job_function, trigger="interval", args=[1], id="by-name", minutes=2, name="named")
        assert (job.id, job.args, job.name, job.trigger.interval) == ("by-name", (1,), "named", timedelta(minutes=2))
        assert BaseScheduler.add_job(scheduler, no_arguments, "interval", seconds=5, id="unbound").id == "unbound"
    finally:
        scheduler.shutdown(wait=False)
