"""Trigger micro-benchmarks, executed by the interpreter under test.

``bench_triggers.py`` starts this script once per interpreter (the reference
APScheduler and ours) in ``--serve`` mode and sends it one request per
measurement, so both sides run the exact same code.  It can also be run on its
own::

    python benches/_trigger_workload.py                 # all benchmarks, JSON on stdout
    python benches/_trigger_workload.py --only cron --seconds 0.5
    python benches/_trigger_workload.py --list

Nothing here imports ``apscheduler`` at module level: the orchestrator imports
this module (with whatever Python runs it) only to read ``BENCHMARKS``.

Keep the syntax compatible with old Python 3 releases for that reason.
"""

import gc
import json
import math
import os
import platform
import sys
import time
import traceback

TZ_NAME = "Europe/Berlin"

#: How many chained calls are made before the chain restarts from the first
#: fire time, so fast implementations do not run towards ``datetime.max``.
DEFAULT_BLOCK = 2000

#: (name, label, target ratio ours/ref or None, description)
BENCHMARKS = [
    (
        "cron_lastfri_chain",
        "cron last fri */3 15,45: chained next",
        30.0,
        "CronTrigger(day='last fri', hour='*/3', minute='15,45', "
        "timezone='Europe/Berlin'); t = get_next_fire_time(t, t) repeatedly",
    ),
    (
        "crontab_5min_chain",
        "from_crontab */5 * * * *: chained next",
        30.0,
        "CronTrigger.from_crontab('*/5 * * * *', timezone='Europe/Berlin'); "
        "t = get_next_fire_time(t, t) repeatedly",
    ),
    (
        "cron_lastfri_new_str",
        "construct cron last fri (tz str)",
        20.0,
        "CronTrigger(day='last fri', hour='*/3', minute='15,45', "
        "timezone='Europe/Berlin')",
    ),
    (
        "cron_lastfri_new_zi",
        "construct cron last fri (ZoneInfo)",
        20.0,
        "CronTrigger(day='last fri', hour='*/3', minute='15,45', "
        "timezone=ZoneInfo('Europe/Berlin'))",
    ),
    (
        "interval_37s_chain",
        "interval 37s: chained next",
        None,
        "IntervalTrigger(seconds=37, start_date=<start>, "
        "timezone='Europe/Berlin'); chained",
    ),
    (
        "calinterval_1mo_chain",
        "calendarinterval 1 month: chained next",
        None,
        "CalendarIntervalTrigger(months=1, hour=9, minute=30, "
        "start_date=date(2025, 1, 15), timezone='Europe/Berlin'); chained",
    ),
    (
        "or_2cron_chain",
        "OrTrigger of 2 crons: chained next",
        None,
        "OrTrigger([CronTrigger(day_of_week='mon-fri', hour=9, minute=30), "
        "CronTrigger(day='last fri', hour='*/3', minute='15,45')]), both in "
        "Europe/Berlin; chained",
    ),
    (
        "crontab_5min_new",
        "construct from_crontab */5 * * * *",
        None,
        "CronTrigger.from_crontab('*/5 * * * *') (local time zone)",
    ),
]

BENCHMARK_NAMES = [b[0] for b in BENCHMARKS]

#: Number of fire times (or reprs) returned per benchmark so the orchestrator
#: can check that both implementations computed the same thing.
SAMPLE_SIZE = 8


# ---------------------------------------------------------------------------
# Benchmark bodies.  Each factory returns (run, sample):
#   run(n)   -> elapsed seconds for exactly n operations
#   sample() -> list of strings describing the results (not timed)
# ---------------------------------------------------------------------------


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ_NAME)


def _start():
    from datetime import datetime

    return datetime(2025, 1, 1, 0, 0, tzinfo=_zone())


def _fmt(value):
    if value is None:
        return "None"
    try:
        return value.isoformat()
    except AttributeError:
        return repr(value)


def _chain(trigger, block=DEFAULT_BLOCK):
    start = _start()
    first = trigger.get_next_fire_time(None, start)
    if first is None:
        raise RuntimeError("trigger has no fire time after %s" % start.isoformat())
    get = trigger.get_next_fire_time

    def run(n):
        done = 0
        t0 = time.perf_counter()
        while done < n:
            k = block if n - done > block else n - done
            t = first
            for _ in range(k):
                t = get(t, t)
            if t is None:
                raise RuntimeError("trigger chain ended within %d steps" % k)
            done += k
        return time.perf_counter() - t0

    def sample():
        out = [_fmt(first)]
        t = first
        for _ in range(SAMPLE_SIZE - 1):
            t = get(t, t)
            out.append(_fmt(t))
            if t is None:
                break
        return out

    return run, sample


def _construct(make):
    def run(n):
        t0 = time.perf_counter()
        for _ in range(n):
            make()
        return time.perf_counter() - t0

    def sample():
        trigger = make()
        return [repr(trigger), str(trigger), _fmt(trigger.get_next_fire_time(None, _start()))]

    return run, sample


def _lastfri(timezone):
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day="last fri", hour="*/3", minute="15,45", timezone=timezone)


def bench_cron_lastfri_chain():
    return _chain(_lastfri(TZ_NAME))


def bench_crontab_5min_chain():
    from apscheduler.triggers.cron import CronTrigger

    return _chain(CronTrigger.from_crontab("*/5 * * * *", timezone=TZ_NAME))


def bench_cron_lastfri_new_str():
    from apscheduler.triggers.cron import CronTrigger

    def make():
        return CronTrigger(day="last fri", hour="*/3", minute="15,45", timezone="Europe/Berlin")

    return _construct(make)


def bench_cron_lastfri_new_zi():
    from apscheduler.triggers.cron import CronTrigger

    zone = _zone()

    def make():
        return CronTrigger(day="last fri", hour="*/3", minute="15,45", timezone=zone)

    return _construct(make)


def bench_interval_37s_chain():
    from apscheduler.triggers.interval import IntervalTrigger

    return _chain(IntervalTrigger(seconds=37, start_date=_start(), timezone=TZ_NAME))


def bench_calinterval_1mo_chain():
    from datetime import date

    from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger

    trigger = CalendarIntervalTrigger(
        months=1, hour=9, minute=30, start_date=date(2025, 1, 15), timezone=TZ_NAME
    )
    # 600 months = 50 years per block; keeps the chain well inside datetime's range.
    return _chain(trigger, block=600)


def bench_or_2cron_chain():
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    trigger = OrTrigger(
        [
            CronTrigger(day_of_week="mon-fri", hour=9, minute=30, timezone=TZ_NAME),
            _lastfri(TZ_NAME),
        ]
    )
    return _chain(trigger)


def bench_crontab_5min_new():
    from apscheduler.triggers.cron import CronTrigger

    def make():
        return CronTrigger.from_crontab("*/5 * * * *")

    return _construct(make)


# ---------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------


def _timed(run, n):
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        return run(n)
    finally:
        if gc_was_enabled:
            gc.enable()


def measure(name, seconds):
    """Measure one benchmark; never raises (errors are reported in the result)."""
    result = {"bench": name}
    try:
        factory = globals().get("bench_" + name)
        if factory is None:
            raise KeyError("unknown benchmark %r" % name)
        run, sample = factory()
        result["sample"] = sample()

        # Calibrate: grow n until a run takes a measurable share of the budget
        # (this doubles as warm-up), then size the real run to `seconds`.
        n = 1
        elapsed = _timed(run, n)
        while elapsed < seconds * 0.1 and n < 10 ** 9:
            if elapsed <= 0:
                factor = 10.0
            else:
                factor = min(10.0, max(2.0, seconds * 0.15 / elapsed))
            n = int(math.ceil(n * factor))
            elapsed = _timed(run, n)
        n = max(1, int(math.ceil(n * seconds / max(elapsed, 1e-9))))
        elapsed = _timed(run, n)

        result["iterations"] = n
        result["seconds"] = elapsed
        result["ops_per_sec"] = n / elapsed if elapsed > 0 else float("inf")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # native extensions may raise BaseException subclasses
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        result["traceback"] = traceback.format_exc(limit=8)
    return result


def interpreter_info():
    info = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "pid": os.getpid(),
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


def serve():
    """Line protocol: one JSON request per stdin line, one JSON reply per line.

    Requests: {"bench": name, "seconds": float} or {"cmd": "quit"}.
    The first line written is the interpreter info.  Anything the benchmarked
    code prints goes to stderr so it cannot corrupt the protocol.
    """
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    reply({"hello": interpreter_info()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            reply({"error": "bad request: %s" % exc})
            continue
        if request.get("cmd") == "quit":
            break
        reply(measure(request.get("bench", ""), float(request.get("seconds", 0.3))))


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="run the line protocol on stdin/stdout")
    parser.add_argument("--seconds", type=float, default=0.3, help="target time per measurement")
    parser.add_argument("--only", action="append", default=[], metavar="SUBSTR",
                        help="run only benchmarks whose name contains SUBSTR (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    if args.serve:
        serve()
        return 0
    if args.list:
        for name, label, target, description in BENCHMARKS:
            print("%-24s %s" % (name, description))
        return 0

    names = [n for n in BENCHMARK_NAMES if not args.only or any(s in n for s in args.only)]
    report = {"info": interpreter_info(), "results": [measure(n, args.seconds) for n in names]}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
