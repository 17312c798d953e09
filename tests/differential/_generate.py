"""Deterministic generation of differential trigger cases.

Every group of cases is produced by ``random.Random(f"{kind}:{seed}")``, so
the same group always yields the same cases (as long as the system time zone
database is the same: DST transitions are located with :mod:`zoneinfo`).

A case is a JSON-serialisable dict::

    {
      "id": "cron-s0-0042",
      "trigger": {"type": "cron", "ctor": "init"|"from_crontab",
                  "args": [...], "kwargs": {...}},
      "calls": {"mode": "chain"|"lag"|"none_chain"|"pairs"|"none", ...},
      "pickle": true,      # also evaluate pickle.loads(pickle.dumps(trigger))
      "xpickle": false     # also load the reference's pickle in our package
    }

See ``_diffcore`` for the value encoding.
"""

from __future__ import annotations

import random
from calendar import monthrange
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

UTC = timezone.utc

DST_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Asia/Tehran",
    "Europe/Berlin",
]
OTHER_ZONES = ["UTC", "Asia/Kolkata"]
ZONES = DST_ZONES + OTHER_ZONES
FIXED_OFFSETS = ["+0130", "-0330", "+0545", "-1200", "+1400", "+0000", "-0100", "+0530"]

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
POSITIONS = ["1st", "2nd", "3rd", "4th", "5th", "last"]
FIELD_NAMES = ["year", "month", "day", "week", "day_of_week", "hour", "minute", "second"]
MIN_VALUES = {"year": 1970, "month": 1, "day": 1, "week": 1, "day_of_week": 0,
              "hour": 0, "minute": 0, "second": 0}
MAX_VALUES = {"year": 9999, "month": 12, "day": 31, "week": 53, "day_of_week": 6,
              "hour": 23, "minute": 59, "second": 59}
DEFAULT_PREDS = {"year": "*", "month": 1, "day": 1, "week": "*", "day_of_week": "*",
                 "hour": 0, "minute": 0, "second": 0}
DATE_FIELDS = ["year", "month", "day", "week", "day_of_week"]

# ---------------------------------------------------------------------------
# time zones and datetimes
# ---------------------------------------------------------------------------


def _offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[3:5]))


def zone_tz(zone: str):
    """The tzinfo used by the generator to compute wall times for ``zone``."""
    if zone[0] in "+-":
        return timezone(_offset(zone))
    return ZoneInfo(zone)


@lru_cache(maxsize=None)
def transitions(zone: str, year: int):
    """UTC offset changes of ``zone`` during ``year``: ``[(instant, before, after)]``."""
    if zone[0] in "+-":
        return []
    tz = ZoneInfo(zone)
    start = datetime(year, 1, 1, tzinfo=UTC)
    out = []
    prev_t = start
    prev_off = prev_t.astimezone(tz).utcoffset()
    for days in range(1, 367):
        t = start + timedelta(days=days)
        off = t.astimezone(tz).utcoffset()
        if off != prev_off:
            lo, hi = prev_t, t
            while hi - lo > timedelta(seconds=1):
                mid = lo + timedelta(seconds=int((hi - lo).total_seconds()) // 2)
                if mid.astimezone(tz).utcoffset() == prev_off:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, prev_off, off))
        prev_t, prev_off = t, off
    return out


YEAR_BUCKETS = [
    ((1970, 1979), 2),
    ((1980, 1999), 2),
    ((2000, 2025), 4),
    ((2026, 2037), 3),
    ((2038, 2045), 2),
    ((2046, 2100), 2),
]


def rand_year(rng: random.Random) -> int:
    (lo, hi), = rng.choices([b for b, _ in YEAR_BUCKETS], [w for _, w in YEAR_BUCKETS])
    return rng.randint(lo, hi)


def pick_transition(rng: random.Random, zone: str):
    for _ in range(12):
        found = transitions(zone, rand_year(rng))
        if found:
            return rng.choice(found)
    return None


def rand_instant(rng: random.Random, year: int | None = None) -> datetime:
    year = year or rand_year(rng)
    start = datetime(year, 1, 1, tzinfo=UTC)
    if year == 1970:
        start += timedelta(days=2)
    value = start + timedelta(seconds=rng.randrange(360 * 86400))
    style = rng.random()
    if style < 0.25:
        value += timedelta(microseconds=rng.randrange(1, 1_000_000))
    elif style < 0.5:
        value = value.replace(second=0)
    elif style < 0.6:
        value = value.replace(minute=0, second=0)
    return value


def tz_spec_for(rng: random.Random, zone: str, allow_pytz: bool = True,
                pytz_fixed: bool = False) -> str:
    """A TZSPEC (see _diffcore) denoting ``zone``.

    ``pytz.FixedOffset`` is only used where the trigger does not pass it through
    ``astimezone()``, which fails on it in 3.11.3 (it has no ``_offset``); that
    failure is covered by the invalid-input group.
    """
    if zone[0] in "+-":
        kinds = ["fixed:", "fixed:", "pytzfixed:"] if allow_pytz and pytz_fixed else ["fixed:"]
        return rng.choice(kinds) + zone
    if zone == "UTC":
        choices = ["utc", "zoneinfo:UTC", "pytzutc", "zoneinfo:Etc/UTC"]
        if not allow_pytz:
            choices.remove("pytzutc")
        return rng.choice(choices)
    if allow_pytz and rng.random() < 0.25:
        return "pytz:" + zone
    return "zoneinfo:" + zone


def dt_value(local: datetime, spec: str | None, fold: int | None = None) -> dict:
    naive = local.replace(tzinfo=None)
    return {"$dt": naive.isoformat(), "tz": spec,
            "fold": local.fold if fold is None else fold}


def instant_value(rng: random.Random, instant: datetime, zone: str,
                  allow_pytz: bool = True, pytz_fixed: bool = False) -> dict:
    """An aware datetime value equal to ``instant``, expressed in ``zone``."""
    spec = tz_spec_for(rng, zone, allow_pytz, pytz_fixed)
    return dt_value(instant.astimezone(zone_tz(zone)), spec)


def tz_arg(rng: random.Random, zone: str, allow_pytz: bool = True):
    """A ``timezone=`` argument denoting ``zone`` (string or tzinfo object)."""
    if zone[0] in "+-":
        return rng.choice([{"$tz": "fixed:" + zone}, {"$tz": "fixed:" + zone + ":Custom"}])
    if zone == "UTC":
        forms = ["UTC", "Etc/UTC", {"$tz": "utc"}, {"$tz": "zoneinfo:UTC"}]
        if allow_pytz:
            forms.append({"$tz": "pytzutc"})
        return rng.choice(forms)
    roll = rng.random()
    if roll < 0.5:
        return zone
    if roll < 0.8 or not allow_pytz:
        return {"$tz": "zoneinfo:" + zone}
    return {"$tz": "pytz:" + zone}


def rand_zone(rng: random.Random, fixed_weight: float = 0.12) -> str:
    if rng.random() < fixed_weight:
        return rng.choice(FIXED_OFFSETS)
    return rng.choice(ZONES)


def date_string(rng: random.Random, wall: datetime, offset: str | None = None) -> str:
    """One of the string forms accepted by ``convert_to_datetime``."""
    form = rng.randrange(5)
    if form == 0 and offset is None:
        return f"{wall:%Y-%m-%d}"
    if form == 1:
        text = f"{wall.year:04d}-{wall.month}-{wall.day} {wall.hour}:{wall.minute}:{wall.second}"
    else:
        sep = rng.choice([" ", "T"])
        text = f"{wall:%Y-%m-%d}{sep}{wall:%H:%M:%S}"
        if form >= 3:
            digits = rng.randint(1, 6)
            text += "." + f"{wall.microsecond:06d}"[:digits]
    if offset is not None:
        text += offset
    return text


def datetime_arg(rng: random.Random, instant: datetime, zone: str, has_tz_kwarg: bool,
                 allow_pytz: bool = True):
    """A start_date/end_date/run_date argument close to ``instant`` (any accepted form)."""
    wall = instant.astimezone(zone_tz(zone))
    roll = rng.random()
    if roll < 0.35 or not has_tz_kwarg and roll < 0.7:
        other = zone if rng.random() < 0.75 else rand_zone(rng)
        return instant_value(rng, instant, other, allow_pytz)
    if roll < 0.5 and has_tz_kwarg:
        return dt_value(wall, None)
    if roll < 0.6 and has_tz_kwarg:
        return {"$date": wall.date().isoformat()}
    if roll < 0.7:
        utcwall = instant.astimezone(UTC)
        suffix = rng.choice(["Z", "+00:00"])
        return date_string(rng, utcwall, suffix)
    if has_tz_kwarg:
        return date_string(rng, wall)
    return instant_value(rng, instant, zone, allow_pytz)


# ---------------------------------------------------------------------------
# cron expressions
# ---------------------------------------------------------------------------


def mixcase(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.6:
        return text
    if roll < 0.75:
        return text.upper()
    if roll < 0.85:
        return text.capitalize()
    return "".join(c.upper() if rng.random() < 0.5 else c for c in text)


def _step_pred(lo, step):
    return lambda v, d: (v - lo) % step == 0


def _range_pred(a, b, step=None):
    if step:
        return lambda v, d: a <= v <= b and (v - a) % step == 0
    return lambda v, d: a <= v <= b


def numeric_atom(rng: random.Random, field: str, focus: int | None = None):
    """A valid numeric expression for ``field``: (text, predicate(value, date))."""
    lo, hi = MIN_VALUES[field], MAX_VALUES[field]
    vlo, vhi = lo, hi
    if field == "year":
        base = focus or 2020
        vlo, vhi = max(1970, base - 3), min(2100, base + 12)
    kind = rng.choices(
        ["all", "allstep", "single", "range", "rangestep", "openstep", "zerozero"],
        [1, 3, 5, 3, 3, 2, 0.2 if lo == 0 else 0],
    )[0]
    if kind == "all":
        return "*", lambda v, d: True
    if kind == "allstep":
        limit = hi - lo
        if field == "year":
            step = rng.randint(1, 40)
        elif rng.random() < 0.15:
            step = limit
        else:
            step = rng.randint(1, min(limit, 20))
        return f"*/{step}", _step_pred(lo, step)
    if kind == "single":
        value = rng.randint(vlo, vhi)
        return str(value), _range_pred(value, value)
    if kind == "range":
        a = rng.randint(vlo, vhi)
        b = rng.randint(a, vhi)
        return f"{a}-{b}", _range_pred(a, b)
    if kind == "rangestep":
        a = rng.randint(vlo, vhi - 1)
        b = rng.randint(a + 1, vhi)
        step = rng.randint(1, b - a)
        return f"{a}-{b}/{step}", _range_pred(a, b, step)
    if kind == "openstep":
        a = rng.randint(vlo, min(vhi, hi - 1))
        step = rng.randint(1, min(hi - a, 25))
        return f"{a}/{step}", _range_pred(a, hi, step)
    # "0-0/c": last == 0 makes the range check use the field maximum
    step = rng.randint(1, hi)
    return f"0-0/{step}", _range_pred(0, 0)


def month_name_atom(rng: random.Random):
    a = rng.randrange(12)
    roll = rng.random()
    if roll < 0.5:
        text, pred = mixcase(rng, MONTHS[a]), _range_pred(a + 1, a + 1)
    else:
        b = rng.randrange(a, 12)
        text = mixcase(rng, MONTHS[a]) + "-" + mixcase(rng, MONTHS[b])
        pred = _range_pred(a + 1, b + 1)
    if rng.random() < 0.05:
        text += rng.choice(["/2", "5", "-"])  # the name regex is not anchored
    return text, pred


def weekday_name_atom(rng: random.Random):
    a = rng.randrange(7)
    if rng.random() < 0.5:
        text, pred = mixcase(rng, WEEKDAYS[a]), _range_pred(a, a)
    else:
        b = rng.randrange(a, 7)
        text = mixcase(rng, WEEKDAYS[a]) + "-" + mixcase(rng, WEEKDAYS[b])
        pred = _range_pred(a, b)
    if rng.random() < 0.05:
        text += rng.choice(["/2", "5"])  # the name regex is not anchored
    return text, pred


def _last_pred(v, d):
    return d is not None and d.day == monthrange(d.year, d.month)[1]


def position_atom(rng: random.Random, allow_fifth: bool = True):
    options = POSITIONS if allow_fifth else ["1st", "2nd", "3rd", "4th", "last"]
    option = rng.choice(options)
    weekday = rng.randrange(7)
    spaces = " " * rng.choice([1, 1, 1, 2, 3])
    text = mixcase(rng, option) + spaces + mixcase(rng, WEEKDAYS[weekday])
    if rng.random() < 0.04:
        text += " " + rng.choice(WEEKDAYS)  # matched as a prefix; the rest is ignored
    index = POSITIONS.index(option)

    def pred(v, d):
        if d is None or d.weekday() != weekday:
            return False
        if index == 5:
            return d.day + 7 > monthrange(d.year, d.month)[1]
        return (d.day - 1) // 7 == index

    return text, pred


def field_atom(rng: random.Random, field: str, focus: int | None, and_mode: bool = False):
    if field == "month" and rng.random() < 0.35:
        return month_name_atom(rng)
    if field == "day_of_week" and rng.random() < 0.5:
        return weekday_name_atom(rng)
    if field == "day":
        roll = rng.random()
        if roll < 0.12:
            text = mixcase(rng, "last")
            if rng.random() < 0.05 and not and_mode:
                text += "x"
            return text, _last_pred
        if roll < 0.3 and not and_mode:
            return position_atom(rng)
        if and_mode:
            a = rng.randint(1, 28)
            if rng.random() < 0.5:
                return str(a), _range_pred(a, a)
            b = rng.randint(a, 28)
            return f"{a}-{b}", _range_pred(a, b)
    return numeric_atom(rng, field, focus)


SEPARATORS = [",", ",", ", ", " ,", " , ", ",  "]


def field_expr(rng: random.Random, field: str, focus: int | None = None,
               and_mode: bool = False):
    """(value passed to CronTrigger, predicate) for one field."""
    count = rng.choices([1, 2, 3], [6, 3, 1])[0]
    atoms = [field_atom(rng, field, focus, and_mode) for _ in range(count)]
    text = atoms[0][0]
    for atom_text, _ in atoms[1:]:
        text += rng.choice(SEPARATORS) + atom_text
    preds = [p for _, p in atoms]

    def pred(v, d):
        return any(p(v, d) for p in preds)

    if count == 1 and text.isdigit() and rng.random() < 0.3:
        return int(text), pred
    if rng.random() < 0.05:
        text = " " + text + "  "
    return text, pred


def effective_preds(chosen: dict):
    """Predicates for the date-level fields, taking CronTrigger's defaults into account."""
    specified = [name for name in FIELD_NAMES if name in chosen]
    last = FIELD_NAMES.index(specified[-1]) if specified else -1
    preds = {}
    for i, name in enumerate(FIELD_NAMES):
        if name in chosen:
            preds[name] = chosen[name]
        elif i > last and last >= 0 and DEFAULT_PREDS[name] != "*":
            value = DEFAULT_PREDS[name]
            preds[name] = _range_pred(value, value)
        else:
            preds[name] = lambda v, d: True
    return preds


def feasible(preds: dict, start: date, horizon: int = 30) -> bool:
    """Whether some day within ``horizon`` years of ``start`` matches every date field."""
    for year in range(start.year, min(start.year + horizon, 9999) + 1):
        if not preds["year"](year, None):
            continue
        for month in range(1, 13):
            if not preds["month"](month, None):
                continue
            for day in range(1, monthrange(year, month)[1] + 1):
                current = date(year, month, day)
                if current < start:
                    continue
                if (preds["day"](day, current)
                        and preds["week"](current.isocalendar()[1], current)
                        and preds["day_of_week"](current.weekday(), current)):
                    return True
    return False


FIELD_PROBABILITY = {"year": 0.12, "month": 0.3, "day": 0.3, "week": 0.08,
                     "day_of_week": 0.3, "hour": 0.5, "minute": 0.5, "second": 0.35}


def random_cron_fields(rng: random.Random, now: datetime, and_mode: bool = False,
                       allowed=FIELD_NAMES):
    for _ in range(40):
        values, preds = {}, {}
        for name in allowed:
            if rng.random() < FIELD_PROBABILITY[name]:
                values[name], preds[name] = field_expr(rng, name, now.year, and_mode)
        if feasible(effective_preds(preds), now.date()):
            return values
    return {"minute": "*/5"}


# ---------------------------------------------------------------------------
# calls
# ---------------------------------------------------------------------------


def rand_lag_us(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice([0, 1, -1, 999_999, 1_000_000, -1_000_000, 500_000])
    if roll < 0.8:
        return rng.randint(-3_600_000_000, 3_600_000_000)
    return rng.randint(-86_400_000_000, 7 * 86_400_000_000)


def chain_calls(rng: random.Random, now_value: dict, n: int, zone: str,
                allow_lag: bool = True, allow_pytz: bool = True) -> dict:
    if allow_lag and rng.random() < 0.3:
        now_tz = None
        if rng.random() < 0.6:
            now_tz = tz_spec_for(rng, zone if rng.random() < 0.7 else rand_zone(rng), allow_pytz,
                                 pytz_fixed=True)
        return {"mode": "lag", "now": now_value, "n": n,
                "lags_us": [rand_lag_us(rng) for _ in range(n)], "now_tz": now_tz}
    return {"mode": "chain", "now": now_value, "n": n}


def pair_calls(rng: random.Random, around: datetime, zone: str, count: int,
               allow_pytz: bool = True) -> dict:
    pairs = []
    for _ in range(count):
        prev_instant = around + timedelta(seconds=rng.randint(-86400 * 3, 86400 * 30))
        if rng.random() < 0.5:
            prev_instant = prev_instant.replace(microsecond=0)
            if rng.random() < 0.5:
                prev_instant = prev_instant.replace(second=0)
        now_instant = prev_instant + timedelta(microseconds=rand_lag_us(rng))
        prev_zone = zone if rng.random() < 0.7 else rand_zone(rng)
        now_zone = zone if rng.random() < 0.6 else rand_zone(rng)
        prev = None if rng.random() < 0.15 else \
            instant_value(rng, prev_instant, prev_zone, allow_pytz, pytz_fixed=True)
        pairs.append([prev, instant_value(rng, now_instant, now_zone, allow_pytz,
                                          pytz_fixed=True)])
    return {"mode": "pairs", "pairs": pairs}


def near_transition_instant(rng: random.Random, transition) -> datetime:
    """An instant on, just before or just after a transition."""
    when, _, _ = transition
    deltas = [-7200, -3600, -1800, -1, 0, 1, 1799, 3600]
    instant = when + timedelta(seconds=rng.choice(deltas))
    if rng.random() < 0.3:
        instant -= timedelta(microseconds=1)
    return instant


def transition_wall(rng: random.Random, transition):
    """A wall time in (or at the edge of) the gap or fold of ``transition``, and a fold."""
    when, before, after = transition
    start = (when + before).replace(tzinfo=None)
    end = (when + after).replace(tzinfo=None)
    lo, hi = min(start, end), max(start, end)
    span = int((hi - lo).total_seconds())
    choice = rng.randrange(6)
    if choice == 0:
        wall = lo
    elif choice == 1:
        wall = lo - timedelta(seconds=1)
    elif choice == 2:
        wall = lo - timedelta(microseconds=1)
    elif choice == 3:
        wall = hi
    else:
        wall = lo + timedelta(seconds=rng.randrange(max(span, 1)))
        if rng.random() < 0.3:
            wall += timedelta(microseconds=rng.randrange(1, 1_000_000))
    return wall, rng.randrange(2)


def transition_now(rng: random.Random, zone: str, transition, allow_pytz: bool = True):
    """A ``now`` value near ``transition`` (an instant, or a gap/fold wall time)."""
    if rng.random() < 0.6:
        return instant_value(rng, near_transition_instant(rng, transition),
                             zone if rng.random() < 0.8 else "UTC", allow_pytz)
    wall, fold = transition_wall(rng, transition)
    spec = "zoneinfo:" + zone
    if allow_pytz and rng.random() < 0.2:
        spec = "pytz:" + zone
    return {"$dt": wall.isoformat(), "tz": spec, "fold": fold}


# ---------------------------------------------------------------------------
# per trigger type
# ---------------------------------------------------------------------------


def _start_end(rng: random.Random, now: datetime, zone: str, has_tz: bool, kwargs: dict,
               p_start: float = 0.3, p_end: float = 0.2, allow_pytz: bool = True):
    start_instant = None
    if rng.random() < p_start:
        start_instant = now + timedelta(seconds=rng.randint(-40 * 86400, 400 * 86400))
        if rng.random() < 0.6:
            start_instant = start_instant.replace(microsecond=0)
        kwargs["start_date"] = datetime_arg(rng, start_instant, zone, has_tz, allow_pytz)
    if rng.random() < p_end:
        base = max(now, start_instant) if start_instant else now
        end_instant = base + timedelta(seconds=rng.randint(-3 * 86400, 3 * 365 * 86400))
        if rng.random() < 0.5:
            end_instant = end_instant.replace(microsecond=0)
        kwargs["end_date"] = datetime_arg(rng, end_instant, zone, has_tz, allow_pytz)


def cron_trigger_spec(rng: random.Random, now: datetime, zone: str, and_mode: bool = False,
                      fields: dict | None = None, allow_dates: bool = True) -> dict:
    kwargs = dict(fields if fields is not None else random_cron_fields(rng, now, and_mode))
    has_tz = rng.random() < 0.9
    if has_tz:
        kwargs["timezone"] = tz_arg(rng, zone)
    if allow_dates:
        _start_end(rng, now, zone, has_tz, kwargs)
    if not has_tz and not any(isinstance(kwargs.get(k), dict) and kwargs[k].get("tz")
                              for k in ("start_date", "end_date")):
        # no explicit time zone anywhere: make it come from an aware start_date
        # (the local time zone is only used in a few dedicated cases)
        kwargs["start_date"] = instant_value(rng, now - timedelta(days=rng.randint(0, 30)), zone)
    if rng.random() < 0.04:
        kwargs["jitter"] = 0
    spec = {"type": "cron", "kwargs": kwargs}
    if not and_mode and rng.random() < 0.05:
        # some positional arguments (year, month, day, ...)
        positional = []
        for name in FIELD_NAMES:
            if name not in kwargs or len(positional) >= 3:
                break
            positional.append(kwargs.pop(name))
        if positional:
            spec["args"] = positional
    return spec


def gen_cron(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        zone = rand_zone(rng)
        now = rand_instant(rng)
        spec = cron_trigger_spec(rng, now, zone)
        n = rng.randint(1, 25)
        now_zone = zone if rng.random() < 0.6 else rand_zone(rng)
        now_value = instant_value(rng, now, now_zone, pytz_fixed=True)
        if rng.random() < 0.15:
            calls = pair_calls(rng, now, zone, rng.randint(1, 6))
        else:
            calls = chain_calls(rng, now_value, n, zone)
        if rng.random() < 0.03:
            # random jitter: only construction, str/repr and state are comparable
            spec["kwargs"]["jitter"] = rng.randint(1, 30)
            calls = {"mode": "none"}
        cases.append({"trigger": spec, "calls": calls})
    # a few that rely on the local time zone
    for _ in range(max(1, count // 100)):
        now = rand_instant(rng)
        kwargs = random_cron_fields(rng, now)
        cases.append({"trigger": {"type": "cron", "kwargs": kwargs},
                      "calls": {"mode": "chain", "now": instant_value(rng, now, "UTC"),
                                "n": 5}})
    return cases


def _hour_atoms(rng: random.Random, hours: list[int]) -> str:
    roll = rng.random()
    if roll < 0.45:
        return str(rng.choice(hours))
    if roll < 0.6:
        a, b = min(hours), max(hours)
        return f"{a}-{b}"
    if roll < 0.75:
        return ",".join(str(h) for h in sorted(set(rng.sample(hours, min(2, len(hours))))))
    return rng.choice(["*", "*/2", "*/3", "0-23/4", "1/2"])


def gen_cron_dst(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        zone = rng.choice(DST_ZONES)
        transition = pick_transition(rng, zone)
        if transition is None:
            continue
        when, before, after = transition
        local_before = (when + before).replace(tzinfo=None)
        local_after = (when + after).replace(tzinfo=None)
        hours = sorted({local_before.hour, local_after.hour,
                        (local_before.hour - 1) % 24, (local_after.hour + 1) % 24,
                        (local_before - timedelta(minutes=30)).hour})
        kwargs = {}
        style = rng.random()
        if style < 0.75:
            kwargs["hour"] = _hour_atoms(rng, hours)
            if rng.random() < 0.85:
                kwargs["minute"] = rng.choice(
                    ["*/15", "0,30", "30", "0", "*/5", "45", "*", "15-45/15", "*/20",
                     str(local_before.minute), f"{local_before.minute}-59/10", "*/7"])
            if rng.random() < 0.3:
                kwargs["second"] = rng.choice(["0", "*/30", "*/20", "59", "0,30"])
        elif style < 0.9:
            kwargs["minute"] = rng.choice(["*/30", "0", "*/15", "30", "45"])
        else:
            # date-level only: fires at local midnight (Santiago and Tehran move midnight)
            kwargs["day_of_week"] = rng.choice(["*", WEEKDAYS[local_before.weekday()],
                                                "mon-sun", "sat,sun"])
        if rng.random() < 0.25:
            day_choice = rng.random()
            if day_choice < 0.4:
                kwargs["day"] = str(local_before.day)
            elif day_choice < 0.7:
                kwargs["day"] = rng.choice(["last sun", "1st sun", "2nd sun", "last sat",
                                            "1st sat", "2nd sat"])
            else:
                kwargs["day_of_week"] = WEEKDAYS[local_before.weekday()] + "," + \
                    WEEKDAYS[local_after.weekday()]
            if " " in kwargs.get("day", ""):
                # "2nd sat" with day_of_week="sun" would never match
                kwargs.pop("day_of_week", None)
        if rng.random() < 0.15:
            kwargs["month"] = str(local_before.month)
        kwargs["timezone"] = tz_arg(rng, zone)
        if rng.random() < 0.25:
            # start_date in or around the gap/fold: naive wall time, aware with fold, or string
            wall, fold = transition_wall(rng, transition)
            form = rng.randrange(3)
            if form == 0:
                kwargs["start_date"] = {"$dt": wall.isoformat(), "tz": None, "fold": fold}
            elif form == 1:
                kwargs["start_date"] = {"$dt": wall.isoformat(), "tz": "zoneinfo:" + zone,
                                        "fold": fold}
            else:
                kwargs["start_date"] = f"{wall:%Y-%m-%d %H:%M:%S}"
        if rng.random() < 0.1:
            end_wall, end_fold = transition_wall(rng, transition)
            end_wall += timedelta(hours=rng.choice([0, 1, 2, 24]))
            kwargs["end_date"] = {"$dt": end_wall.isoformat(), "tz": "zoneinfo:" + zone,
                                  "fold": end_fold}
        spec = {"type": "cron", "kwargs": kwargs}
        now_value = transition_now(rng, zone, transition)
        n = rng.randint(4, 30)
        if rng.random() < 0.15:
            calls = pair_calls(rng, when, zone, rng.randint(1, 5))
            for pair in calls["pairs"]:
                if rng.random() < 0.5:
                    pair[1] = transition_now(rng, zone, transition)
                if pair[0] is not None and rng.random() < 0.5:
                    pair[0] = transition_now(rng, zone, transition)
        else:
            calls = chain_calls(rng, now_value, n, zone)
        cases.append({"trigger": spec, "calls": calls})
    return cases


def crontab_field(rng: random.Random, field: str, focus: int):
    """A crontab field (no spaces: the expression is split on whitespace) and its predicate."""
    count = rng.choices([1, 2, 3], [6, 3, 1])[0]
    parts, preds = [], []
    for _ in range(count):
        if field == "day" and rng.random() < 0.1:
            parts.append(mixcase(rng, "last"))
            preds.append(_last_pred)
            continue
        text, pred = field_atom(rng, field, focus)
        if " " in text:
            text, pred = numeric_atom(rng, field, focus)
        parts.append(text)
        preds.append(pred)
    return ",".join(parts), (lambda v, d: any(p(v, d) for p in preds))


def gen_crontab(rng: random.Random, count: int):
    cases = []
    order = ["minute", "hour", "day", "month", "day_of_week"]
    for _ in range(count):
        zone = rand_zone(rng)
        now = rand_instant(rng)
        for _attempt in range(40):
            parts, preds = {}, {}
            for f in order:
                if rng.random() < 0.4:
                    parts[f], preds[f] = "*", (lambda v, d: True)
                else:
                    parts[f], preds[f] = crontab_field(rng, f, now.year)
            if feasible(effective_preds(preds), now.date()):
                break
        else:
            parts = {"minute": "0", "hour": "*", "day": "*", "month": "*", "day_of_week": "*"}
        text = " ".join(parts[f] for f in order)
        if rng.random() < 0.08:
            text = rng.choice(["  ", "\t", " \n "]) + text.replace(" ", rng.choice(["  ", "\t"]))
        args = [text]
        kwargs = {}
        roll = rng.random()
        if roll < 0.5:
            kwargs["timezone"] = tz_arg(rng, zone)
        elif roll < 0.95:
            args.append(tz_arg(rng, zone))
        spec = {"type": "cron", "ctor": "from_crontab", "args": args, "kwargs": kwargs}
        now_zone = zone if rng.random() < 0.7 else rand_zone(rng)
        now_value = instant_value(rng, now, now_zone, pytz_fixed=True)
        calls = chain_calls(rng, now_value, rng.randint(1, 20), zone)
        cases.append({"trigger": spec, "calls": calls})
    return cases


INTERVAL_UNITS = ["weeks", "days", "hours", "minutes", "seconds"]
FRACTIONS = [0.5, 0.25, 1.5, 0.1, 1 / 3, 2.999999, 1e-3, 1e-6, 1e-7, 0.3, 86399.9999995,
             59.99999949, 0.0000015, 7.25]


def gen_interval_kwargs(rng: random.Random) -> dict:
    kwargs = {}
    roll = rng.random()
    if roll < 0.5:
        unit = rng.choice(INTERVAL_UNITS)
        kwargs[unit] = rng.choice([1, 1, 2, 3, 5, 7, 10, 15, 30, 45, 90, 3600])
    elif roll < 0.75:
        for unit in rng.sample(INTERVAL_UNITS, rng.randint(2, 4)):
            kwargs[unit] = rng.randint(0, 30)
    elif roll < 0.95:
        unit = rng.choice(INTERVAL_UNITS)
        kwargs[unit] = rng.choice(FRACTIONS) * (1 if unit == "seconds" else rng.choice([1, 0.01]))
    elif roll < 0.97:
        kwargs[rng.choice(INTERVAL_UNITS)] = 0  # zero interval falls back to one second
    else:
        kwargs[rng.choice(INTERVAL_UNITS)] = -rng.randint(1, 10)
    return kwargs


def gen_interval(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        dst = rng.random() < 0.35
        if dst:
            zone = rng.choice(DST_ZONES)
            transition = pick_transition(rng, zone)
            if transition is None:
                continue
            now = transition[0] + timedelta(seconds=rng.randint(-3 * 86400, 3600))
        else:
            zone = rand_zone(rng)
            now = rand_instant(rng)
            transition = None
        kwargs = gen_interval_kwargs(rng)
        if dst and rng.random() < 0.6:
            kwargs = {rng.choice(["minutes", "hours"]): rng.choice([15, 30, 1, 2, 90])}
            if rng.random() < 0.3:
                kwargs = {"days": 1}
        has_tz = rng.random() < 0.85
        if has_tz:
            kwargs["timezone"] = tz_arg(rng, zone)
        start_instant = now + timedelta(seconds=rng.randint(-5 * 86400, 2 * 86400))
        if rng.random() < 0.5:
            start_instant = start_instant.replace(microsecond=0)
        if transition is not None and has_tz and rng.random() < 0.3:
            wall, fold = transition_wall(rng, transition)
            kwargs["start_date"] = rng.choice([
                {"$dt": wall.isoformat(), "tz": None, "fold": fold},
                {"$dt": wall.isoformat(), "tz": "zoneinfo:" + zone, "fold": fold},
                f"{wall:%Y-%m-%d %H:%M:%S}",
            ])
        else:
            kwargs["start_date"] = datetime_arg(rng, start_instant, zone, has_tz)
        if rng.random() < 0.25:
            end_instant = start_instant + timedelta(seconds=rng.randint(-3600, 30 * 86400))
            kwargs["end_date"] = datetime_arg(rng, end_instant, zone, has_tz)
        if rng.random() < 0.04:
            kwargs["jitter"] = 0
        spec = {"type": "interval", "kwargs": kwargs}
        if rng.random() < 0.05:
            units = [kwargs.pop(u, 0) for u in INTERVAL_UNITS]
            while units and units[-1] == 0:
                units.pop()
            spec["args"] = units
        now_zone = zone if rng.random() < 0.7 else rand_zone(rng)
        if transition is not None and rng.random() < 0.5:
            now_value = transition_now(rng, zone, transition)
        else:
            now_value = instant_value(rng, now, now_zone, pytz_fixed=True)
        if rng.random() < 0.15:
            calls = pair_calls(rng, now, zone, rng.randint(1, 6))
        else:
            calls = chain_calls(rng, now_value, rng.randint(1, 30), zone)
        if rng.random() < 0.03:
            spec["kwargs"]["jitter"] = rng.choice([1, 2.5, 30])
            calls = {"mode": "none"}
        cases.append({"trigger": spec, "calls": calls})
    return cases


def gen_date(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        zone = rand_zone(rng)
        transition = None
        if zone in DST_ZONES and rng.random() < 0.4:
            transition = pick_transition(rng, zone)
        instant = transition[0] + timedelta(seconds=rng.randint(-3600, 3600)) if transition \
            else rand_instant(rng)
        kwargs = {}
        has_tz = rng.random() < 0.85
        if has_tz:
            kwargs["timezone"] = tz_arg(rng, zone)
        if transition is not None and has_tz and rng.random() < 0.5:
            wall, fold = transition_wall(rng, transition)
            kwargs["run_date"] = rng.choice([
                {"$dt": wall.isoformat(), "tz": None, "fold": fold},
                {"$dt": wall.isoformat(), "tz": "zoneinfo:" + zone, "fold": fold},
                {"$dt": wall.isoformat(), "tz": "pytz:" + zone, "fold": fold},
                f"{wall:%Y-%m-%d %H:%M:%S}",
                date_string(rng, wall),
            ])
        else:
            kwargs["run_date"] = datetime_arg(rng, instant, zone, has_tz)
            if rng.random() < 0.05:
                # pytz zone attached with replace(): the local mean time offset
                kwargs["run_date"] = {"$dt": instant.replace(tzinfo=None).isoformat(),
                                      "tz": "pytz:" + rng.choice(DST_ZONES), "replace": True}
        spec = {"type": "date", "kwargs": kwargs}
        if rng.random() < 0.1:
            spec["args"] = [kwargs.pop("run_date")]
            if "timezone" in kwargs and rng.random() < 0.5:
                spec["args"].append(kwargs.pop("timezone"))
        now = instant + timedelta(seconds=rng.randint(-86400, 86400))
        if rng.random() < 0.2:
            calls = pair_calls(rng, instant, zone, rng.randint(1, 4))
        else:
            now_value = instant_value(rng, now, zone, pytz_fixed=True)
            calls = chain_calls(rng, now_value, rng.randint(1, 3), zone)
        cases.append({"trigger": spec, "calls": calls})
    # a few relying on the local time zone
    for _ in range(max(1, count // 100)):
        instant = rand_instant(rng)
        cases.append({"trigger": {"type": "date",
                                  "kwargs": {"run_date": date_string(rng, instant)}},
                      "calls": {"mode": "chain", "now": instant_value(rng, instant, "UTC"),
                                "n": 2}})
    return cases


# wall times inside or at the edges of each zone's DST gaps and folds
DST_TIMES = {
    "America/New_York": [(2, 30, 0), (1, 30, 0), (2, 0, 0), (1, 0, 0), (3, 0, 0)],
    "Europe/London": [(1, 30, 0), (1, 0, 0), (2, 0, 0), (0, 59, 59)],
    "Europe/Berlin": [(2, 30, 0), (2, 0, 0), (3, 0, 0), (2, 59, 59)],
    "Australia/Lord_Howe": [(2, 15, 0), (2, 0, 0), (1, 45, 0), (2, 29, 59), (1, 30, 0)],
    "Pacific/Chatham": [(2, 45, 0), (3, 0, 0), (3, 44, 59), (3, 45, 0), (3, 15, 0)],
    "America/Santiago": [(0, 0, 0), (0, 30, 0), (23, 30, 0), (23, 0, 0), (1, 0, 0)],
    "Asia/Tehran": [(0, 0, 0), (0, 30, 0), (23, 30, 0), (23, 59, 59)],
}


def gen_calendar(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        zone = rand_zone(rng)
        transition = None
        if zone in DST_ZONES and rng.random() < 0.5:
            transition = pick_transition(rng, zone)
        kwargs = {}
        roll = rng.random()
        if roll < 0.3:
            kwargs["days"] = rng.choice([1, 1, 2, 3, 7, 10, 31, 40])
        elif roll < 0.5:
            kwargs["months"] = rng.choice([1, 1, 2, 3, 6, 11, 12, 13, 14])
        elif roll < 0.6:
            kwargs["years"] = rng.choice([1, 1, 2, 3, 4])
        elif roll < 0.7:
            kwargs["weeks"] = rng.choice([1, 2, 3, 52])
        elif roll < 0.97:
            for unit in rng.sample(["years", "months", "weeks", "days"], rng.randint(2, 4)):
                kwargs[unit] = rng.randint(0, 5)
            if not any(kwargs.values()):
                kwargs["days"] = 1
        else:
            kwargs[rng.choice(["months", "days"])] = -rng.randint(1, 3)
        if zone in DST_TIMES and rng.random() < 0.6:
            hour, minute, second = rng.choice(DST_TIMES[zone])
        else:
            hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
        for name, value, default_p in (("hour", hour, 0.8), ("minute", minute, 0.6),
                                       ("second", second, 0.3)):
            if value or rng.random() < default_p:
                kwargs[name] = value
        if transition is not None:
            local = transition[0].astimezone(zone_tz(zone)).date()
            start = local - timedelta(days=rng.choice([0, 0, 1, 2, 7, 31, 365]))
        else:
            start = rand_instant(rng).date()
        if rng.random() < 0.25:
            # near the end of a month or on a leap day
            year = start.year
            if rng.random() < 0.4:
                while monthrange(year, 2)[1] != 29:
                    year += 1
                start = date(year, 2, 29)
            else:
                month = rng.randint(1, 12)
                day = rng.randint(29, monthrange(year, month)[1]) \
                    if monthrange(year, month)[1] >= 29 else 28
                start = date(year, month, day)
        form = rng.random()
        if form < 0.5:
            kwargs["start_date"] = {"$date": start.isoformat()}
        elif form < 0.9:
            kwargs["start_date"] = start.isoformat()
        elif form < 0.95:
            kwargs["start_date"] = start.strftime("%Y%m%d")
        else:
            kwargs["start_date"] = {"$dt": f"{start.isoformat()}T05:06:07", "tz": None}
        if rng.random() < 0.3:
            end = start + timedelta(days=rng.randint(0, 3 * 365))
            kwargs["end_date"] = rng.choice([{"$date": end.isoformat()}, end.isoformat()])
        if rng.random() < 0.95:
            kwargs["timezone"] = tz_arg(rng, zone)
        if rng.random() < 0.04:
            kwargs["jitter"] = 0
        spec = {"type": "calendarinterval", "kwargs": kwargs}
        now = datetime(start.year, start.month, start.day, tzinfo=UTC) + \
            timedelta(seconds=rng.randint(-86400 * 10, 86400 * 400))
        if rng.random() < 0.15:
            calls = pair_calls(rng, now, zone, rng.randint(1, 5))
        else:
            now_value = instant_value(rng, now, zone, pytz_fixed=True)
            calls = chain_calls(rng, now_value, rng.randint(1, 30), zone)
        cases.append({"trigger": spec, "calls": calls})
    return cases


def _sub_trigger(rng: random.Random, now: datetime, zone: str) -> dict:
    kind = rng.choices(["cron", "interval", "date", "calendarinterval"], [6, 2, 1, 1])[0]
    if kind == "cron":
        return cron_trigger_spec(rng, now, zone)
    if kind == "interval":
        kwargs = gen_interval_kwargs(rng)
        kwargs["timezone"] = tz_arg(rng, zone)
        start = now + timedelta(seconds=rng.randint(-86400, 86400))
        kwargs["start_date"] = datetime_arg(rng, start, zone, True)
        return {"type": "interval", "kwargs": kwargs}
    if kind == "date":
        run = now + timedelta(seconds=rng.randint(-3600, 30 * 86400))
        return {"type": "date", "kwargs": {"run_date": datetime_arg(rng, run, zone, True),
                                           "timezone": tz_arg(rng, zone)}}
    start = (now + timedelta(days=rng.randint(-5, 30))).date()
    return {"type": "calendarinterval",
            "kwargs": {rng.choice(["days", "weeks", "months"]): rng.randint(1, 3),
                       "hour": rng.randrange(24), "minute": rng.choice([0, 30, 45]),
                       "start_date": start.isoformat(), "timezone": tz_arg(rng, zone)}}


def _and_trigger(rng: random.Random, now: datetime, zone: str) -> dict:
    """An AndTrigger whose cron parts are guaranteed to agree now and then.

    Each field is constrained by at most one part and every part gives ``second``
    explicitly (no defaults), so the intersection is never empty and the
    reference's agreement loop terminates.
    """
    parts = rng.randint(2, 3)
    names = [n for n in ["year", "month", "day", "day_of_week", "hour", "minute", "second"]
             if rng.random() < 0.45]
    assigned = [dict() for _ in range(parts)]
    for name in names:
        text, _ = field_expr(rng, name, now.year, and_mode=True)
        if name == "year":
            text = f"{now.year}-{now.year + rng.randint(0, 40)}"
        assigned[rng.randrange(parts)][name] = text
    same_zone = rng.random() < 0.7
    specs = []
    for fields in assigned:
        fields.setdefault("second", "*")
        part_zone = zone if same_zone else rand_zone(rng, fixed_weight=0.2)
        spec = cron_trigger_spec(rng, now, part_zone, and_mode=True, fields=fields,
                                 allow_dates=False)
        if rng.random() < 0.15:
            end = now + timedelta(days=rng.randint(1, 400))
            spec["kwargs"]["end_date"] = instant_value(rng, end, part_zone)
        specs.append({"$trigger": spec})
    return {"type": "and", "args": [specs]}


def gen_combining(rng: random.Random, count: int):
    cases = []
    for _ in range(count):
        zone = rand_zone(rng)
        now = rand_instant(rng)
        now_zone = zone if rng.random() < 0.7 else rand_zone(rng)
        now_value = instant_value(rng, now, now_zone, pytz_fixed=True)
        if rng.random() < 0.5:
            spec = _and_trigger(rng, now, zone)
            calls = {"mode": "none_chain", "now": now_value, "n": rng.randint(1, 12),
                     "step_us": rng.choice([1, 1, 1_000_000, 60_000_000])}
        else:
            parts = [{"$trigger": _sub_trigger(rng, now, zone if rng.random() < 0.7
                                               else rand_zone(rng))}
                     for _ in range(rng.randint(2, 3))]
            spec = {"type": "or", "args": [parts]}
            if rng.random() < 0.15:
                calls = pair_calls(rng, now, zone, rng.randint(1, 4))
            else:
                calls = chain_calls(rng, now_value, rng.randint(1, 25), zone)
        if rng.random() < 0.05:
            spec["kwargs"] = {"jitter": 0}
        cases.append({"trigger": spec, "calls": calls})
    return cases


# ---------------------------------------------------------------------------
# invalid input
# ---------------------------------------------------------------------------

INVALID_FIELD_VALUES = {
    "year": ["1969", "*/0", "10000", "2020-2010", "*/8030", "foo", "", "-1", "20x0", "2020.5"],
    "month": ["13", "0", "*/0", "5-2", "*/12", "foo", "janx", "jan-foo", "jun-mar", "1-13",
              "0-5", "Foo-Bar", "1/12", True],
    "day": ["32", "0", "*/31", "6th fri", "1st foo", "1st 4", "last 5", "31-1", "1/31",
            "L", "?", "last monday", "0th mon", "lst fri", "*/0"],
    "week": ["0", "54", "*/53", "10-5", "mon", "*/0"],
    "day_of_week": ["7", "*/7", "xyz", "sun-mon", "mon-xyz", "8", "fri-mon", "3-1",
                    "1st mon", "last"],
    "hour": ["24", "0-24", "*/24", "5-2", "-1", "5.5", "*/", "**", "1--2", "1,,2", True, -1,
             5.5, "0-0/24"],
    "minute": ["70", "60", "*/60", "59-0", "a", "*/0", "1-2-3", "1/60", "0/0"],
    "second": ["60", "*/60", "*/0", "", " ", "1 2", "1,", ",1", "x/5"],
}

SOUP = ["*", "/", "-", ",", " ", "0", "1", "5", "9", "12", "31", "60", "jan", "MON", "last",
        "1st", "x", "?", "L", "#", "fri", "dec", "sun", "5th", "24"]


def soup(rng: random.Random) -> str:
    return "".join(rng.choice(SOUP) for _ in range(rng.randint(1, 6)))


def _invalid_cases(rng: random.Random):
    now_value = {"$dt": "2024-05-01T12:00:00", "tz": "utc", "fold": 0}
    none = {"mode": "none"}
    chain = {"mode": "chain", "now": now_value, "n": 3}
    cases = []

    def add(kind, kwargs=None, args=None, ctor=None, calls=none):
        spec = {"type": kind, "kwargs": kwargs or {}}
        if args is not None:
            spec["args"] = args
        if ctor:
            spec["ctor"] = ctor
        cases.append({"trigger": spec, "calls": calls})

    for field, values in INVALID_FIELD_VALUES.items():
        for value in values:
            add("cron", {field: value, "timezone": "UTC"})
    for tz in ["Mars/Olympus", "../etc/passwd", "utc", "America/New_york", "EST5EDT", "/UTC",
               "Europe/London ", "Etc/GMT+99", "local"]:
        add("cron", {"hour": 5, "timezone": tz}, calls=chain)
    # pytz.FixedOffset has no _offset attribute: astimezone() fails on it in 3.11.3
    pytz_fixed = {"$dt": "2024-03-01T10:00:00", "tz": "pytzfixed:+0130", "fold": 0}
    add("cron", {"hour": 5, "timezone": {"$tz": "pytzfixed:+0130"}}, calls=chain)
    add("cron", {"hour": 5, "start_date": pytz_fixed}, calls=chain)
    add("cron", {"hour": 5, "end_date": pytz_fixed}, calls=chain)
    add("cron", {"hour": 5, "start_date": pytz_fixed, "timezone": "Asia/Kolkata"}, calls=chain)
    add("interval", {"hours": 5, "start_date": pytz_fixed}, calls=chain)
    add("interval", {"hours": 5, "start_date": pytz_fixed, "timezone": {"$tz": "pytzutc"}},
        calls=chain)
    add("date", {"run_date": pytz_fixed}, calls=chain)
    add("date", {"run_date": "2024-01-01", "timezone": {"$tz": "pytzfixed:-0330"}}, calls=chain)
    add("calendarinterval", {"days": 1, "start_date": "2024-01-01",
                             "timezone": {"$tz": "pytzfixed:+0545"}}, calls=chain)
    add("cron", args=["0 * * * *", {"$tz": "pytzfixed:+0100"}], ctor="from_crontab")
    for bad in [4, 3.5, {"$obj": "object"}, {"$bytes": "UTC"}, True, ["UTC"]]:
        add("cron", {"timezone": bad})
        add("interval", {"minutes": 5, "timezone": bad, "start_date": "2024-01-01"})
        add("date", {"run_date": "2024-01-01", "timezone": bad})
        add("calendarinterval", {"days": 1, "timezone": bad, "start_date": "2024-01-01"})
    for bad in [3.5, 20240101, {"$obj": "object"}, "garbage", "2020-13-01", "2020-02-30",
                "2020-1-1 25:00:00", "2020-01-01 10:00:00+0530", "2020-01-01T10:00",
                "20200101", "2020-01-01 10:00:00.1234567", "2020-01-01 10:00:00+5:30",
                {"$bytes": "2020-01-01"}, ""]:
        add("cron", {"start_date": bad, "timezone": "UTC"}, calls=chain)
        add("cron", {"end_date": bad, "timezone": "Europe/Berlin"}, calls=chain)
        if bad != "":  # an empty start_date means "now + interval"
            add("interval", {"hours": 1, "start_date": bad, "timezone": "UTC"}, calls=chain)
        add("date", {"run_date": bad, "timezone": "Asia/Kolkata"}, calls=chain)
    for bad in ["2020-02-30", "garbage", "2020-1-1", 20200101, 3.5, "2020-01-01T00:00:00"]:
        add("calendarinterval", {"days": 1, "start_date": bad, "timezone": "UTC"}, calls=chain)
        add("calendarinterval", {"days": 1, "start_date": "2019-01-01", "end_date": bad,
                                 "timezone": "UTC"}, calls=chain)
    add("calendarinterval", {"days": 1, "start_date": "2020-01-02", "end_date": "2020-01-01",
                             "timezone": "UTC"})
    add("calendarinterval", {"start_date": "2020-01-02", "timezone": "UTC"})
    add("calendarinterval", {"years": 0, "months": 0, "weeks": 0, "days": 0,
                             "start_date": "2020-01-02", "timezone": "UTC"})
    for kw in [{"hour": 24}, {"minute": 60}, {"second": 60}, {"hour": -1}, {"hour": "5"},
               {"hour": 5.5}, {"days": "1"}, {"months": 1.5}, {"jitter": "x"}]:
        add("calendarinterval", {"days": 1, "start_date": "2020-01-02", "timezone": "UTC", **kw},
            calls=chain)
    add("calendarinterval", args=[1], kwargs={"start_date": "2020-01-02", "timezone": "UTC"})
    add("calendarinterval", {"day": 1, "start_date": "2020-01-02", "timezone": "UTC"})
    for kw in [{"weeks": "1"}, {"seconds": None}, {"minutes": [1]}, {"days": 1e10},
               {"hours": 1e20}, {"foo": 1},
               {"minute": 5}, {"seconds": True}]:
        add("interval", {**kw, "start_date": "2024-01-01", "timezone": "UTC"}, calls=chain)
    add("interval", args=[0, 0, 0, 0, 5, "2024-01-01", None, "UTC", None, "extra"])
    add("date", {"run_date": 5})
    add("date", {"run_date": 1.5, "timezone": "UTC"})
    add("date", {"run_time": "2024-01-01", "timezone": "UTC"})
    add("date", args=["2024-01-01", "UTC", "extra"])
    for kw in [{"foo": 1}, {"minutes": 5}, {"days": 1}, {"Hour": 1}]:
        add("cron", {**kw, "timezone": "UTC"})
    add("cron", args=["2024", "1", "1", "*", "*", "0", "0", "0", None, None, "UTC", None, 1])
    for expr in ["* * * *", "* * * * * *", "", "0 0", "0 0 1 1 7", "60 * * * *",
                 "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7", "*/0 * * * *",
                 "0 0 L * *", "0 0 1 jan-foo *", "0 0 * * mon-foo", "@daily",
                 "0 0 last fri * *", "0 0 1st fri * *"]:
        add("cron", args=[expr, "UTC"], ctor="from_crontab", calls=chain)
    add("cron", args=[5], ctor="from_crontab")
    add("cron", args=[None], ctor="from_crontab")
    add("cron", args=["* * * * *"], kwargs={"timezone": "Mars/Olympus"}, ctor="from_crontab")
    add("cron", args=["* * * * *"], kwargs={"tz": "UTC"}, ctor="from_crontab")
    # combining triggers with odd contents
    add("and", args=[[]], calls={"mode": "none_chain", "now": now_value, "n": 1})
    add("or", args=[[]], calls=chain)
    add("and", args=[[{"$trigger": {"type": "cron", "kwargs": {"hour": 1, "timezone": "UTC"}}}]],
        kwargs={"foo": 1})
    add("or", kwargs={})
    # naive datetimes passed as now / previous_fire_time (read as local time or rejected)
    naive = {"$dt": "2024-05-01T12:00:00", "tz": None, "fold": 0}
    naive_calls = [{"mode": "chain", "now": naive, "n": 3},
                   {"mode": "pairs", "pairs": [[naive, now_value], [now_value, naive]]}]
    for kind, kwargs in [
        ("cron", {"hour": 5, "timezone": "UTC"}),
        ("cron", {"hour": 5, "timezone": "Europe/Berlin", "start_date": "2024-01-01"}),
        ("interval", {"hours": 5, "start_date": "2024-01-01", "timezone": "UTC"}),
        ("date", {"run_date": "2024-06-01", "timezone": "UTC"}),
        ("calendarinterval", {"days": 1, "start_date": "2024-01-01", "timezone": "UTC"}),
    ]:
        for calls in naive_calls:
            add(kind, kwargs, calls=calls)
    # random token soups (may be valid; only constructed, not evaluated)
    for _ in range(120):
        field = rng.choice(FIELD_NAMES)
        add("cron", {field: soup(rng), "timezone": "UTC"})
    for _ in range(30):
        expr = " ".join(soup(rng).replace(" ", "") or "*" for _ in range(5))
        add("cron", args=[expr, "UTC"], ctor="from_crontab")
    return cases


def gen_invalid(rng: random.Random, count: int):
    cases = _invalid_cases(rng)
    rng.shuffle(cases)
    return cases[:count] if count < len(cases) else cases


def gen_never(rng: random.Random, count: int):
    """Cron expressions that never match: the reference scans up to year 9999."""
    now = {"$dt": "2024-05-01T12:00:00", "tz": "utc", "fold": 0}
    cases = []
    for kwargs in [
        {"day": "31", "month": "2"},
        {"day": "30", "month": "feb", "timezone": "America/New_York"},
        {"week": "1", "month": "jun", "timezone": "Europe/London"},
        {"day": "31", "month": "apr,jun,sep,nov", "hour": "3"},
        {"day": "31", "month": "2", "end_date": "2030-01-01"},
    ]:
        kwargs.setdefault("timezone", "UTC")
        cases.append({"trigger": {"type": "cron", "kwargs": kwargs},
                      "calls": {"mode": "chain", "now": now, "n": 2}, "pickle": False})
    return cases[:count]


# ---------------------------------------------------------------------------
# groups
# ---------------------------------------------------------------------------

GENERATORS = {
    "cron": gen_cron,
    "crondst": gen_cron_dst,
    "crontab": gen_crontab,
    "interval": gen_interval,
    "date": gen_date,
    "calendarinterval": gen_calendar,
    "combining": gen_combining,
    "invalid": gen_invalid,
    "never": gen_never,
}

# kind -> (seeds, cases per seed)
PLAN = {
    "cron": (4, 500),
    "crondst": (4, 300),
    "crontab": (2, 300),
    "interval": (3, 400),
    "date": (2, 300),
    "calendarinterval": (3, 400),
    "combining": (3, 250),
    "invalid": (1, 10_000),
    "never": (1, 10),
}


def group_names():
    return [f"{kind}-s{seed}" for kind, (seeds, _) in PLAN.items() for seed in range(seeds)]


@lru_cache(maxsize=None)
def _generate_group(name: str):
    kind, _, seed = name.rpartition("-s")
    count = PLAN[kind][1]
    rng = random.Random(f"{kind}:{seed}")
    cases = GENERATORS[kind](rng, count)
    out = []
    for index, case in enumerate(cases):
        case = dict(case)
        case["id"] = f"{name}-{index:04d}"
        case.setdefault("pickle", True)
        case["xpickle"] = rng.random() < 0.25
        out.append(case)
    return out


def generate_group(name: str) -> list:
    """The cases of one group, e.g. ``"cron-s0"`` (a fresh copy every call)."""
    import copy

    return copy.deepcopy(_generate_group(name))


def find_case(case_id: str) -> dict:
    name = case_id.rsplit("-", 1)[0]
    for case in generate_group(name):
        if case["id"] == case_id:
            return case
    raise KeyError(case_id)
