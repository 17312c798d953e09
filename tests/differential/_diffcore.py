"""Case codec and evaluator shared by both sides of the differential test.

This module is imported twice: by ``reference_runner.py`` under the interpreter
that has the real APScheduler 3.11.3 installed, and in-process by the pytest
interpreter, where ``apscheduler`` is the package under test.  Both sides run
exactly the same code, so any difference in the produced result dictionaries
comes from the trigger implementations.

It must stay importable with nothing but the standard library (``pytz`` is
optional: cases that need it raise :class:`Unavailable` when it is missing).

Encoding of values inside a case (everything else is plain JSON)::

    {"$dt": "2021-03-14T02:30:00", "tz": TZSPEC or null, "fold": 0|1}
        a datetime; tz null means naive.  With a pytz zone the wall time is
        localised (``is_dst = fold == 0``) unless ``"replace": true`` is given,
        in which case ``dt.replace(tzinfo=zone)`` is used (the classic LMT
        mistake).
    {"$date": "2021-03-14"}       a date
    {"$tz": TZSPEC}               a tzinfo object
    {"$trigger": TRIGGERSPEC}     a trigger instance (for AndTrigger/OrTrigger)
    {"$obj": "object"}            a plain ``object()``
    {"$bytes": "text"}            ``text.encode()``

TZSPEC is one of ``"utc"`` (``datetime.timezone.utc``), ``"zoneinfo:NAME"``,
``"pytz:NAME"``, ``"pytzutc"``, ``"pytzfixed:+0130"``, ``"fixed:+0130"`` or
``"fixed:+0130:NAME"`` (``datetime.timezone`` with an explicit name).
"""

from __future__ import annotations

import base64
import importlib
import pickle
import sys
import time as _time
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)

TRIGGER_CLASSES = {
    "cron": ("apscheduler.triggers.cron", "CronTrigger"),
    "interval": ("apscheduler.triggers.interval", "IntervalTrigger"),
    "date": ("apscheduler.triggers.date", "DateTrigger"),
    "calendarinterval": (
        "apscheduler.triggers.calendarinterval",
        "CalendarIntervalTrigger",
    ),
    "and": ("apscheduler.triggers.combining", "AndTrigger"),
    "or": ("apscheduler.triggers.combining", "OrTrigger"),
}


class Unavailable(Exception):
    """The case needs a module that this interpreter does not have."""


# --------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------


def _pytz():
    try:
        import pytz
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise Unavailable("pytz is not installed in this interpreter") from exc
    return pytz


def parse_offset(text: str) -> timedelta:
    """``"+0130"`` -> ``timedelta(hours=1, minutes=30)``."""
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[3:5])
    seconds = int(text[5:7]) if len(text) > 5 else 0
    return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)


def make_tz(spec: str):
    if spec == "utc":
        return timezone.utc
    if spec == "pytzutc":
        return _pytz().utc
    kind, _, rest = spec.partition(":")
    if kind == "zoneinfo":
        from zoneinfo import ZoneInfo

        return ZoneInfo(rest)
    if kind == "pytz":
        return _pytz().timezone(rest)
    if kind == "pytzfixed":
        return _pytz().FixedOffset(int(parse_offset(rest).total_seconds()) // 60)
    if kind == "fixed":
        offset, _, name = rest.partition(":")
        if name:
            return timezone(parse_offset(offset), name)
        return timezone(parse_offset(offset))
    raise ValueError(f"unknown tz spec {spec!r}")


def make_dt(desc: dict) -> datetime:
    naive = datetime.fromisoformat(desc["$dt"])
    fold = desc.get("fold", 0)
    spec = desc.get("tz")
    if spec is None:
        return naive.replace(fold=fold)
    tz = make_tz(spec)
    if hasattr(tz, "localize") and not desc.get("replace"):
        return tz.localize(naive, is_dst=(fold == 0))
    return naive.replace(tzinfo=tz, fold=fold)


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$dt" in value:
            return make_dt(value)
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$tz" in value:
            return make_tz(value["$tz"])
        if "$trigger" in value:
            return build_trigger(value["$trigger"])
        if "$obj" in value:
            if value["$obj"] == "object":
                return object()
            raise ValueError(f"unknown object {value['$obj']!r}")
        if "$bytes" in value:
            return value["$bytes"].encode()
        return {k: decode(v) for k, v in value.items()}
    return value


def uses_pytz(value) -> bool:
    """Whether decoding ``value`` needs pytz."""
    if isinstance(value, list):
        return any(uses_pytz(v) for v in value)
    if isinstance(value, dict):
        return any(uses_pytz(v) for v in value.values())
    return isinstance(value, str) and value.startswith("pytz")


def trigger_class(kind: str):
    module_name, class_name = TRIGGER_CLASSES[kind]
    return getattr(importlib.import_module(module_name), class_name)


def build_trigger(spec: dict):
    cls = trigger_class(spec["type"])
    args = decode(spec.get("args", []))
    kwargs = decode(spec.get("kwargs", {}))
    if spec.get("ctor") == "from_crontab":
        return cls.from_crontab(*args, **kwargs)
    return cls(*args, **kwargs)


# --------------------------------------------------------------------------
# describing results
# --------------------------------------------------------------------------


def describe_exc(exc: BaseException) -> dict:
    return {"exc": type(exc).__name__, "msg": str(exc)}


def describe_tz(tz):
    if tz is None:
        return None
    cls = type(tz)
    prefix = f"{cls.__module__}.{cls.__qualname__}"
    if cls.__module__.startswith("pytz"):
        # pytz creates one class per zone; the repr names zone and offset
        return f"pytz:{tz!r}"
    key = getattr(tz, "key", None)
    if key is not None:
        return f"{prefix}:{key}"
    return f"{prefix}:{tz!r}"


def describe_dt(value):
    if value is None:
        return None
    cls = type(value)
    if isinstance(value, datetime):
        out = {
            "s": str(value),
            "tz": describe_tz(value.tzinfo),
            "fold": value.fold,
            "us": (value - EPOCH) // ONE_US if value.utcoffset() is not None else None,
        }
        if cls is not datetime:
            out["cls"] = f"{cls.__module__}.{cls.__qualname__}"
        return out
    if isinstance(value, date):
        return {"date": value.isoformat(), "cls": cls.__qualname__}
    return {"other": repr(value), "cls": f"{cls.__module__}.{cls.__qualname__}"}


def _safe(func):
    try:
        return func()
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        return describe_exc(exc)


def _get(obj, name, describe=repr):
    def get():
        return describe(getattr(obj, name))

    return _safe(get)


def describe_attrs(trigger) -> dict:
    cls = type(trigger)
    out = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    name = cls.__name__
    if name == "CronTrigger":
        out["timezone"] = _get(trigger, "timezone", describe_tz)
        out["start_date"] = _get(trigger, "start_date", describe_dt)
        out["end_date"] = _get(trigger, "end_date", describe_dt)
        out["jitter"] = _get(trigger, "jitter")

        def fields():
            return [
                [f.name, type(f).__name__, str(f), f.is_default, repr(f)]
                for f in trigger.fields
            ]

        out["fields"] = _safe(fields)
    elif name == "IntervalTrigger":
        out["interval"] = _get(trigger, "interval")
        out["interval_length"] = _get(trigger, "interval_length")
        out["timezone"] = _get(trigger, "timezone", describe_tz)
        out["start_date"] = _get(trigger, "start_date", describe_dt)
        out["end_date"] = _get(trigger, "end_date", describe_dt)
        out["jitter"] = _get(trigger, "jitter")
    elif name == "DateTrigger":
        out["run_date"] = _get(trigger, "run_date", describe_dt)
    elif name == "CalendarIntervalTrigger":
        for attr in ("years", "months", "weeks", "days", "jitter"):
            out[attr] = _get(trigger, attr)
        out["timezone"] = _get(trigger, "timezone", describe_tz)
        out["start_date"] = _get(trigger, "start_date", describe_dt)
        out["end_date"] = _get(trigger, "end_date", describe_dt)
    elif name in ("AndTrigger", "OrTrigger"):
        out["triggers"] = _safe(lambda: [type(t).__name__ for t in trigger.triggers])
        out["jitter"] = _get(trigger, "jitter")
    return out


def describe_state(trigger) -> dict:
    def shape():
        state = trigger.__getstate__()
        if not isinstance(state, dict):
            return {"type": type(state).__name__}
        out = {
            "keys": sorted(state),
            "version": state.get("version"),
            "types": {k: type(v).__name__ for k, v in sorted(state.items())},
        }
        if isinstance(state.get("triggers"), list):
            out["refs"] = [
                item[0] if isinstance(item, tuple) else type(item).__name__
                for item in state["triggers"]
            ]
        return out

    return _safe(shape)


# --------------------------------------------------------------------------
# evaluating
# --------------------------------------------------------------------------


def _shift(value: datetime, microseconds: int, tz_spec):
    moved = value.astimezone(UTC) + timedelta(microseconds=microseconds)
    if tz_spec:
        return moved.astimezone(make_tz(tz_spec))
    return moved


def run_calls(trigger, calls: dict) -> list:
    """Evaluates ``get_next_fire_time`` as described by ``calls``."""
    mode = calls["mode"]
    out = []
    if mode == "none":
        return out

    def step(prev, now):
        try:
            result = trigger.get_next_fire_time(prev, now)
        except Exception as exc:  # noqa: BLE001 - recorded and compared
            out.append(describe_exc(exc))
            return None
        out.append(describe_dt(result))
        return result if isinstance(result, datetime) else None

    if mode == "pairs":
        for prev, now in calls["pairs"]:
            step(decode(prev), decode(now))
        return out

    now = decode(calls["now"])
    prev = None
    for i in range(calls["n"]):
        result = step(prev, now)
        if result is None:
            break
        if mode == "chain":
            prev = now = result
        elif mode == "lag":
            prev = result
            now = _shift(result, calls["lags_us"][i], calls.get("now_tz"))
        elif mode == "none_chain":
            now = _shift(result, calls.get("step_us", 1), calls.get("now_tz"))
        else:
            raise ValueError(f"unknown call mode {mode!r}")
    return out


def evaluate_case(case: dict, export_pickle: bool = False) -> dict:
    """Builds the trigger of ``case`` and evaluates everything that is compared.

    Keys starting with an underscore are informational and never compared.
    """
    started = _time.perf_counter()
    result: dict = {}
    try:
        trigger = build_trigger(case["trigger"])
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        result["error"] = describe_exc(exc)
        result["_elapsed"] = _time.perf_counter() - started
        return result

    result["str"] = _safe(lambda: str(trigger))
    result["repr"] = _safe(lambda: repr(trigger))
    result["attrs"] = describe_attrs(trigger)
    result["state"] = describe_state(trigger)
    result["fires"] = run_calls(trigger, case["calls"])

    if case.get("pickle", True):
        try:
            blob = pickle.dumps(trigger)
            copy = pickle.loads(blob)
        except Exception as exc:  # noqa: BLE001 - recorded and compared
            result["pickled"] = describe_exc(exc)
        else:
            result["pickled"] = evaluate_loaded(copy, case)
            if export_pickle and case.get("xpickle"):
                result["_pickle_b64"] = base64.b64encode(blob).decode("ascii")

    result["_elapsed"] = _time.perf_counter() - started
    return result


def evaluate_loaded(trigger, case: dict) -> dict:
    """What is compared for a trigger that came out of ``pickle.loads``."""
    return {
        "str": _safe(lambda: str(trigger)),
        "repr": _safe(lambda: repr(trigger)),
        "state": describe_state(trigger),
        "fires": run_calls(trigger, case["calls"]),
    }


def evaluate_pickle_blob(blob_b64: str, case: dict) -> dict:
    try:
        trigger = pickle.loads(base64.b64decode(blob_b64))
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        return describe_exc(exc)
    return evaluate_loaded(trigger, case)


#: protocols our triggers are pickled with when the reference is to load them:
#: the highest is what most 3.x job stores use by default (``pickle_protocol``),
#: 2 a conservative setting that encodes objects differently (``datetime``
#: pickles below protocol 4 have no ``fold``)
DUMP_PROTOCOLS = tuple(sorted({2, pickle.HIGHEST_PROTOCOL}))


def dump_pickles(case: dict):
    """Pickles of the trigger of ``case``, made by this interpreter's package.

    Returns ``{str(protocol): base64 text}``, with an exception description in
    place of the text where ``pickle.dumps`` fails, or None if the trigger
    cannot be built at all (that is compared by the ordinary tests).
    """
    try:
        trigger = build_trigger(case["trigger"])
    except Unavailable:
        raise
    except Exception:  # noqa: BLE001 - not this function's business
        return None
    out = {}
    for protocol in DUMP_PROTOCOLS:
        try:
            blob = pickle.dumps(trigger, protocol=protocol)
        except Exception as exc:  # noqa: BLE001 - recorded and compared
            out[str(protocol)] = describe_exc(exc)
        else:
            out[str(protocol)] = base64.b64encode(blob).decode("ascii")
    return out


def evaluate_roundtrip(case: dict, protocol: int):
    """``evaluate_loaded`` of ``pickle.loads(pickle.dumps(trigger, protocol))``.

    The baseline for another package's pickle written with the same protocol:
    below protocol 4, for one, ``datetime`` pickles drop ``fold``.
    """
    try:
        trigger = build_trigger(case["trigger"])
        blob = pickle.dumps(trigger, protocol=protocol)
        copy = pickle.loads(blob)
    except Unavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        return describe_exc(exc)
    return evaluate_loaded(copy, case)


def environment_info() -> dict:
    """Facts about this interpreter that can explain legitimate differences."""
    import zoneinfo

    info = {
        "python": "%d.%d" % sys.version_info[:2],
        "tzpath": list(zoneinfo.TZPATH),
    }
    try:
        import importlib.metadata as md

        info["tzdata_pkg"] = md.version("tzdata")
    except Exception:  # noqa: BLE001
        info["tzdata_pkg"] = None
    for directory in zoneinfo.TZPATH:
        try:
            with open(f"{directory}/tzdata.zi", encoding="utf-8") as f:
                info["tzdata_zi"] = f.readline().strip()
            break
        except OSError:
            continue
    try:
        import pytz

        info["pytz"] = pytz.OLSON_VERSION
    except ImportError:
        info["pytz"] = None
    return info
