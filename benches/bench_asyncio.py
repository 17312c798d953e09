#!/usr/bin/env python3
"""Compare AsyncIOScheduler: reference APScheduler vs apscheduler-rs.

Runs the scenarios of ``_asyncio_workload.py`` under both interpreters, each
measurement in a fresh process, alternating ref/ours for every round, and prints the
figures of both sides with the ratio ours/ref:

- 20,000 coroutine jobs due at once (``burst``): runs per second, and the longest
  time the event loop was held (a probe coroutine measures every loop iteration);
- 20,000 coroutine jobs due at once, added to a running scheduler by a coroutine
  (``add_running``): runs per second from the first add_job() on;
- 20,000 bare Tasks with no scheduler (``bare_tasks``): the CPU time per run that
  creating and running one Task per job costs by itself, the floor of any scheduler
  that runs each coroutine job as its own Task (both sides measure the same thing).

    python benches/bench_asyncio.py
    python benches/bench_asyncio.py --jobs 5000 --rounds 1   # quicker
    python benches/bench_asyncio.py --markdown

This script only orchestrates, so any python3 can run it.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "_asyncio_workload.py")

sys.path.insert(0, HERE)
from _common import cpu_description, md_escape, venv_python  # noqa: E402

SIDES = ("ref", "ours")

# (scenario, metric, label, unit, better, how the rounds combine)
ROWS = [
    ("burst", "rate", "{n} due at once: runs", "jobs/s", "higher", max),
    ("burst", "cpu_us_per_run", "{n} due at once: CPU per run", "us", "lower", min),
    ("burst", "stall_max_ms", "{n} due at once: longest loop stall", "ms", "lower",
     statistics.median),
    ("add_running", "rate", "{n} added to a running scheduler: runs", "jobs/s",
     "higher", max),
    ("bare_tasks", "cpu_us_per_run", "{n} bare Tasks, no scheduler: CPU per run", "us",
     "lower", min),
]


def run_workload(python, scenario, jobs, timeout):
    proc = subprocess.run(
        [python, WORKLOAD, scenario, "--jobs", str(jobs)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
    )
    if proc.returncode != 0:
        raise SystemExit(
            "%s %s failed:\n%s" % (python, scenario, proc.stderr.strip()[-2000:])
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(value, unit):
    if unit == "jobs/s":
        return "{:,.0f}".format(value)
    if unit == "us":
        return "%.1f" % value
    return "%.2f" % value


def render(headers, rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(headers) + " |"]
        lines.append("| --- |" + " ---: |" * (len(headers) - 1))
        for row in rows:
            lines.append("| " + " | ".join(md_escape(cell) for cell in row) + " |")
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    lines = []
    for row in [headers] + rows:
        cells = [
            str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default=venv_python(".venv-ref"))
    parser.add_argument("--ours", default=venv_python(".venv"))
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results")
    args = parser.parse_args(argv)
    pythons = {"ref": args.ref, "ours": args.ours}
    for side, python in pythons.items():
        if not os.path.exists(python):
            print("%s interpreter not found: %s" % (side, python), file=sys.stderr)
            return 2

    scenarios = sorted({row[0] for row in ROWS})
    results = {(scenario, side): [] for scenario in scenarios for side in SIDES}
    for round_number in range(args.rounds):
        for scenario in scenarios:
            for side in SIDES:
                result = run_workload(pythons[side], scenario, args.jobs, args.timeout)
                results[scenario, side].append(result)
                print(
                    "round %d %-11s %-4s %8.0f jobs/s, loop stall max %.2f ms"
                    % (round_number + 1, scenario, side, result["rate"],
                       result["stall_max_ms"]),
                    file=sys.stderr,
                )

    table = []
    for scenario, metric, label, unit, better, combine in ROWS:
        ref = combine(r[metric] for r in results[scenario, "ref"])
        ours = combine(r[metric] for r in results[scenario, "ours"])
        ratio = ours / ref if ref else float("nan")
        table.append([
            label.format(n="{:,}".format(args.jobs)),
            fmt(ref, unit) + " " + unit,
            fmt(ours, unit) + " " + unit,
            "%.2fx" % ratio,
        ])

    print("AsyncIOScheduler, %d rounds (best rate, median stall), %s"
          % (args.rounds, cpu_description()))
    print(render(["figure", "APScheduler 3.11.3", "apscheduler-rs", "ours/ref"],
                 table, args.markdown))
    ref_cpu = min(r["cpu_us_per_run"] for r in results["burst", "ref"])
    floor = min(r["cpu_us_per_run"] for r in results["bare_tasks", "ours"])
    print("A Task per job costs %.1f us a run by itself; 5x the reference's burst rate "
          "allows at most %.1f us a run in all (its CPU per run / 5)."
          % (floor, ref_cpu / 5))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"%s/%s" % key: value for key, value in results.items()}, f,
                      indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
