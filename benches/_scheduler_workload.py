"""Scheduler scenarios, executed by the interpreter under test.

``bench_scheduler.py`` runs this script once per measurement, in a fresh process
of the interpreter under test (the reference APScheduler or ours), so that one
scenario's threads, jobs and memory never leak into the next one::

    python benches/_scheduler_workload.py add_interval           # one JSON line
    python benches/_scheduler_workload.py burst_default --size 10000
    python benches/_scheduler_workload.py --list
    python benches/_scheduler_workload.py --info

Each scenario returns a few metrics (``"metrics"``) and some context that is
not compared (``"details"``).  Errors are reported in the JSON reply
(``"error"``) instead of a traceback, and every wait has a limit, so a scenario
that stalls reports how far it got.

Nothing here imports ``apscheduler`` at module level: the orchestrator imports
this module (with whatever Python runs it) only to read ``SCENARIOS``.
"""

import gc
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
import traceback

#: name -> (full size, quick size, description).  "size" is the number of jobs,
#: except for ``idle`` (seconds observed) and ``import`` (fresh interpreters).
SCENARIOS = {
    "add_interval": (
        20000, 5000,
        "add_job(noop, 'interval', seconds=5) to a started, paused BackgroundScheduler",
    ),
    "add_cron": (
        10000, 2000,
        "add_job(noop, 'cron', minute='*/5') to a started, paused BackgroundScheduler",
    ),
    "add_interval_error_listener": (
        20000, 5000,
        "add_interval with a listener for EVENT_JOB_ERROR registered (a common setup)",
    ),
    "start_pending": (
        50000, 10000,
        "start() of a BackgroundScheduler holding N pending interval jobs (added before start)",
    ),
    "burst_default": (
        50000, 10000,
        "N date jobs due at the same instant, default settings (misfire_grace_time=1, "
        "10 workers), no-op function; counts EVENT_JOB_MISSED",
    ),
    "burst_nograce": (
        50000, 10000,
        "N date jobs due at the same instant, misfire_grace_time=None, 10 workers; "
        "jobs/s from resume() to the last EVENT_JOB_EXECUTED",
    ),
    "date_10ms": (
        200, 50,
        "N date jobs 10 ms apart; start lateness of each run (function start - run date)",
    ),
    "interval_fanout": (
        2000, 500,
        "N interval jobs (seconds=1, same start_date) firing together for 5 s "
        "(3 s with --quick); start lateness and process CPU time per run",
    ),
    "fanout_error_listener": (
        2000, 500,
        "interval_fanout with a listener for EVENT_JOB_ERROR registered",
    ),
    "memory_rss": (
        50000, 10000,
        "RSS growth per job for N interval jobs added to the memory store",
    ),
    "memory_tracemalloc": (
        20000, 5000,
        "tracemalloc growth per job for N interval jobs (Python heap only)",
    ),
    "idle": (
        2, 1,
        "one date job due in an hour; scheduler passes and wake-ups of the other "
        "threads over N seconds after start",
    ),
    "import": (
        7, 3,
        "import apscheduler.schedulers.background in N fresh interpreters (best)",
    ),
}

#: Interval jobs fire every PERIOD seconds in ``interval_fanout``.
PERIOD = 1.0


class ScenarioError(Exception):
    """A scenario could not complete; ``details`` says how far it got."""

    def __init__(self, message, details=None):
        Exception.__init__(self, message)
        self.details = details or {}


def noop():
    pass


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _utc(ts):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc)


def _scheduler(**options):
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(**options)


def _sleep_until(ts):
    while True:
        left = ts - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 0.05) if left > 0.002 else left)


def _percentile(values, pct):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


def _rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _thread_switches():
    """tid -> context switches so far, for every thread but the main one (Linux)."""
    main = getattr(threading.main_thread(), "native_id", None)
    result = {}
    base = "/proc/self/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return None
    for tid in tids:
        if main is not None and int(tid) == main:
            continue
        total = 0
        try:
            with open(os.path.join(base, tid, "status")) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split(":", 1)[1])
        except (OSError, ValueError):
            continue
        result[tid] = total
    return result


def _add_rate(add, count):
    """Seconds per job for ``count`` calls of add() (a rough estimate)."""
    t0 = time.perf_counter()
    for _ in range(count):
        add()
    return (time.perf_counter() - t0) / count


# ---------------------------------------------------------------------------
# Scenarios: each takes the size and returns (metrics, details)
# ---------------------------------------------------------------------------


def _listen_for_errors(scheduler):
    from apscheduler.events import EVENT_JOB_ERROR

    scheduler.add_listener(lambda event: None, EVENT_JOB_ERROR)


def _timed_adds(size, kind, trigger_args, error_listener=False):
    scheduler = _scheduler()
    if error_listener:
        _listen_for_errors(scheduler)
    scheduler.start(paused=True)
    add = scheduler.add_job
    for _ in range(200):  # warm-up: lazy imports, caches
        add(noop, kind, **trigger_args)
    scheduler.remove_all_jobs()
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(size):
        add(noop, kind, **trigger_args)
    elapsed = time.perf_counter() - t0
    stored = len(scheduler.get_jobs())
    if stored != size:
        raise ScenarioError("%d jobs stored, %d added" % (stored, size))
    return {"rate": size / elapsed}, {"seconds": elapsed, "jobs": size}


def scenario_add_interval(size):
    return _timed_adds(size, "interval", {"seconds": 5})


def scenario_add_cron(size):
    return _timed_adds(size, "cron", {"minute": "*/5"})


def scenario_add_interval_error_listener(size):
    return _timed_adds(size, "interval", {"seconds": 5}, error_listener=True)


def scenario_start_pending(size):
    warm = _scheduler()  # lazy imports of start() paid outside the timed call
    warm.add_job(noop, "interval", seconds=5)
    warm.start(paused=True)
    warm.shutdown(wait=False)

    scheduler = _scheduler()
    for _ in range(size):
        scheduler.add_job(noop, "interval", seconds=5)
    gc.collect()
    t0 = time.perf_counter()
    scheduler.start()
    elapsed = time.perf_counter() - t0
    stored = len(scheduler.get_jobs())
    if stored != size:
        raise ScenarioError("%d jobs stored after start, %d pending" % (stored, size))
    return {"seconds": elapsed}, {"jobs": size}


def _burst(size, job_options, limit=60.0):
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    scheduler = _scheduler()
    executed = []
    missed = []
    errors = []
    finished = threading.Event()
    total = [0]
    lock = threading.Lock()

    def listener(event):
        now = time.perf_counter()
        if event.code == EVENT_JOB_EXECUTED:
            executed.append(now)
        elif event.code == EVENT_JOB_MISSED:
            missed.append(now)
        else:
            errors.append(now)
        with lock:
            total[0] += 1
            if total[0] == size:
                finished.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.start(paused=True)

    # Estimate how long the adds take, so that the common run date is still
    # ahead when the last job has been added.
    far = _utc(time.time() + 86400)

    def add_far():
        scheduler.add_job(noop, "date", run_date=far, **job_options)

    _add_rate(add_far, 200)  # warm-up
    per_job = _add_rate(add_far, 1000)
    scheduler.remove_all_jobs()
    gc.collect()
    run_date = _utc(time.time() + per_job * size * 1.5 + 0.3)
    due = run_date.timestamp()
    for _ in range(size):
        scheduler.add_job(noop, "date", run_date=run_date, **job_options)
    spare = due - time.time()
    _sleep_until(due)
    resume_lag = time.time() - due
    if resume_lag > 0.05:
        raise ScenarioError("adding the jobs overran their run date by %.0f ms"
                            % (resume_lag * 1000.0))
    t0 = time.perf_counter()
    scheduler.resume()
    completed = finished.wait(limit)
    details = {
        "jobs": size,
        "executed": len(executed),
        "missed": len(missed),
        "errors": len(errors),
        "spare_before_due_ms": spare * 1000.0,
        "resume_lag_ms": resume_lag * 1000.0,
    }
    if not completed:
        raise ScenarioError(
            "%d of %d runs reported within %.0f s" % (total[0], size, limit), details)
    details["seconds_to_last_event"] = max(executed + missed + errors) - t0
    return t0, executed, missed, details


def scenario_burst_default(size):
    t0, executed, missed, details = _burst(size, {})
    return {"missed": len(missed)}, details


def scenario_burst_nograce(size):
    t0, executed, missed, details = _burst(size, {"misfire_grace_time": None})
    if not executed:
        raise ScenarioError("no job was executed", details)
    details["seconds"] = max(executed) - t0
    return {"rate": len(executed) / details["seconds"]}, details


def scenario_date_10ms(size, spacing=0.010, limit=10.0):
    scheduler = _scheduler()
    lateness = []

    def record(scheduled):
        lateness.append(time.time() - scheduled)

    scheduler.start(paused=True)
    first = time.time() + 0.5
    for i in range(size):
        run_date = _utc(first + i * spacing)
        scheduler.add_job(record, "date", run_date=run_date, args=[run_date.timestamp()])
    scheduler.resume()
    deadline = first + size * spacing + limit
    while len(lateness) < size and time.time() < deadline:
        time.sleep(0.02)
    details = {"jobs": size, "runs": len(lateness)}
    if len(lateness) < size:
        raise ScenarioError("%d of %d jobs ran" % (len(lateness), size), details)
    ms = [x * 1000.0 for x in lateness]
    details["max_ms"] = max(ms)
    return {"p50_ms": _percentile(ms, 50), "p99_ms": _percentile(ms, 99)}, details


def scenario_interval_fanout(size, periods=None, error_listener=False):
    from apscheduler.triggers.interval import IntervalTrigger

    if periods is None:
        periods = 5 if size >= 1000 else 3
    scheduler = _scheduler()
    if error_listener:
        _listen_for_errors(scheduler)
    starts = []

    def record():
        starts.append(time.time())

    scheduler.start(paused=True)
    per_job = _add_rate(lambda: scheduler.add_job(noop, "interval", hours=1), 200)
    scheduler.remove_all_jobs()
    first = time.time() + per_job * size * 2.0 + 0.5
    start_date = _utc(first)
    first = start_date.timestamp()
    for _ in range(size):
        scheduler.add_job(record, IntervalTrigger(seconds=PERIOD, start_date=start_date))
    scheduler.resume()
    _sleep_until(first - 0.2)
    cpu0 = time.process_time()
    # Stop just before the firing that follows the last measured one.
    _sleep_until(first + periods * PERIOD - 0.1)
    cpu1 = time.process_time()
    runs = len(starts)
    scheduler.pause()
    expected = size * periods
    details = {"jobs": size, "firings": periods, "runs": runs, "expected_runs": expected}
    if runs == 0:
        raise ScenarioError("no job ran", details)
    # Every job has the same schedule, so a run belongs to the nearest firing.
    lateness = [(t - first - round((t - first) / PERIOD) * PERIOD) * 1000.0
                for t in starts[:runs]]
    details["max_ms"] = max(lateness)
    details["cpu_seconds"] = cpu1 - cpu0
    return {
        "p50_ms": _percentile(lateness, 50),
        "p99_ms": _percentile(lateness, 99),
        "cpu_us_per_run": (cpu1 - cpu0) / runs * 1e6,
    }, details


def scenario_fanout_error_listener(size):
    return scenario_interval_fanout(size, error_listener=True)


def _memory(size, tracing):
    import tracemalloc

    from apscheduler.jobstores.memory import MemoryJobStore

    scheduler = _scheduler(jobstores={"default": MemoryJobStore()})
    scheduler.start(paused=True)
    for _ in range(10):  # warm-up: lazy imports, caches
        scheduler.add_job(noop, "interval", seconds=5)
    scheduler.remove_all_jobs()
    gc.collect()
    if tracing:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
    else:
        before = _rss_bytes()
    for _ in range(size):
        scheduler.add_job(noop, "interval", seconds=5)
    gc.collect()
    if tracing:
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    else:
        after = _rss_bytes()
    stored = len(scheduler.get_jobs())
    if stored != size:
        raise ScenarioError("%d jobs stored, %d added" % (stored, size))
    return {"bytes_per_job": (after - before) / float(size)}, {
        "jobs": size, "bytes_total": after - before}


def scenario_memory_rss(size):
    return _memory(size, tracing=False)


def scenario_memory_tracemalloc(size):
    return _memory(size, tracing=True)


def scenario_idle(size):
    scheduler = _scheduler()
    passes = [0]
    process_jobs = scheduler._process_jobs

    def counting_process_jobs():
        passes[0] += 1
        return process_jobs()

    # Both packages call self._process_jobs() from the scheduler thread's loop.
    scheduler._process_jobs = counting_process_jobs
    scheduler.add_job(noop, "date", run_date=_utc(time.time() + 3600))
    scheduler.start()
    time.sleep(0.3)  # the first pass, made at start
    passes_at_start = passes[0]
    switches0 = _thread_switches()
    cpu0 = time.process_time()
    time.sleep(float(size))
    cpu1 = time.process_time()
    switches1 = _thread_switches()
    passes_after = passes[0] - passes_at_start
    details = {
        "seconds": float(size),
        "passes_at_start": passes_at_start,
        "threads": len(switches1 or ()),
        "cpu_ms": (cpu1 - cpu0) * 1000.0,
    }
    metrics = {"passes": passes_after}
    if switches0 is not None and switches1 is not None:
        metrics["wakeups"] = sum(switches1[t] - switches0[t] for t in switches1 if t in switches0)
    if passes_at_start == 0:
        raise ScenarioError("the scheduler made no pass at start", details)
    return metrics, details


IMPORT_CODE = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import apscheduler.schedulers.background\n"
    "print(time.perf_counter() - t0)\n"
)


def scenario_import(size):
    times = []
    for _ in range(size):
        done = subprocess.run(
            [sys.executable, "-I", "-c", IMPORT_CODE],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, cwd=os.path.abspath(os.sep), timeout=60,
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()
            raise ScenarioError("import failed: %s" % (tail[-1] if tail else done.returncode))
        times.append(float(done.stdout.strip()) * 1000.0)
    return {"ms": min(times)}, {"all_ms": times}


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def interpreter_info():
    info = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }
    try:
        import apscheduler

        info["apscheduler_file"] = getattr(apscheduler, "__file__", None)
        version = getattr(apscheduler, "__version__", None)
        if version is None:
            try:
                from importlib.metadata import version as dist_version

                for dist in ("apscheduler-rs", "APScheduler"):
                    try:
                        version = dist_version(dist) + " (" + dist + ")"
                        break
                    except Exception:
                        pass
            except ImportError:
                pass
        info["apscheduler_version"] = version
        try:
            import apscheduler._core  # noqa: F401

            info["native_core"] = True
        except ImportError:
            info["native_core"] = False
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        info["import_error"] = "%s: %s" % (type(exc).__name__, exc)
    return info


def run(name, size):
    """Run one scenario; never raises (errors are reported in the result)."""
    result = {"scenario": name, "size": size}
    try:
        function = globals().get("scenario_" + name)
        if function is None:
            raise KeyError("unknown scenario %r" % name)
        metrics, details = function(size)
        result["metrics"] = metrics
        result["details"] = details
    except KeyboardInterrupt:
        raise
    except ScenarioError as exc:
        result["error"] = str(exc)
        result["details"] = exc.details
    except BaseException as exc:  # native extensions may raise BaseException subclasses
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        result["traceback"] = traceback.format_exc(limit=8)
    return result


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", help="scenario to run")
    parser.add_argument("--size", type=int, help="jobs (seconds for idle, interpreters for import)")
    parser.add_argument("--quick", action="store_true", help="use the quick size")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--info", action="store_true", help="print the interpreter info and exit")
    args = parser.parse_args(argv)

    if args.list:
        for name, (full, quick, description) in SCENARIOS.items():
            print("%-20s %6d %6d  %s" % (name, full, quick, description))
        return 0
    if args.info:
        print(json.dumps(interpreter_info()))
        return 0
    if not args.scenario:
        parser.error("a scenario name is required (see --list)")
    if args.scenario not in SCENARIOS:
        parser.error("unknown scenario %r (see --list)" % args.scenario)

    full, quick, _ = SCENARIOS[args.scenario]
    size = args.size or (quick if args.quick else full)
    # Anything the scenario prints (log records included) goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr
    result = run(args.scenario, size)
    result["info"] = interpreter_info()
    out.write(json.dumps(result) + "\n")
    out.flush()
    sys.stderr.flush()
    # Skip the teardown of tens of thousands of jobs and of the scheduler threads.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
