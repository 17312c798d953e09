"""Behaviour of apscheduler.util and apscheduler.events, down to exact messages."""

import sys
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import partial, wraps
from types import ModuleType
from unittest.mock import AsyncMock, Mock
from zoneinfo import ZoneInfo

import pytest

from apscheduler import events, util
from apscheduler.util import (
    asbool,
    asdate,
    asint,
    astimezone,
    check_callable_args,
    convert_to_datetime,
    datetime_ceil,
    datetime_repr,
    datetime_to_utc_timestamp,
    datetime_utc_add,
    get_callable_name,
    iscoroutinefunction_partial,
    localize,
    maybe_ref,
    normalize,
    obj_to_ref,
    ref_to_obj,
    timedelta_seconds,
    timezone_repr,
    undefined,
    utc_timestamp_to_datetime,
)

BERLIN = ZoneInfo("Europe/Berlin")
HELSINKI = ZoneInfo("Europe/Helsinki")


class Sample:
    def method(self):
        pass

    @classmethod
    def clsmethod(cls):
        pass

    @staticmethod
    def static():
        pass

    def __call__(self):
        pass

    class Nested:
        @classmethod
        def build(cls):
            pass


class SampleChild(Sample):
    pass


def plain_function():
    pass


class TestUndefined:
    def test_falsy_and_repr(self):
        assert not undefined
        assert bool(undefined) is False
        assert repr(undefined) == "<undefined>"

    def test_distinct_from_none(self):
        assert undefined is not None
        assert util.undefined is undefined


def test_public_names():
    assert set(util.__all__) == {
        "asbool",
        "asint",
        "astimezone",
        "check_callable_args",
        "convert_to_datetime",
        "datetime_ceil",
        "datetime_to_utc_timestamp",
        "get_callable_name",
        "localize",
        "maybe_ref",
        "normalize",
        "obj_to_ref",
        "ref_to_obj",
        "undefined",
        "utc_timestamp_to_datetime",
    }
    for name in util.__all__:
        assert hasattr(util, name)


def test_import_stays_light():
    # util must not pull in the native core or asyncio at import time
    import subprocess

    code = (
        "import sys, apscheduler.util, apscheduler.events; "
        "print(sorted(m for m in ('asyncio', 'apscheduler._core') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


class TestAsint:
    def test_none_passes_through(self):
        assert asint(None) is None

    @pytest.mark.parametrize("text, expected", [("12", 12), (" -3 ", -3), (7, 7)])
    def test_converts(self, text, expected):
        assert asint(text) == expected

    @pytest.mark.parametrize("text", ["1.5", "ten", ""])
    def test_rejects(self, text):
        with pytest.raises(ValueError):
            asint(text)


class TestAsbool:
    @pytest.mark.parametrize("text", ["true", "YES", " On ", "y", "T", "1\n"])
    def test_true_words(self, text):
        assert asbool(text) is True

    @pytest.mark.parametrize("text", ["false", "No", "OFF ", "n", "f", " 0"])
    def test_false_words(self, text):
        assert asbool(text) is False

    @pytest.mark.parametrize("value, expected", [(1, True), (0, False), ([], False)])
    def test_non_strings_use_truthiness(self, value, expected):
        assert asbool(value) is expected

    def test_message_shows_normalized_text(self):
        with pytest.raises(ValueError) as exc:
            asbool("  Maybe ")
        assert str(exc.value) == 'Unable to interpret value "maybe" as boolean'


class TestAstimezone:
    def test_utc_string_is_stdlib_utc(self):
        assert astimezone("UTC") is timezone.utc

    def test_zone_name(self):
        assert astimezone("Europe/Helsinki") == HELSINKI

    def test_unknown_zone_name(self):
        with pytest.raises(Exception) as exc:
            astimezone("Not/AZone")
        assert type(exc.value).__name__ == "ZoneInfoNotFoundError"

    def test_none(self):
        assert astimezone(None) is None

    def test_zoneinfo_returned_as_is(self):
        assert astimezone(BERLIN) is BERLIN

    def test_other_tzinfo_returned_as_is(self):
        offset = timezone(timedelta(hours=3))
        assert astimezone(offset) is offset

    def test_wrong_type(self):
        with pytest.raises(TypeError) as exc:
            astimezone(3.5)
        assert str(exc.value) == "Expected tzinfo, got float instead"

    def test_local_zone_rejected(self):
        class Local(tzinfo):
            def tzname(self, dt):
                return "local"

        with pytest.raises(ValueError) as exc:
            astimezone(Local())
        assert str(exc.value) == (
            "Unable to determine the name of the local timezone -- you must explicitly "
            "specify the name of the local timezone. Please refrain from using "
            "timezones like EST to prevent problems with daylight saving time. "
            "Instead, use a locale based timezone name (such as Europe/Helsinki)."
        )

    def test_bare_tzinfo(self):
        # the abstract tzinfo base refuses to answer tzname(); that error propagates
        with pytest.raises(RuntimeError, match="tzname"):
            astimezone(tzinfo())

    def test_pytz_named_zone_becomes_zoneinfo(self):
        pytz = pytest.importorskip("pytz")
        converted = astimezone(pytz.timezone("America/Chicago"))
        assert isinstance(converted, ZoneInfo)
        assert converted.key == "America/Chicago"

    def test_pytz_fixed_offset_becomes_timezone(self):
        pytz = pytest.importorskip("pytz")
        converted = astimezone(pytz.FixedOffset(-150))
        assert converted == timezone(timedelta(minutes=-150))


class TestAsdate:
    def test_iso_string(self):
        assert asdate("2024-02-29") == date(2024, 2, 29)

    def test_other_values_pass_through(self):
        value = date(2020, 1, 1)
        assert asdate(value) is value
        assert asdate(None) is None

    def test_bad_string(self):
        with pytest.raises(ValueError):
            asdate("2023-02-29")


class TestConvertToDatetime:
    def test_none(self):
        assert convert_to_datetime(None, BERLIN, "start_date") is None

    def test_aware_datetime_unchanged(self):
        value = datetime(2020, 5, 1, 8, tzinfo=timezone(timedelta(hours=-4)))
        assert convert_to_datetime(value, BERLIN, "x") is value

    def test_naive_datetime_gets_zone(self):
        result = convert_to_datetime(datetime(2020, 7, 1, 12, 30), BERLIN, "x")
        assert result == datetime(2020, 7, 1, 12, 30, tzinfo=BERLIN)
        assert result.utcoffset() == timedelta(hours=2)

    def test_date_is_midnight(self):
        result = convert_to_datetime(date(2021, 12, 24), BERLIN, "x")
        assert result == datetime(2021, 12, 24, tzinfo=BERLIN)

    @pytest.mark.parametrize(
        "text, expected",
        [
            ("2021-4-9", datetime(2021, 4, 9)),
            ("2021-04-09 07:05:03", datetime(2021, 4, 9, 7, 5, 3)),
            ("2021-4-9T7:5:3", datetime(2021, 4, 9, 7, 5, 3)),
            ("2021-04-09 07:05:03.250000", datetime(2021, 4, 9, 7, 5, 3, 250000)),
            # the fraction is a count of microseconds, not a decimal fraction
            ("2021-04-09 07:05:03.25", datetime(2021, 4, 9, 7, 5, 3, 25)),
        ],
    )
    def test_strings_in_given_zone(self, text, expected):
        result = convert_to_datetime(text, BERLIN, "x")
        assert result == expected.replace(tzinfo=BERLIN)
        assert result.tzinfo is BERLIN

    def test_string_with_z(self):
        result = convert_to_datetime("2021-04-09T07:05:03Z", BERLIN, "x")
        assert result == datetime(2021, 4, 9, 7, 5, 3, tzinfo=timezone.utc)
        assert result.tzinfo is timezone.utc

    @pytest.mark.parametrize(
        "suffix, offset",
        [("+05:45", timedelta(hours=5, minutes=45)), ("-03:30", -timedelta(hours=3.5))],
    )
    def test_string_with_offset_overrides_tz(self, suffix, offset):
        result = convert_to_datetime("2021-04-09 07:05:03" + suffix, None, "x")
        assert result.tzinfo == timezone(offset)
        assert result.replace(tzinfo=None) == datetime(2021, 4, 9, 7, 5, 3)

    def test_offset_needs_time(self):
        with pytest.raises(ValueError) as exc:
            convert_to_datetime("2021-04-09Z", BERLIN, "x")
        assert str(exc.value) == "Invalid date string"

    @pytest.mark.parametrize(
        "text",
        ["21-4-9", "2021/04/09", "2021-04-09 7:05", "2021-04-09 07:05:03+0200", "x"],
    )
    def test_invalid_strings(self, text):
        with pytest.raises(ValueError) as exc:
            convert_to_datetime(text, BERLIN, "x")
        assert str(exc.value) == "Invalid date string"

    def test_out_of_range_field(self):
        with pytest.raises(ValueError, match="month must be in 1..12"):
            convert_to_datetime("2021-13-01", BERLIN, "x")

    def test_unsupported_type(self):
        with pytest.raises(TypeError) as exc:
            convert_to_datetime(1.5, BERLIN, "run_date")
        assert str(exc.value) == "Unsupported type for run_date: float"

    def test_missing_tz(self):
        with pytest.raises(ValueError) as exc:
            convert_to_datetime(datetime(2020, 1, 1), None, "end_date")
        assert str(exc.value) == (
            'The "tz" argument must be specified if end_date has no timezone '
            "information"
        )

    def test_missing_tz_not_needed_for_explicit_offset(self):
        result = convert_to_datetime("2020-01-01 00:00:00Z", None, "x")
        assert result.tzinfo is timezone.utc

    def test_tz_given_as_name(self):
        result = convert_to_datetime("2020-01-01", "Europe/Helsinki", "x")
        assert result == datetime(2020, 1, 1, tzinfo=HELSINKI)

    def test_nonexistent_local_time_moves_forward(self):
        # 02:30 did not exist in Berlin on 2021-03-28 (clocks jumped 02:00 -> 03:00)
        result = convert_to_datetime("2021-03-28 02:30:00", BERLIN, "x")
        assert (result.hour, result.minute) == (3, 30)
        assert result.utcoffset() == timedelta(hours=2)

    def test_pytz_zone_is_localized(self):
        pytz = pytest.importorskip("pytz")
        zone = pytz.timezone("Europe/Berlin")
        result = convert_to_datetime("2021-01-15 10:00:00", zone, "x")
        assert result.utcoffset() == timedelta(hours=1)
        assert result.tzname() == "CET"


class TestTimestamps:
    @pytest.mark.parametrize(
        "value, expected",
        [
            (datetime(1970, 1, 1, tzinfo=timezone.utc), 0),
            (datetime(2001, 9, 9, 1, 46, 40, tzinfo=timezone.utc), 1000000000),
            (datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc), -0.5),
            # naive values count as UTC
            (datetime(2001, 9, 9, 1, 46, 40, 250000), 1000000000.25),
            (datetime(2001, 9, 9, 3, 46, 40, tzinfo=timezone(timedelta(hours=2))), 1e9),
        ],
    )
    def test_to_timestamp(self, value, expected):
        assert datetime_to_utc_timestamp(value) == expected

    def test_none(self):
        assert datetime_to_utc_timestamp(None) is None
        assert utc_timestamp_to_datetime(None) is None

    def test_round_trip(self):
        original = datetime(2031, 10, 27, 2, 30, 1, 123456, tzinfo=BERLIN)
        back = utc_timestamp_to_datetime(datetime_to_utc_timestamp(original))
        assert back == original
        assert back.tzinfo is timezone.utc

    def test_from_timestamp(self):
        assert utc_timestamp_to_datetime(86400.5) == datetime(
            1970, 1, 2, 0, 0, 0, 500000, tzinfo=timezone.utc
        )


def test_timedelta_seconds():
    assert timedelta_seconds(timedelta(days=2, seconds=3, microseconds=500)) == (
        172803.0005
    )
    assert timedelta_seconds(timedelta(seconds=-1)) == -1.0


class TestDatetimeCeil:
    def test_whole_second_unchanged(self):
        value = datetime(2020, 1, 1, 10, 0, 5)
        assert datetime_ceil(value) is value

    def test_rounds_up(self):
        assert datetime_ceil(datetime(2020, 1, 1, 23, 59, 59, 1)) == datetime(
            2020, 1, 2
        )

    def test_aware(self):
        value = datetime(2020, 6, 1, 12, 0, 0, 999999, tzinfo=BERLIN)
        assert datetime_ceil(value) == datetime(2020, 6, 1, 12, 0, 1, tzinfo=BERLIN)


class TestDatetimeUtcAdd:
    def test_naive(self):
        assert datetime_utc_add(datetime(2020, 1, 1), timedelta(hours=5)) == datetime(
            2020, 1, 1, 5
        )

    def test_across_dst_start(self):
        # one elapsed hour after 01:30 CET is 03:30 CEST on the spring-forward day
        start = datetime(2021, 3, 28, 1, 30, tzinfo=BERLIN)
        result = datetime_utc_add(start, timedelta(hours=1))
        assert (result.hour, result.minute) == (3, 30)
        assert result.tzinfo is BERLIN
        assert result.utcoffset() == timedelta(hours=2)
        elapsed = result.astimezone(timezone.utc) - start.astimezone(timezone.utc)
        assert elapsed == timedelta(hours=1)


class TestRepr:
    def test_datetime_repr(self):
        assert datetime_repr(None) == "None"
        assert (
            datetime_repr(datetime(2022, 7, 3, 9, 8, 7, 6, tzinfo=HELSINKI))
            == "2022-07-03 09:08:07 EEST"
        )
        assert datetime_repr(datetime(2022, 1, 3, 9, 8, 7)) == "2022-01-03 09:08:07 "

    def test_timezone_repr(self):
        assert timezone_repr(HELSINKI) == "Europe/Helsinki"
        assert timezone_repr(timezone.utc) == "datetime.timezone.utc"
        offset = timezone(timedelta(hours=1))
        assert timezone_repr(offset) == repr(offset)


class TestLocalizeNormalize:
    def test_localize_zoneinfo(self):
        result = localize(datetime(2022, 1, 1, 12), BERLIN)
        assert result.tzinfo is BERLIN
        assert result.utcoffset() == timedelta(hours=1)

    def test_localize_gap(self):
        result = localize(datetime(2022, 3, 27, 2, 15), BERLIN)
        assert (result.hour, result.minute) == (3, 15)

    def test_localize_uses_pytz_localize(self):
        zone = Mock(localize=Mock(return_value="sentinel"))
        assert localize(datetime(2022, 1, 1), zone) == "sentinel"
        zone.localize.assert_called_once_with(datetime(2022, 1, 1))

    def test_normalize_existing_time_unchanged(self):
        value = datetime(2022, 8, 1, 4, 5, 6, 7, tzinfo=BERLIN)
        assert normalize(value) == value

    def test_normalize_gap(self):
        result = normalize(datetime(2022, 3, 27, 2, 45, tzinfo=BERLIN))
        assert result == datetime(2022, 3, 27, 3, 45, tzinfo=BERLIN)


class TestGetCallableName:
    @pytest.mark.parametrize(
        "func, expected",
        [
            (plain_function, "plain_function"),
            (len, "len"),
            ([].append, "list.append"),
            (Sample, "Sample"),
            (Sample(), "Sample"),
            (Sample.method, "Sample.method"),
            (Sample().method, "Sample.method"),
            (Sample.clsmethod, "Sample.clsmethod"),
            (SampleChild.clsmethod, "SampleChild.clsmethod"),
            (SampleChild().method, "SampleChild.method"),
            (Sample.static, "Sample.static"),
            (Sample.Nested.build, "Sample.Nested.build"),
            (partial(plain_function), "partial"),
        ],
    )
    def test_names(self, func, expected):
        assert get_callable_name(func) == expected

    def test_not_callable(self):
        with pytest.raises(TypeError) as exc:
            get_callable_name(42)
        assert str(exc.value) == (
            "Unable to determine a name for 42 -- maybe it is not a callable?"
        )


class TestObjToRef:
    @pytest.mark.parametrize(
        "obj, expected",
        [
            (plain_function, f"{__name__}:plain_function"),
            (Sample.method, f"{__name__}:Sample.method"),
            (Sample.clsmethod, f"{__name__}:Sample.clsmethod"),
            (Sample.static, f"{__name__}:Sample.static"),
            (Sample.Nested.build, f"{__name__}:Sample.Nested.build"),
            (timedelta, "datetime:timedelta"),
        ],
    )
    def test_refs(self, obj, expected):
        assert obj_to_ref(obj) == expected

    def test_bound_method_uses_owner_module(self):
        Foreign = type("Foreign", (Sample,), {"__module__": "somewhere.else"})
        assert obj_to_ref(Foreign.clsmethod) == "somewhere.else:Foreign.clsmethod"

    def test_partial(self):
        with pytest.raises(ValueError) as exc:
            obj_to_ref(partial(plain_function))
        assert str(exc.value) == "Cannot create a reference to a partial()"

    def test_lambda(self):
        with pytest.raises(ValueError) as exc:
            obj_to_ref(lambda: None)
        assert str(exc.value) == "Cannot create a reference to a lambda"

    def test_nested_function(self):
        def inner():
            pass

        with pytest.raises(ValueError) as exc:
            obj_to_ref(inner)
        assert str(exc.value) == "Cannot create a reference to a nested function"

    def test_not_callable(self):
        with pytest.raises(TypeError):
            obj_to_ref("text")


class TestRefToObj:
    def test_module_attribute(self):
        from os.path import join

        assert ref_to_obj("os.path:join") is join

    def test_dotted_attribute(self):
        assert ref_to_obj("datetime:timedelta.max") == timedelta.max

    def test_round_trip(self):
        assert ref_to_obj(obj_to_ref(Sample.Nested.build)) == Sample.Nested.build

    def test_submodule_through_fromlist(self, monkeypatch):
        package = ModuleType("h1pkg")
        package.__path__ = []
        child = ModuleType("h1pkg.child")
        child.value = 99
        monkeypatch.setitem(sys.modules, "h1pkg", package)
        monkeypatch.setitem(sys.modules, "h1pkg.child", child)
        assert ref_to_obj("h1pkg.child:value") == 99

    def test_not_a_string(self):
        with pytest.raises(TypeError) as exc:
            ref_to_obj(plain_function)
        assert str(exc.value) == "References must be strings"

    def test_no_colon(self):
        with pytest.raises(ValueError) as exc:
            ref_to_obj("os.path.join")
        assert str(exc.value) == "Invalid reference"

    def test_missing_module(self):
        with pytest.raises(LookupError) as exc:
            ref_to_obj("no_such_module_h1:thing")
        assert str(exc.value) == (
            "Error resolving reference no_such_module_h1:thing: could not import module"
        )
        assert isinstance(exc.value.__cause__, ImportError)

    def test_missing_attribute(self):
        with pytest.raises(LookupError) as exc:
            ref_to_obj("os:path.nothing_here")
        assert str(exc.value) == (
            "Error resolving reference os:path.nothing_here: error looking up object"
        )

    def test_maybe_ref(self):
        assert maybe_ref("datetime:date") is date
        assert maybe_ref(date) is date
        assert maybe_ref(None) is None
        with pytest.raises(ValueError):
            maybe_ref("no colon")


class TestCheckCallableArgs:
    @staticmethod
    def check(func, args=(), kwargs=None):
        check_callable_args(func, args, kwargs or {})

    def message(self, func, args=(), kwargs=None):
        with pytest.raises(ValueError) as exc:
            self.check(func, args, kwargs)
        return str(exc.value)

    def test_accepts_matching_calls(self):
        def func(a, b=2, *, c=3):
            pass

        self.check(func, (1,))
        self.check(func, (1, 2), {"c": 4})
        self.check(func, (), {"a": 1, "b": 2})
        self.check(lambda *args, **kwargs: None, (1, 2, 3), {"anything": 1})

    def test_both_args_and_kwargs(self):
        assert self.message(lambda a, b, c: None, (1, 2, 3), {"c": 1, "b": 2}) == (
            "The following arguments are supplied in both args and kwargs: b, c"
        )

    def test_keyword_for_positional_only(self):
        def func(a, b, /):
            pass

        assert self.message(func, (), {"a": 1, "b": 2}) == (
            "The following arguments cannot be given as keyword arguments: a, b"
        )

    def test_missing_positional(self):
        assert self.message(lambda a, b, c, d=0: None, (1,), {"c": 2}) == (
            "The following arguments have not been supplied: b"
        )

    def test_missing_keyword_only(self):
        def func(*, a, b, c=1):
            pass

        assert self.message(func) == (
            "The following keyword-only arguments have not been supplied in kwargs: "
            "a, b"
        )

    def test_too_many_positional(self):
        assert self.message(lambda a, b=1: None, (1, 2, 3, 4)) == (
            "The list of positional arguments is longer than the target callable can "
            "handle (allowed: 2, given in args: 4)"
        )

    def test_unexpected_keywords_in_given_order(self):
        assert self.message(lambda a: None, (), {"zed": 1, "a": 1, "alpha": 2}) == (
            "The target callable does not accept the following keyword arguments: "
            "zed, alpha"
        )

    def test_conflict_reported_before_other_problems(self):
        assert self.message(lambda a, *, k: None, (1, 2), {"a": 1, "x": 1}) == (
            "The following arguments are supplied in both args and kwargs: a"
        )

    def test_bound_method_excludes_self(self):
        self.check(Sample().method)
        assert self.message(Sample().method, (1,)) == (
            "The list of positional arguments is longer than the target callable can "
            "handle (allowed: 0, given in args: 1)"
        )

    def test_wrapper_signature_is_used(self):
        def target(a, b, c):
            pass

        @wraps(target)
        def wrapper(*args):
            pass

        self.check(wrapper, (1,))

    def test_callable_without_signature_is_accepted(self):
        # Builtins with several call forms expose no signature; they are not checked.
        import inspect

        for candidate in (max, getattr, iter, next):
            try:
                inspect.signature(candidate)
            except ValueError:
                break
        else:
            pytest.skip("every candidate builtin has a signature on this Python")

        self.check(candidate, (1, 2, 3, 4, 5), {"x": 1})

    def test_builtin_positional_only(self):
        assert self.message(divmod, (7,), {"y": 2}) == (
            "The following arguments cannot be given as keyword arguments: y"
        )

    def test_non_callable(self):
        with pytest.raises(TypeError):
            self.check(5)


class TestIsCoroutineFunctionPartial:
    async def coro_method(self):
        pass

    def test_plain_function(self):
        assert not iscoroutinefunction_partial(plain_function)

    def test_coroutine_function(self):
        async def coro():
            pass

        assert iscoroutinefunction_partial(coro)
        assert iscoroutinefunction_partial(self.coro_method)

    def test_partial_layers(self):
        async def coro(a, b):
            pass

        assert iscoroutinefunction_partial(partial(partial(coro, 1), 2))
        assert not iscoroutinefunction_partial(partial(partial(plain_function)))

    def test_async_mock(self):
        assert iscoroutinefunction_partial(AsyncMock())
        assert not iscoroutinefunction_partial(Mock())


class TestEventCodes:
    def test_values(self):
        names = [
            "EVENT_SCHEDULER_STARTED",
            "EVENT_SCHEDULER_SHUTDOWN",
            "EVENT_SCHEDULER_PAUSED",
            "EVENT_SCHEDULER_RESUMED",
            "EVENT_EXECUTOR_ADDED",
            "EVENT_EXECUTOR_REMOVED",
            "EVENT_JOBSTORE_ADDED",
            "EVENT_JOBSTORE_REMOVED",
            "EVENT_ALL_JOBS_REMOVED",
            "EVENT_JOB_ADDED",
            "EVENT_JOB_REMOVED",
            "EVENT_JOB_MODIFIED",
            "EVENT_JOB_EXECUTED",
            "EVENT_JOB_ERROR",
            "EVENT_JOB_MISSED",
            "EVENT_JOB_SUBMITTED",
            "EVENT_JOB_MAX_INSTANCES",
        ]
        assert [getattr(events, name) for name in names] == [
            2**bit for bit in range(17)
        ]
        assert events.EVENT_ALL == 131071
        assert events.EVENT_SCHEDULER_START == events.EVENT_SCHEDULER_STARTED

    def test_all_exports(self):
        exported = set(events.__all__)
        assert "EVENT_SCHEDULER_START" not in exported
        assert {"SchedulerEvent", "JobEvent", "JobSubmissionEvent"} <= exported
        assert "JobExecutionEvent" in exported
        assert len(exported) == 22


class TestEventClasses:
    def test_scheduler_event(self):
        event = events.SchedulerEvent(events.EVENT_JOBSTORE_ADDED, "store")
        assert (event.code, event.alias) == (64, "store")
        assert events.SchedulerEvent(1).alias is None

    def test_job_event(self):
        event = events.JobEvent(events.EVENT_JOB_ADDED, "job1", "default")
        assert isinstance(event, events.SchedulerEvent)
        assert (event.code, event.job_id, event.jobstore) == (512, "job1", "default")
        assert event.alias is None

    def test_submission_event(self):
        times = [datetime(2020, 1, 1, tzinfo=timezone.utc)]
        event = events.JobSubmissionEvent(events.EVENT_JOB_SUBMITTED, "j", "s", times)
        assert isinstance(event, events.JobEvent)
        assert event.scheduled_run_times is times

    def test_execution_event_defaults(self):
        event = events.JobExecutionEvent(events.EVENT_JOB_EXECUTED, "j", "s", 5)
        assert event.scheduled_run_time == 5
        assert (event.retval, event.exception, event.traceback) == (None, None, None)

    def test_execution_event_keywords(self):
        error = RuntimeError("x")
        event = events.JobExecutionEvent(
            events.EVENT_JOB_ERROR,
            job_id="j",
            jobstore="s",
            scheduled_run_time=None,
            retval=1,
            exception=error,
            traceback="tb",
        )
        assert (event.code, event.retval, event.exception, event.traceback) == (
            8192,
            1,
            error,
            "tb",
        )

    @pytest.mark.parametrize(
        "event",
        [
            events.SchedulerEvent(4),
            events.JobEvent(4, "j", "s"),
            events.JobExecutionEvent(4, "j", "s", None),
        ],
    )
    def test_repr_matches_apscheduler_3(self, event):
        # the class name placeholder is literal text in APScheduler 3.x output
        assert repr(event) == "<self.__class__.__name__ (code=4)>"
        assert str(event) == repr(event)
