"""Triggers created without a time zone take the local one from tzlocal, as the
reference's do. Both packages run the same script in a subprocess with ``TZ`` set, so
that the local zone is the one under test, and must print the same lines."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402

SCRIPT = r"""
from datetime import date, datetime
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

def show(trigger, now, count=4):
    print(repr(trigger), str(trigger))
    fire = trigger.get_next_fire_time(None, now)
    for _ in range(count):
        print("  ", fire, None if fire is None else (fire.fold, type(fire.tzinfo).__name__))
        if fire is None:
            break
        fire = trigger.get_next_fire_time(fire, fire)

# Around the spring and autumn changes of the northern and southern hemispheres.
for month, day in ((3, 9), (3, 30), (10, 5), (10, 26), (11, 2)):
    cron = CronTrigger(hour="1-3", minute="30")
    show(cron, datetime(2024, month, day, 12).astimezone(cron.timezone), 8)
    calendar = CalendarIntervalTrigger(days=1, hour=2, minute=30, start_date=date(2024, month, day))
    show(calendar, datetime(2024, month, day).astimezone(calendar.timezone))
    interval = IntervalTrigger(hours=1, start_date=f"2024-{month:02d}-{day:02d} 00:30:00")
    show(interval, datetime(2024, month, day, 23).astimezone(interval.timezone), 6)
    print(repr(DateTrigger(f"2024-{month:02d}-{day:02d} 02:30:00")))
"""

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "UTC"]


@pytest.fixture(scope="module")
def reference():
    try:
        return _harness.reference_python()
    except _harness.ReferenceMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"reference interpreter missing on CI: {exc}")
        pytest.skip(str(exc))


def run(python, zone):
    env = dict(os.environ, TZ=zone)
    result = subprocess.run(
        [python, "-I", "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("zone", ZONES)
def test_local_zone_matches_the_reference(reference, zone):
    ours = run(sys.executable, zone)
    theirs = run(reference, zone)
    assert ours == theirs
