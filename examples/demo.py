"""Fire two jobs from their triggers for about five seconds, then exit.

The triggers (computed in Rust) say when each job is due next; this loop sleeps
until the earliest fire time and "runs" that job by printing a line.
"""

import time
from datetime import datetime, timedelta

from tzlocal import get_localzone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

RUN_FOR = timedelta(seconds=5)


def main() -> None:
    tz = get_localzone()
    triggers = {
        "heartbeat": IntervalTrigger(seconds=1, timezone=tz),
        "even-seconds": CronTrigger(second="*/2", timezone=tz),
    }
    start = datetime.now(tz)
    end = start + RUN_FOR
    print(f"Running for {RUN_FOR.total_seconds():.0f} seconds from {start:%H:%M:%S} ({tz}):")
    for name, trigger in triggers.items():
        print(f"  {name:<13} {trigger}")

    due = {name: trigger.get_next_fire_time(None, start) for name, trigger in triggers.items()}
    while True:
        pending = {name: t for name, t in due.items() if t is not None and t <= end}
        if not pending:
            break
        name = min(pending, key=pending.__getitem__)
        fire_time = pending[name]
        time.sleep(max(0.0, (fire_time - datetime.now(tz)).total_seconds()))
        print(f"{fire_time:%H:%M:%S.%f}"[:-3] + f"  fired {name}")
        due[name] = triggers[name].get_next_fire_time(fire_time, datetime.now(tz))
    print("Done.")


if __name__ == "__main__":
    main()
