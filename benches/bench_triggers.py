#!/usr/bin/env python3
"""Compare trigger performance: reference APScheduler vs apscheduler-rs.

Runs the micro-benchmarks of ``_trigger_workload.py`` under two interpreters
(the reference APScheduler and ours), alternating ref/ours for every
measurement over several rounds, and prints ops/s for both, the ratio
ours/ref and whether the target ratio is reached.

    python benches/bench_triggers.py
    python benches/bench_triggers.py --ref .venv-ref/bin/python --ours .venv/bin/python
    python benches/bench_triggers.py --markdown > results.md
    python benches/bench_triggers.py --check     # exit 1 when a target is missed

This script only orchestrates, so any python3 can run it.
"""

import argparse
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
WORKLOAD = os.path.join(HERE, "_trigger_workload.py")

sys.path.insert(0, HERE)
from _common import cpu_description, md_escape, venv_python  # noqa: E402
sys.dont_write_bytecode = True
from _trigger_workload import BENCHMARKS  # noqa: E402  (metadata only, no apscheduler import)

SIDES = ("ref", "ours")


# ---------------------------------------------------------------------------
# Worker process handling
# ---------------------------------------------------------------------------


class WorkerError(Exception):
    pass


class Worker(object):
    """A long-lived ``_trigger_workload.py --serve`` process for one interpreter."""

    def __init__(self, side, python):
        self.side = side
        self.python = python
        self.proc = None
        self.info = None
        self._lines = None
        self._stderr = None

    def start(self):
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [self.python, WORKLOAD, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=HERE,
            universal_newlines=True,
            bufsize=1,
        )
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True).start()
        hello = self._read(timeout=60)
        self.info = hello.get("hello", {})

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.put(line)
        lines.put(None)

    def stderr_tail(self, limit=600):
        if self._stderr is None:
            return ""
        try:
            self._stderr.seek(0)
            data = self._stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""
        return data[-limit:]

    def _read(self, timeout):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.stop(kill=True)
            raise WorkerError("no answer within %.0f s (worker killed)" % timeout)
        if line is None:
            self.proc.wait()
            tail = self.stderr_tail()
            raise WorkerError("worker exited with code %s%s" % (
                self.proc.returncode, (": " + tail.splitlines()[-1]) if tail else ""))
        try:
            return json.loads(line)
        except ValueError:
            raise WorkerError("unreadable worker output: %r" % line[:200])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def measure(self, bench, seconds, timeout):
        if not self.alive():
            self.start()
        try:
            self.proc.stdin.write(json.dumps({"bench": bench, "seconds": seconds}) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise WorkerError("cannot talk to worker: %s" % exc)
        return self._read(timeout=timeout)

    def stop(self, kill=False):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if not kill:
                try:
                    self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                    self.proc.stdin.flush()
                    self.proc.wait(timeout=5)
                except (OSError, ValueError, subprocess.TimeoutExpired):
                    pass
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def fmt_ops(value):
    if value is None:
        return "error"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return "%.3g%s" % (value / scale, suffix)
    return "%.3g" % value


def fmt_ratio(value):
    if value is None:
        return "-"
    if value >= 100:
        return "%.0fx" % value
    if value >= 10:
        return "%.1fx" % value
    return "%.2fx" % value


def describe_side(side, worker):
    info = worker.info or {}
    text = "%-4s %s: Python %s (%s)" % (side, worker.python, info.get("python", "?"),
                                        info.get("implementation", "?"))
    if "import_error" in info:
        text += ", apscheduler NOT importable: " + info["import_error"]
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
                 "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        for row in rows:
            lines.append("| " + " | ".join(md_escape(c) for c in row) + " |")
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Compare trigger throughput of the reference APScheduler and apscheduler-rs.")
    parser.add_argument("--ref", default=venv_python(".venv-ref"),
                        help="interpreter with the reference APScheduler (default: %(default)s)")
    parser.add_argument("--ours", default=venv_python(".venv"),
                        help="interpreter with apscheduler-rs (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per benchmark and side, alternating ref/ours (default: 3)")
    parser.add_argument("--seconds", type=float, default=0.3,
                        help="target duration of one measurement (default: 0.3)")
    parser.add_argument("--stat", choices=("best", "median"), default="best",
                        help="how rounds are combined (default: best)")
    parser.add_argument("--only", action="append", default=[], metavar="SUBSTR",
                        help="run only benchmarks whose name contains SUBSTR (repeatable)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for one measurement before killing the worker "
                             "(default: %(default)s)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the results as a markdown table (progress goes to stderr)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw measurements to PATH")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 when a target ratio is missed")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for name, label, target, description in BENCHMARKS:
            print("%-24s %-8s %s" % (name, ("target %gx" % target) if target else "info", description))
        return 0

    benches = [b for b in BENCHMARKS if not args.only or any(s in b[0] for s in args.only)]
    if not benches:
        print("no benchmark matches --only %s" % args.only, file=sys.stderr)
        return 2

    # Workers run with benches/ as their working directory, so resolve relative paths now.
    pythons = {"ref": os.path.abspath(args.ref), "ours": os.path.abspath(args.ours)}
    for side in SIDES:
        path = pythons[side]
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            print("error: %s interpreter not found: %s (use --%s PATH)" % (side, path, side),
                  file=sys.stderr)
            return 2

    out = sys.stdout
    log = sys.stderr if args.markdown else sys.stdout
    workers = {side: Worker(side, pythons[side]) for side in SIDES}
    # raw[name][side] -> list of result dicts (one per round)
    raw = {b[0]: {side: [] for side in SIDES} for b in benches}
    started = time.time()
    try:
        for side in SIDES:
            try:
                workers[side].start()
            except (OSError, WorkerError) as exc:
                print("error: cannot start the %s interpreter %s: %s"
                      % (side, pythons[side], exc), file=sys.stderr)
                return 2

        header = [
            "orchestrator: Python %s (%s)" % (platform.python_version(), sys.executable),
        ] + [describe_side(side, workers[side]) for side in SIDES] + [
            "machine: %s, %s %s" % (cpu_description(), platform.system(), platform.machine()),
            "%d round(s) per side, alternating ref/ours, ~%.2g s per measurement, %s of rounds"
            % (args.rounds, args.seconds, args.stat),
        ]
        same = {workers[s].info.get("apscheduler_file") for s in SIDES}
        if len(same) == 1 and None not in same:
            header.append("WARNING: both interpreters import the same apscheduler package")
        if not args.markdown:
            for line in header:
                print(line, file=log)
            print(file=log)

        for name, label, target, description in benches:
            print("  measuring %-24s" % name, end="", file=log)
            log.flush()
            for _ in range(args.rounds):
                for side in SIDES:
                    if any("error" in r for r in raw[name][side]):
                        continue  # failed once: do not retry this side
                    try:
                        result = workers[side].measure(name, args.seconds, args.timeout)
                    except WorkerError as exc:
                        result = {"bench": name, "error": str(exc)}
                    raw[name][side].append(result)
                print(".", end="", file=log)
                log.flush()
            print(file=log)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        for worker in workers.values():
            worker.stop()

    combine = max if args.stat == "best" else statistics.median
    headers = ["benchmark", "ref ops/s", "ours ops/s", "ours/ref", "target", "status"]
    rows = []
    notes = []
    missed = []
    summary = []
    for name, label, target, description in benches:
        values = {}
        errors = {}
        for side in SIDES:
            ok = [r["ops_per_sec"] for r in raw[name][side] if "ops_per_sec" in r]
            bad = [r["error"] for r in raw[name][side] if "error" in r]
            values[side] = combine(ok) if ok else None
            if bad:
                errors[side] = bad[0]
        cells = {}
        for side in SIDES:
            cells[side] = fmt_ops(values[side])
            if side in errors:
                notes.append("%s (%s): %s" % (name, side, errors[side]))
                if values[side] is not None:
                    cells[side] += " [%d]" % len(notes)
                else:
                    cells[side] = "error [%d]" % len(notes)
        ratio = None
        if values["ref"] and values["ours"] is not None:
            ratio = values["ours"] / values["ref"]
        if target is None:
            status = "info"
        elif ratio is None:
            status = "FAIL"
        else:
            status = "PASS" if ratio >= target else "FAIL"
        if status == "FAIL":
            missed.append(name)

        samples = {side: next((r.get("sample") for r in raw[name][side] if "sample" in r), None)
                   for side in SIDES}
        if samples["ref"] is not None and samples["ours"] is not None and samples["ref"] != samples["ours"]:
            first_diff = next((i for i, (a, b) in enumerate(zip(samples["ref"], samples["ours"]))
                               if a != b), min(len(samples["ref"]), len(samples["ours"])))
            pick = lambda s: s[first_diff] if first_diff < len(s) else "<missing>"  # noqa: E731
            notes.append("%s: results differ (item %d: ref %s, ours %s)"
                         % (name, first_diff, pick(samples["ref"]), pick(samples["ours"])))
            status += ", differs [%d]" % len(notes)

        rows.append([label, cells["ref"], cells["ours"], fmt_ratio(ratio),
                     (">= %gx" % target) if target else "-", status])
        summary.append({"name": name, "label": label, "description": description, "target": target,
                        "ref_ops_per_sec": values["ref"], "ours_ops_per_sec": values["ours"],
                        "ratio": ratio, "status": status.split(",")[0], "errors": errors,
                        "results_differ": "differs" in status})

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
            json.dump({"environment": header, "stat": args.stat, "summary": summary, "raw": raw},
                      f, indent=2)

    if args.check and missed:
        print("targets missed: %s" % ", ".join(missed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
