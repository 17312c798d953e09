#!/usr/bin/env python3
"""Compare SQLAlchemyJobStore on SQLite: reference APScheduler vs apscheduler-rs.

Each round runs ``_sqlite_workload.py`` once per side, alternating, in a fresh
process: N jobs are added with ``add_job`` to a paused scheduler whose default store
is an SQLAlchemyJobStore on a new SQLite file, then the scheduler resumes and all N,
due at once, run and leave the store. Reported: add_job calls per second and runs
per second, the best round of each side, and the ratio ours/ref.

The database file goes to two places by default: the temporary directory (a disk,
where every commit waits for fsync) and /dev/shm (memory, where the CPU cost shows).

    python benches/bench_sqlite.py
    python benches/bench_sqlite.py --jobs 2000 --rounds 1 --only memory
    python benches/bench_sqlite.py --markdown

This script only orchestrates, so any python3 can run it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "_sqlite_workload.py")

sys.path.insert(0, HERE)
from _common import cpu_description, venv_python  # noqa: E402

SIDES = ("ref", "ours")
TARGET = 2.0


def locations():
    places = [("disk", tempfile.gettempdir())]
    if os.path.isdir("/dev/shm"):
        places.append(("memory", "/dev/shm"))
    return places


def measure(python, directory, jobs, timeout):
    fd, path = tempfile.mkstemp(prefix="bench-sqlite-", suffix=".sqlite", dir=directory)
    os.close(fd)
    try:
        out = subprocess.run(
            [python, WORKLOAD, path, str(jobs)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default=venv_python(".venv-ref"))
    parser.add_argument("--ours", default=venv_python(".venv"))
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=["disk", "memory"])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    pythons = {"ref": args.ref, "ours": args.ours}
    for side, python in pythons.items():
        if not os.path.exists(python):
            print("missing interpreter for %s: %s" % (side, python), file=sys.stderr)
            return 2

    rows = []
    for place, directory in locations():
        if args.only and place != args.only:
            continue
        best = {side: {"add": 0.0, "fire": 0.0} for side in SIDES}
        for _ in range(args.rounds):
            for side in SIDES:
                result = measure(pythons[side], directory, args.jobs, args.timeout)
                for key in ("add", "fire"):
                    best[side][key] = max(best[side][key], result[key])
        for key, label in (("add", "add_job"), ("fire", "fire (run + remove)")):
            ref, ours = best["ref"][key], best["ours"][key]
            rows.append(("%s, SQLite on %s (%s)" % (label, place, directory), ref, ours))
        # The whole workload: N jobs added, then fired (N over the sum of both times).
        combined = {
            side: 1.0 / (1.0 / best[side]["add"] + 1.0 / best[side]["fire"])
            for side in SIDES
        }
        rows.append((
            "add then fire, SQLite on %s (%s)" % (place, directory),
            combined["ref"],
            combined["ours"],
        ))

    print("SQLAlchemyJobStore on SQLite, %d jobs, best of %d; %s"
          % (args.jobs, args.rounds, cpu_description()))
    if args.markdown:
        print("\n| benchmark | APScheduler 3.11.3 | apscheduler-rs | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for label, ref, ours in rows:
            print("| %s | %.0f/s | %.0f/s | %.2fx |" % (label, ref, ours, ours / ref))
    else:
        width = max(len(label) for label, _, _ in rows)
        for label, ref, ours in rows:
            ratio = ours / ref
            verdict = "PASS" if ratio >= TARGET else "below %.0fx" % TARGET
            print("%-*s  ref %8.0f/s  ours %8.0f/s  %.2fx  %s"
                  % (width, label, ref, ours, ratio, verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
