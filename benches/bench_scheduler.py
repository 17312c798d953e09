#!/usr/bin/env python3
"""Compare the scheduler itself: reference APScheduler vs apscheduler-rs.

Runs the scenarios of ``_scheduler_workload.py`` (adding jobs, starting with
pending jobs, a burst of due jobs, start lateness, an interval fan-out, memory
per job, idle wake-ups, import time) under two interpreters, each measurement
in a fresh process, alternating ref/ours for every round.  Prints the figures
of both sides, the ratio ours/ref and whether the target is met.

    python benches/bench_scheduler.py
    python benches/bench_scheduler.py --quick            # smaller sizes, one round
    python benches/bench_scheduler.py --markdown > results.md
    python benches/bench_scheduler.py --check            # exit 1 when a target is missed

This script only orchestrates, so any python3 can run it.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKLOAD = os.path.join(HERE, "_scheduler_workload.py")

sys.path.insert(0, HERE)
from _common import cpu_description, md_escape, venv_python  # noqa: E402
sys.dont_write_bytecode = True
from _scheduler_workload import SCENARIOS  # noqa: E402  (metadata only, no apscheduler import)

SIDES = ("ref", "ours")

#: Seconds one measurement may take before its process is killed (full sizes).
TIMEOUTS = {
    "add_interval": 60,
    "add_cron": 60,
    "add_interval_error_listener": 60,
    "start_pending": 60,
    "burst_default": 120,
    "burst_nograce": 120,
    "date_10ms": 40,
    "interval_fanout": 60,
    "fanout_error_listener": 60,
    "memory_rss": 60,
    "memory_tracemalloc": 90,
    "idle": 30,
    "import": 60,
}

# Targets: ("ratio>=", x) ours/ref at least x; ("ratio<=", x) ours/ref at most x;
# ("max", x) ours at most x, in the row's unit; None: for information.
#
# (key, scenario, metric, label ({n}: size), unit, better, target)
ROWS = [
    ("add_interval", "add_interval", "rate",
     "add_job 'interval' x{n}, paused", "jobs/s", "higher", ("ratio>=", 10.0)),
    ("add_cron", "add_cron", "rate",
     "add_job 'cron' x{n}, paused", "jobs/s", "higher", ("ratio>=", 20.0)),
    ("add_error_listener", "add_interval_error_listener", "rate",
     "add_job 'interval' x{n}, an error listener", "jobs/s", "higher", None),
    ("start_pending", "start_pending", "seconds",
     "start() with {n} pending jobs", "s", "lower", ("ratio<=", 0.1)),
    ("burst_missed", "burst_default", "missed",
     "{n} due at once, grace 1 s: missed", "jobs", "lower", ("max", 0)),
    ("burst_rate", "burst_nograce", "rate",
     "{n} due at once, no grace: runs", "jobs/s", "higher", ("ratio>=", 10.0)),
    ("date_p50", "date_10ms", "p50_ms",
     "{n} date jobs 10 ms apart: lateness p50", "ms", "lower", None),
    ("date_p99", "date_10ms", "p99_ms",
     "{n} date jobs 10 ms apart: lateness p99", "ms", "lower", ("max", 0.5)),
    ("fanout_p50", "interval_fanout", "p50_ms",
     "{n} interval jobs each 1 s: lateness p50", "ms", "lower", None),
    ("fanout_p99", "interval_fanout", "p99_ms",
     "{n} interval jobs each 1 s: lateness p99", "ms", "lower", ("ratio<=", 0.1)),
    ("fanout_cpu", "interval_fanout", "cpu_us_per_run",
     "{n} interval jobs each 1 s: CPU per run", "us/run", "lower", ("ratio<=", 0.2)),
    ("fanout_error_p99", "fanout_error_listener", "p99_ms",
     "{n} interval jobs each 1 s, error listener: p99", "ms", "lower", None),
    ("fanout_error_cpu", "fanout_error_listener", "cpu_us_per_run",
     "{n} interval jobs each 1 s, error listener: CPU", "us/run", "lower", None),
    ("memory_rss", "memory_rss", "bytes_per_job",
     "memory per job, RSS, {n} jobs", "B/job", "lower", ("ratio<=", 1 / 3.0)),
    ("memory_tracemalloc", "memory_tracemalloc", "bytes_per_job",
     "memory per job, tracemalloc, {n} jobs", "B/job", "lower", None),
    ("idle_passes", "idle", "passes",
     "idle {n} s: scheduler passes", "count", "lower", ("max", 0)),
    ("idle_wakeups", "idle", "wakeups",
     "idle {n} s: other threads' wake-ups", "count", "lower", ("max", 0)),
    ("import", "import", "ms",
     "import schedulers.background (best of {n})", "ms", "lower", ("ratio<=", 1.0)),
]

#: Counters whose target is zero: ``--stat best`` shows their worst round.
WORST_OF_ROUNDS = ("missed", "passes", "wakeups")


# ---------------------------------------------------------------------------
# Running one measurement
# ---------------------------------------------------------------------------


def _stderr_tail(stream, limit=400):
    try:
        stream.seek(0)
        data = stream.read().decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""
    lines = data.splitlines()
    return lines[-1][-limit:] if lines else ""


def run_workload(python, args, timeout):
    """Run the workload once; returns its JSON reply or {"error": ...}."""
    command = [python, WORKLOAD] + args
    # Log records (missed runs, for one) can be plentiful: a file never fills up.
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=stderr, cwd=HERE, universal_newlines=True,
                                    start_new_session=(os.name == "posix"))
        except OSError as exc:
            return {"error": "cannot start %s: %s" % (python, exc)}
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return {"error": "no answer within %g s (killed)" % timeout}
        except KeyboardInterrupt:
            _kill(proc)
            raise
        lines = [line for line in out.splitlines() if line.strip()]
        if lines:
            try:
                return json.loads(lines[-1])
            except ValueError:
                pass
        tail = _stderr_tail(stderr)
        return {"error": "exited with code %s%s" % (proc.returncode, (": " + tail) if tail else "")}


def _kill(proc):
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)  # the process and the interpreters it started
        else:
            proc.kill()
    except OSError:
        pass
    proc.communicate()


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def fmt_value(value, unit):
    if value is None:
        return "error"
    if unit == "jobs/s":
        for scale, suffix in ((1e6, "M"), (1e3, "k")):
            if value >= scale:
                return "%.3g%s" % (value / scale, suffix)
        return "%.3g" % value
    if unit in ("jobs", "count", "B/job"):
        return "%d" % round(value)
    if value >= 100:
        return "%.0f" % value
    return "%.3g" % value


def fmt_ratio(value):
    if value is None:
        return "-"
    if value == 0:
        return "0x"
    if value >= 100:
        return "%.0fx" % value
    if value >= 10:
        return "%.1fx" % value
    if value >= 0.1:
        return "%.2fx" % value
    return "%.2gx" % value


def fmt_target(target, unit):
    if target is None:
        return "-"
    kind, value = target
    if kind == "ratio>=":
        return ">= %gx" % value
    if kind == "ratio<=":
        return "<= %.2gx" % value
    if value == 0:
        return "0"
    return "<= %g %s" % (value, unit)


def fmt_size(n):
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return "%d" % n


def describe_side(side, python, info):
    text = "%-4s %s: Python %s (%s)" % (side, python, info.get("python", "?"),
                                        info.get("implementation", "?"))
    if "import_error" in info:
        text += ", apscheduler NOT importable: " + info["import_error"]
    elif "error" in info:
        text += ", " + info["error"]
    else:
        text += ", apscheduler %s%s at %s" % (
            info.get("apscheduler_version") or "?",
            " [native core]" if info.get("native_core") else "",
            os.path.dirname(info.get("apscheduler_file") or "?"),
        )
    return text


def render_table(headers, rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join("---" if i < 2 else "---:" for i in range(len(headers))) + "|"]
        for row in rows:
            lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Compare the scheduler of the reference APScheduler and apscheduler-rs.")
    parser.add_argument("--ref", default=venv_python(".venv-ref"),
                        help="interpreter with the reference APScheduler (default: %(default)s)")
    parser.add_argument("--ours", default=venv_python(".venv"),
                        help="interpreter with apscheduler-rs (default: %(default)s)")
    parser.add_argument("--rounds", type=int,
                        help="measurements per scenario and side, alternating ref/ours "
                             "(default: 2, 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes (see --list) and one round")
    parser.add_argument("--stat", choices=("best", "median"), default="best",
                        help="how rounds are combined (default: best)")
    parser.add_argument("--only", action="append", default=[], metavar="SUBSTR",
                        help="run only the scenarios whose name, or a row's name, contains "
                             "SUBSTR (repeatable)")
    parser.add_argument("--timeout", type=float,
                        help="seconds one measurement may take before it is killed "
                             "(default: 30 to 120 depending on the scenario)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the results as a markdown table (progress goes to stderr)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw measurements to PATH")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target is missed")
    parser.add_argument("--list", action="store_true", help="list the scenarios and rows and exit")
    return parser.parse_args(argv)


def combine_rounds(values, metric, better, stat):
    if not values:
        return None
    if stat == "median":
        return statistics.median(values)
    if metric in WORST_OF_ROUNDS:
        return max(values)
    return max(values) if better == "higher" else min(values)


def judge(target, ref, ours):
    """(ratio, status) of one row."""
    ratio = ours / ref if (ref and ours is not None) else None
    if target is None:
        return ratio, "info"
    kind, value = target
    if kind == "max":
        ok = ours is not None and ours <= value
    elif ratio is None:
        ok = False
    elif kind == "ratio>=":
        ok = ratio >= value
    else:
        ok = ratio <= value
    return ratio, "PASS" if ok else "FAIL"


def main(argv=None):
    args = parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 2)
    if args.list:
        print("scenarios (full size, --quick size):")
        for name, (full, quick, description) in SCENARIOS.items():
            print("  %-20s %6d %6d  %s" % (name, full, quick, description))
        print("rows:")
        for key, scenario, metric, label, unit, better, target in ROWS:
            print("  %-20s %-20s %-8s target %s" % (key, scenario, unit, fmt_target(target, unit)))
        return 0

    scenarios = [name for name in SCENARIOS
                 if not args.only or any(
                     s in name or any(s in row[0] for row in ROWS if row[1] == name)
                     for s in args.only)]
    if not scenarios:
        print("no scenario matches --only %s" % args.only, file=sys.stderr)
        return 2

    pythons = {"ref": os.path.abspath(args.ref), "ours": os.path.abspath(args.ours)}
    for side in SIDES:
        path = pythons[side]
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            print("error: %s interpreter not found: %s (use --%s PATH)" % (side, path, side),
                  file=sys.stderr)
            return 2

    out = sys.stdout
    log = sys.stderr if args.markdown else sys.stdout
    started = time.time()
    infos = {side: run_workload(pythons[side], ["--info"], 60) for side in SIDES}
    sizes = {name: SCENARIOS[name][1 if args.quick else 0] for name in SCENARIOS}
    header = [
        "orchestrator: Python %s (%s)" % (platform.python_version(), sys.executable),
    ] + [describe_side(side, pythons[side], infos[side]) for side in SIDES] + [
        "machine: %s, %s %s" % (cpu_description(), platform.system(), platform.machine()),
        "%s sizes, %d round(s) per side, alternating ref/ours, a fresh process per "
        "measurement, %s of rounds" % ("quick" if args.quick else "full", rounds, args.stat),
    ]
    same = {infos[s].get("apscheduler_file") for s in SIDES}
    if len(same) == 1 and None not in same:
        header.append("WARNING: both interpreters import the same apscheduler package")
    if not args.markdown:
        for line in header:
            print(line, file=log)
        print(file=log)

    # raw[scenario][side] -> list of replies (one per round)
    raw = {name: {side: [] for side in SIDES} for name in scenarios}
    try:
        for name in scenarios:
            timeout = args.timeout or TIMEOUTS.get(name, 60)
            print("  measuring %-20s" % name, end="", file=log)
            log.flush()
            for _ in range(rounds):
                for side in SIDES:
                    if any("error" in r for r in raw[name][side]):
                        continue  # failed once: do not retry this side
                    reply = run_workload(pythons[side], [name, "--size", str(sizes[name])],
                                         timeout)
                    reply.pop("info", None)
                    raw[name][side].append(reply)
                print(".", end="", file=log)
                log.flush()
            print(file=log)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130

    headers = ["benchmark", "unit", "ref", "ours", "ours/ref", "target", "status"]
    rows = []
    notes = []
    missed = []
    summary = []
    for key, scenario, metric, label, unit, better, target in ROWS:
        if scenario not in raw:
            continue
        values = {}
        cells = {}
        errors = {}
        for side in SIDES:
            replies = raw[scenario][side]
            ok = [r["metrics"][metric] for r in replies
                  if metric in r.get("metrics", {})]
            bad = [r["error"] for r in replies if "error" in r]
            if not ok and not bad and replies:
                bad = ["metric %r not measured on this platform" % metric]
            values[side] = combine_rounds(ok, metric, better, args.stat)
            cells[side] = fmt_value(values[side], unit)
            if bad:
                errors[side] = bad[0]
                note = "%s (%s): %s" % (scenario, side, bad[0])
                if note not in notes:
                    notes.append(note)
                number = notes.index(note) + 1
                if values[side] is None:
                    cells[side] = "error [%d]" % number
                else:
                    cells[side] += " [%d]" % number
        ratio, status = judge(target, values["ref"], values["ours"])
        if status == "FAIL":
            missed.append(key)
        rows.append([label.format(n=fmt_size(sizes[scenario])), unit, cells["ref"], cells["ours"],
                     fmt_ratio(ratio), fmt_target(target, unit), status])
        summary.append({"name": key, "scenario": scenario, "metric": metric, "unit": unit,
                        "better": better, "target": target, "size": sizes[scenario],
                        "ref": values["ref"], "ours": values["ours"], "ratio": ratio,
                        "status": status, "errors": errors,
                        "rounds": {side: [r.get("metrics", {}).get(metric) for r in
                                          raw[scenario][side]] for side in SIDES}})

    if args.markdown:
        print("Environment:", file=out)
        print(file=out)
        for line in header:
            print("- " + md_escape(line), file=out)
        print(file=out)
    else:
        print(file=out)
    print(render_table(headers, rows, args.markdown), file=out)
    if notes:
        print(file=out)
        for i, note in enumerate(notes, 1):
            if args.markdown:
                print("%d. %s" % (i, md_escape(note)), file=out)
            else:
                print("[%d] %s" % (i, note), file=out)
    if not args.markdown:
        print(file=out)
        targeted = [s for s in summary if s["target"] is not None]
        met = ("%d/%d targets met" % (len(targeted) - len(missed), len(targeted))
               if targeted else "no targets in this selection")
        print("%s; finished in %.1f s" % (met, time.time() - started), file=out)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": header, "stat": args.stat, "rounds": rounds,
                       "quick": args.quick, "summary": summary, "raw": raw}, f, indent=2)

    if args.check and missed:
        print("targets missed: %s" % ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
