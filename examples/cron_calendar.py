"""Cron expressions for days that move around the calendar: "3rd fri" and "last".

Such jobs fire weeks apart, so instead of waiting this shows when they would fire:
the next fire times of each trigger from a fixed start, then the next run time the
scheduler gives each job (paused, so that nothing runs).
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
COUNT = 4

TRIGGERS = {
    # the reference's cron docs: June-August and November-December, on the third
    # Friday, at 00:00, 01:00, 02:00 and 03:00
    "3rd fri, Jun-Aug and Nov-Dec, hours 0-3": CronTrigger(
        month="6-8,11-12", day="3rd fri", hour="0-3", timezone="UTC"
    ),
    "3rd fri of every month at 09:30": CronTrigger(
        day="3rd fri", hour=9, minute=30, timezone="UTC"
    ),
    "last day of every month at 18:00": CronTrigger(day="last", hour=18, timezone="UTC"),
    "last sun of every month (the scheduled_job example)": CronTrigger(
        day="last sun", timezone="UTC"
    ),
    "crontab '0 0 1-15 may-aug *'": CronTrigger.from_crontab(
        "0 0 1-15 may-aug *", timezone="UTC"
    ),
}


def job_function() -> None:
    print("never runs here: the scheduler stays paused")


def next_fire_times(trigger: CronTrigger, count: int) -> list[datetime]:
    times: list[datetime] = []
    previous = None
    now = START
    while len(times) < count:
        fire_time = trigger.get_next_fire_time(previous, now)
        if fire_time is None:
            break
        times.append(fire_time)
        previous = now = fire_time
    return times


def main() -> None:
    print(f"Next {COUNT} fire times from {START:%Y-%m-%d %H:%M %Z}:")
    for label, trigger in TRIGGERS.items():
        print(f"  {label}  [{trigger}]")
        for fire_time in next_fire_times(trigger, COUNT):
            print(f"    {fire_time:%a %Y-%m-%d %H:%M %Z}")

    # The same expressions as jobs: the scheduler computes each job's next run time
    # from now when it starts.
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(job_function, "cron", day="3rd fri", hour=9, minute=30, id="third-friday")
    scheduler.add_job(job_function, "cron", day="last", hour=18, id="month-end")
    scheduler.start(paused=True)
    try:
        for job in scheduler.get_jobs():
            print(f"job {job.id}: next run at {job.next_run_time:%a %Y-%m-%d %H:%M %Z}")
    finally:
        scheduler.shutdown()
    print("Done.")


if __name__ == "__main__":
    main()
