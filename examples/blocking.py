"""BlockingScheduler: the scheduler runs in the main thread until it is shut down.

As in the reference's examples/schedulers/blocking.py, start() blocks; here the job
itself shuts the scheduler down after its third run, so the script ends by itself
after about 1.5 seconds.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.blocking import BlockingScheduler

RUNS = 3
scheduler = BlockingScheduler()
runs = 0


def tick() -> None:
    global runs
    runs += 1
    print(f"Tick {runs}! The time is: {datetime.now():%H:%M:%S.%f}")
    if runs == RUNS:
        # Called from the job's own worker thread: stop the loop without waiting
        # for this very job to finish.
        scheduler.shutdown(wait=False)


def main() -> None:
    scheduler.add_job(tick, "interval", seconds=0.5, id="tick")
    print("Starting the blocking scheduler; start() returns after the last tick")
    scheduler.start()  # blocks here
    print(f"start() returned after {runs} runs; running: {scheduler.running}")


if __name__ == "__main__":
    main()
