"""BackgroundScheduler: the scheduler runs in a thread of its own, the program goes on.

As in the reference's examples/schedulers/background.py, the main thread keeps
working while jobs run; here it stops after two seconds and shuts the scheduler down.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler


def tick() -> None:
    print(f"Tick! The time is: {datetime.now():%H:%M:%S.%f} on {threading.current_thread().name}")


def main() -> None:
    scheduler = BackgroundScheduler()
    scheduler.add_job(tick, "interval", seconds=0.5, id="tick")
    scheduler.start()
    threads = sorted(thread.name for thread in threading.enumerate())
    print(f"Scheduler started; threads now: {', '.join(threads)}")
    try:
        # This simulates application activity (which keeps the main thread alive).
        for second in range(2):
            time.sleep(1)
            print(f"main thread: still working ({second + 1} s)")
    finally:
        scheduler.shutdown()
    print(f"Scheduler shut down; running: {scheduler.running}")


if __name__ == "__main__":
    main()
