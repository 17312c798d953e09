"""Trigger behaviour that the differential tests can't pin down: where we deliberately
differ from APScheduler 3.11.3 (it hangs or loops there), zones it answers through
Python, the native/Python split of the classes, and pickles."""

import pickle
import time
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import AndTrigger, OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.expressions import MonthRangeExpression
from apscheduler.triggers.cron.fields import BaseField, DayOfMonthField
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def chain(trigger, now, count):
    fire_times = []
    previous = None
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, previous or now)
        if previous is None:
            break
        fire_times.append(previous)
    return fire_times


class TestNeverMatching:
    """The reference scans month by month up to year 9999 here (seconds per call)."""

    @pytest.mark.parametrize(
        "fields",
        [
            {"day": "2nd fri", "day_of_week": "sat,sun"},
            {"month": "2", "day": "30"},
            {"month": "4,6,9,11", "day": "31"},
            {"week": "53", "month": "6"},
        ],
    )
    def test_none_within_milliseconds(self, fields):
        trigger = CronTrigger(timezone=BERLIN, **fields)
        started = time.perf_counter()
        assert trigger.get_next_fire_time(None, datetime(2024, 1, 1, tzinfo=BERLIN)) is None
        assert time.perf_counter() - started < 0.5

    def test_rare_but_possible_match_is_still_found(self):
        # February 29th on a Monday: 2044 after 2024.
        trigger = CronTrigger(month=2, day=29, day_of_week="mon", timezone=BERLIN)
        fire_time = trigger.get_next_fire_time(None, datetime(2024, 3, 1, tzinfo=BERLIN))
        assert fire_time == datetime(2044, 2, 29, tzinfo=BERLIN)


class TestAndTrigger:
    def test_chains_with_previous_fire_time(self):
        # The reference loops for ever on the second call: it passes the previous fire
        # time again on every round, so disagreeing triggers never move forward.
        trigger = AndTrigger(
            [CronTrigger(day="*/2", timezone=BERLIN), CronTrigger(hour="*/5", timezone=BERLIN)]
        )
        fire_times = chain(trigger, datetime(2020, 1, 1, tzinfo=BERLIN), 4)
        assert [str(t) for t in fire_times] == [
            "2020-01-01 00:00:00+01:00",
            "2020-01-03 00:00:00+01:00",
            "2020-01-05 00:00:00+01:00",
            "2020-01-07 00:00:00+01:00",
        ]

    def test_parts_that_never_agree_give_none_quickly(self):
        trigger = AndTrigger(
            [CronTrigger(day=1, timezone=BERLIN), CronTrigger(day=2, timezone=BERLIN)]
        )
        started = time.perf_counter()
        assert trigger.get_next_fire_time(None, datetime(2020, 1, 1, tzinfo=BERLIN)) is None
        assert time.perf_counter() - started < 2

    def test_date_trigger_in_the_past_gives_none(self):
        trigger = AndTrigger(
            [
                DateTrigger(datetime(2019, 1, 1, tzinfo=BERLIN)),
                CronTrigger(hour=3, timezone=BERLIN),
            ]
        )
        assert trigger.get_next_fire_time(None, datetime(2020, 1, 1, tzinfo=BERLIN)) is None

    def test_or_takes_the_earliest(self):
        trigger = OrTrigger(
            [CronTrigger(hour=5, timezone=BERLIN), CronTrigger(hour=3, timezone=NEW_YORK)]
        )
        fire_time = trigger.get_next_fire_time(None, datetime(2020, 1, 1, tzinfo=BERLIN))
        assert fire_time == datetime(2020, 1, 1, 5, tzinfo=BERLIN)


class FixedPlusTwo(tzinfo):
    """A tzinfo the engine can only ask through its Python methods."""

    def utcoffset(self, dt):
        return timedelta(hours=2)

    def dst(self, dt):
        return timedelta(0)

    def tzname(self, dt):
        return "PLUS2"


class TestZones:
    def test_custom_tzinfo_is_asked_through_python(self):
        tz = FixedPlusTwo()
        trigger = CronTrigger(hour="*/6", timezone=tz)
        fire_times = chain(trigger, datetime(2020, 1, 1, 1, tzinfo=tz), 3)
        assert [t.hour for t in fire_times] == [6, 12, 18]
        assert all(t.tzinfo is tz for t in fire_times)

    def test_string_zone_becomes_zoneinfo(self):
        trigger = CronTrigger(hour=1, timezone="Europe/Berlin")
        assert trigger.timezone == BERLIN
        assert CronTrigger(hour=1, timezone="UTC").timezone is timezone.utc

    def test_dst_rules_continue_past_the_last_transition(self):
        # zoneinfo extrapolates the POSIX rule for ever; so do we.
        trigger = CronTrigger(month=7, day=1, hour=12, timezone=NEW_YORK)
        fire_time = trigger.get_next_fire_time(None, datetime(2399, 1, 1, tzinfo=NEW_YORK))
        assert fire_time.utcoffset() == timedelta(hours=-4)

    def test_result_in_the_triggers_zone(self):
        trigger = IntervalTrigger(hours=1, start_date=datetime(2020, 1, 1, tzinfo=BERLIN))
        fire_time = trigger.get_next_fire_time(None, datetime(2020, 6, 1, tzinfo=NEW_YORK))
        assert fire_time.tzinfo is BERLIN

    def test_bad_zone_name(self):
        with pytest.raises(KeyError):
            CronTrigger(hour=1, timezone="Mars/Olympus_Mons")


class TestClasses:
    @pytest.mark.parametrize(
        "trigger",
        [
            CronTrigger(hour=1, timezone=BERLIN),
            IntervalTrigger(seconds=5, start_date=datetime(2020, 1, 1, tzinfo=BERLIN)),
            DateTrigger(datetime(2020, 1, 1, tzinfo=BERLIN)),
            CalendarIntervalTrigger(days=1, start_date=date(2020, 1, 1), timezone=BERLIN),
        ],
        ids=["cron", "interval", "date", "calendarinterval"],
    )
    def test_is_a_base_trigger_without_instance_dict(self, trigger):
        assert isinstance(trigger, BaseTrigger)
        with pytest.raises(AttributeError):
            trigger.no_such_attribute = 1

    def test_attributes_can_be_assigned(self):
        trigger = CronTrigger(hour=1, timezone=BERLIN)
        now = datetime(2020, 1, 1, 2, tzinfo=BERLIN)
        assert trigger.get_next_fire_time(None, now) == datetime(2020, 1, 2, 1, tzinfo=BERLIN)
        trigger.end_date = datetime(2020, 1, 1, 12, tzinfo=BERLIN)
        assert trigger.get_next_fire_time(None, now) is None
        trigger.end_date = None
        trigger.timezone = NEW_YORK
        assert trigger.get_next_fire_time(None, now).tzinfo is NEW_YORK

    def test_subclass_keeps_working(self):
        class EveryMinute(CronTrigger):
            def __init__(self):
                super().__init__(minute="*", timezone=BERLIN)

        trigger = EveryMinute()
        assert repr(trigger).startswith("<EveryMinute (minute='*'")
        now = datetime(2020, 1, 1, 0, 0, 30, tzinfo=BERLIN)
        assert trigger.get_next_fire_time(None, now) == datetime(2020, 1, 1, 0, 1, tzinfo=BERLIN)

    def test_fields_are_inspectable(self):
        trigger = CronTrigger(day="last fri", hour="*/3", timezone=BERLIN)
        names = {field.name: (str(field), field.is_default) for field in trigger.fields}
        assert names["day"] == ("last fri", False)
        assert names["hour"] == ("*/3", False)
        assert names["minute"] == ("0", True)
        assert isinstance(trigger.fields[2], DayOfMonthField)

    def test_field_objects_compile_like_the_trigger(self):
        field = BaseField("hour", "1-5/2, 20")
        assert str(field) == "1-5/2,20"
        assert field.get_next_value(datetime(2020, 1, 1, 4)) == 5
        with pytest.raises(ValueError, match="the last value \\(24\\)"):
            BaseField("hour", "0-24")

    def test_month_range_repr_names_the_right_month(self):
        # APScheduler 3.11.3 shows the following month and fails for December.
        assert repr(MonthRangeExpression("dec")) == "MonthRangeExpression('dec')"
        assert repr(MonthRangeExpression("jan", "mar")) == "MonthRangeExpression('jan', 'mar')"


class TestPickles:
    def test_round_trip_keeps_bounded_steps(self):
        # `0-0/5` prints as `0/5`, which would mean "0, 5, 10..." if read back as text.
        trigger = CronTrigger(second="0-0/5", timezone=BERLIN)
        copy = pickle.loads(pickle.dumps(trigger))
        now = datetime(2020, 1, 1, 0, 0, 1, tzinfo=BERLIN)
        assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)
        assert copy.get_next_fire_time(None, now).second == 0

    def test_state_has_the_reference_layout(self):
        trigger = CronTrigger(hour=1, timezone=BERLIN, jitter=3)
        state = trigger.__getstate__()
        assert sorted(state) == ["end_date", "fields", "jitter", "start_date", "timezone", "version"]
        assert state["version"] == 2
        assert vars(state["fields"][5]) == {
            "name": "hour",
            "is_default": False,
            "expressions": state["fields"][5].expressions,
        }
        assert vars(state["fields"][5].expressions[0]) == {"step": None, "first": 1, "last": 1}

    def test_newer_state_version_is_refused(self):
        trigger = CronTrigger.__new__(CronTrigger)
        with pytest.raises(ValueError, match="only versions up to 2 can be handled"):
            trigger.__setstate__({"version": 3})


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize(
    "trigger",
    [
        CronTrigger(hour="*/2", timezone=BERLIN),
        IntervalTrigger(seconds=5, start_date=datetime(2020, 1, 1, tzinfo=BERLIN)),
        DateTrigger(datetime(2020, 1, 1, tzinfo=BERLIN)),
        CalendarIntervalTrigger(days=1, start_date=date(2020, 1, 1), timezone=BERLIN),
        AndTrigger([CronTrigger(hour="*/2", timezone=BERLIN)]),
    ],
    ids=["cron", "interval", "date", "calendarinterval", "and"],
)
def test_every_pickle_protocol(trigger, protocol):
    copy = pickle.loads(pickle.dumps(trigger, protocol))
    now = datetime(2020, 6, 1, 12, 30, tzinfo=BERLIN)
    assert type(copy) is type(trigger)
    assert repr(copy) == repr(trigger)
    assert copy.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now)


def test_fire_times_made_natively_keep_fold_microseconds_and_the_zone_object():
    # Across the autumn change the wall clock repeats 02:00-03:00: the second pass
    # has fold=1. Every fire time must be the instant start + k * interval, in the
    # trigger's own tzinfo object.
    start = datetime(2026, 10, 25, 1, 40, 0, 123456, tzinfo=BERLIN)
    trigger = IntervalTrigger(minutes=20, start_date=start, timezone=BERLIN)
    fire_times = chain(trigger, start, 9)
    utc_start = start.astimezone(timezone.utc)
    for index, fire_time in enumerate(fire_times):
        expected = (utc_start + index * timedelta(minutes=20)).astimezone(BERLIN)
        assert fire_time.tzinfo is BERLIN
        assert (fire_time.replace(tzinfo=None), fire_time.fold) == (expected.replace(tzinfo=None), expected.fold)
        assert fire_time.microsecond == 123456
    assert [fire_time.fold for fire_time in fire_times] == [0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert type(fire_times[0]) is datetime


def test_interval_triggers_alike_but_for_one_argument_keep_their_own():
    # Triggers made with the same zone, step and end date share what they compute
    # with; each must still answer with its own start date, end date, jitter and zone.
    start = datetime(2030, 3, 1, 12, tzinfo=BERLIN)
    now = start - timedelta(seconds=1)
    made = [
        IntervalTrigger(seconds=10, start_date=start, end_date=start + timedelta(seconds=25)),
        IntervalTrigger(seconds=10, start_date=start, end_date=start + timedelta(seconds=25)),
        IntervalTrigger(seconds=10, start_date=start + timedelta(seconds=3),
                        end_date=start + timedelta(seconds=25)),
        IntervalTrigger(seconds=10, start_date=start, end_date=start + timedelta(seconds=15)),
        IntervalTrigger(seconds=10, start_date=start, end_date=start + timedelta(seconds=25),
                        timezone=NEW_YORK),
        IntervalTrigger(seconds=20, start_date=start, end_date=start + timedelta(seconds=25)),
    ]
    seconds = [[int((t - start).total_seconds()) for t in chain(trigger, now, 5)] for trigger in made]
    assert seconds == [[0, 10, 20], [0, 10, 20], [3, 13, 23], [0, 10], [0, 10, 20], [0, 20]]
    assert {str(chain(trigger, now, 1)[0].tzinfo) for trigger in made[4:5]} == {"America/New_York"}

    jittered = IntervalTrigger(seconds=10, start_date=start, end_date=start + timedelta(seconds=25),
                               jitter=2)
    for _ in range(20):
        first = jittered.get_next_fire_time(None, now)
        assert start <= first <= start + timedelta(seconds=2)

    # Changing one trigger leaves the one made alike as it was.
    made[1].end_date = start + timedelta(seconds=5)
    assert [int((t - start).total_seconds()) for t in chain(made[0], now, 5)] == [0, 10, 20]
    assert [int((t - start).total_seconds()) for t in chain(made[1], now, 5)] == [0]


def test_cron_triggers_alike_but_for_one_argument_keep_their_own():
    # Cron triggers of one expression, zone and bounds share their compiled form.
    now = datetime(2030, 3, 1, 12, 0, 30, tzinfo=BERLIN)
    end = datetime(2030, 3, 1, 12, 3, tzinfo=BERLIN)
    made = [
        CronTrigger(minute="*", timezone=BERLIN),
        CronTrigger(minute="*", timezone=BERLIN),
        CronTrigger(minute="*", timezone=BERLIN, end_date=end),
        CronTrigger(minute="*", timezone=NEW_YORK),
        CronTrigger(minute="*", timezone=BERLIN, start_date=now + timedelta(minutes=2)),
    ]
    firsts = [[(t.astimezone(BERLIN).minute, str(t.tzinfo)) for t in chain(trigger, now, 4)] for trigger in made]
    berlin = [(minute, "Europe/Berlin") for minute in (1, 2, 3, 4)]
    assert firsts == [berlin, berlin, berlin[:3], [(m, "America/New_York") for m in (1, 2, 3, 4)], berlin[2:] + [(5, "Europe/Berlin"), (6, "Europe/Berlin")]]

    jittered = CronTrigger(minute="*", timezone=BERLIN, jitter=5)
    first = jittered.get_next_fire_time(None, now)
    assert now + timedelta(seconds=30) <= first <= now + timedelta(seconds=35)
