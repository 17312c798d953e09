#!/usr/bin/env python3
"""Compare ThreadPoolExecutor throughput: reference APScheduler vs apscheduler-rs.

Submits N no-op jobs to ``apscheduler.executors.pool.ThreadPoolExecutor`` and times
until every run has been reported back (``_run_job_success`` dispatching its event),
under both interpreters, alternating ref/ours for each round. Prints runs per second
for both sides and the ratio ours/ref.

    python benches/bench_executor.py
    python benches/bench_executor.py --jobs 50000 --rounds 5
    python benches/bench_executor.py --ref .venv-ref/bin/python --ours .venv/bin/python
    python benches/bench_executor.py --markdown

The jobs go through the real ``run_job`` (misfire check, log calls below the logger's
level, one event per run), as scheduled jobs do; only the scheduler is a stub that
counts the events it is given. This script only orchestrates, so any python3 can run
it; ``--workload`` is the part that runs under each interpreter.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

sys.path.insert(0, HERE)
from _common import venv_python  # noqa: E402

# name -> (max_workers, submitting threads, description)
SCENARIOS = {
    "10w_1sub": (10, 1, "max_workers=10 (the default), one submitting thread"),
    "10w_4sub": (10, 4, "max_workers=10, four submitting threads"),
    "1w_1sub": (1, 1, "max_workers=1, one submitting thread"),
}


# ---------------------------------------------------------------------------
# Workload: runs under the interpreter being measured
# ---------------------------------------------------------------------------


def noop():
    pass


def workload(jobs, only):
    import gc
    import itertools
    import threading
    import time
    from datetime import datetime, timezone

    import apscheduler
    from apscheduler.executors.pool import ThreadPoolExecutor

    class Job:
        """What run_job and the executor read from a job."""

        id = "noop"
        func = staticmethod(noop)
        args = ()
        kwargs = {}
        misfire_grace_time = 1
        _jobstore_alias = "default"

        def __init__(self, max_instances):
            self.max_instances = max_instances

        def __str__(self):
            return "noop (trigger: date, next run at: never)"

    class Scheduler:
        def __init__(self, expected):
            self.expected = expected
            self.counter = itertools.count(1)
            self.done = threading.Event()

        def _create_lock(self):
            return threading.RLock()

        def _dispatch_event(self, event):
            if next(self.counter) == self.expected:
                self.done.set()

    def measure(max_workers, submitters):
        scheduler = Scheduler(jobs)
        executor = ThreadPoolExecutor(max_workers)
        executor.start(scheduler, "default")
        job = Job(max_instances=jobs + 1)
        run_times = [datetime.now(timezone.utc)]
        share = jobs // submitters

        def submit(count):
            for _ in range(count):
                executor.submit_job(job, run_times)

        threads = [
            threading.Thread(target=submit, args=(share,))
            for _ in range(submitters - 1)
        ]
        gc.disable()
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        submit(jobs - share * (submitters - 1))
        for thread in threads:
            thread.join()
        if not scheduler.done.wait(300):
            raise RuntimeError("not every run was reported")
        elapsed = time.perf_counter() - start
        gc.enable()
        executor.shutdown()
        return jobs / elapsed

    results = {}
    for name, (max_workers, submitters, _) in SCENARIOS.items():
        if only and not any(part in name for part in only):
            continue
        measure(max_workers, submitters)  # warm-up: threads, caches
        results[name] = measure(max_workers, submitters)

    native = False
    try:
        import apscheduler._core  # noqa: F401

        native = True
    except ImportError:
        pass
    return {
        "results": results,
        "python": platform.python_version(),
        "package": os.path.dirname(apscheduler.__file__),
        "native": native,
    }


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------


def run_side(python, jobs, only):
    command = [python, os.path.abspath(__file__), "--workload", "--jobs", str(jobs)]
    for part in only:
        command += ["--only", part]
    # Run outside the checkout so that only the installed package can be imported.
    done = subprocess.run(
        command, capture_output=True, text=True, cwd="/", timeout=900, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def format_rate(rate):
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M/s"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k/s"
    return f"{rate:.0f}/s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default=venv_python(".venv-ref"))
    parser.add_argument("--ours", default=venv_python(".venv"))
    parser.add_argument("--jobs", type=int, default=20000, help="jobs per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stat", choices=("best", "median"), default="best")
    parser.add_argument("--only", action="append", default=[], metavar="SUBSTR")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--workload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.workload:
        print(json.dumps(workload(args.jobs, args.only)))
        return 0

    for side in (args.ref, args.ours):
        if not os.path.exists(side):
            print(f"interpreter not found: {side}", file=sys.stderr)
            return 2

    rates = {"ref": {}, "ours": {}}
    info = {}
    for _ in range(args.rounds):
        for side, python in (("ref", args.ref), ("ours", args.ours)):
            outcome = run_side(python, args.jobs, args.only)
            info[side] = outcome
            for name, rate in outcome["results"].items():
                rates[side].setdefault(name, []).append(rate)

    combine = max if args.stat == "best" else statistics.median
    for side in ("ref", "ours"):
        native = "native core" if info[side]["native"] else "pure Python"
        print(
            f"{side}: Python {info[side]['python']}, {info[side]['package']} ({native})"
        )
    print(
        f"{os.cpu_count()} CPUs; {args.jobs} jobs per measurement, "
        f"{args.stat} of {args.rounds} rounds\n"
    )
    rows = []
    for name, (_, _, description) in SCENARIOS.items():
        if name not in rates["ref"] or name not in rates["ours"]:
            continue
        ref = combine(rates["ref"][name])
        ours = combine(rates["ours"][name])
        rows.append((description, format_rate(ref), format_rate(ours), f"{ours / ref:.1f}x"))

    header = ("scenario", "APScheduler 3.11.3", "apscheduler-rs", "ratio")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("| --- | ---: | ---: | ---: |")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(4)]
        for row in [header] + rows:
            print(
                "  ".join(
                    str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                    for i, cell in enumerate(row)
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
