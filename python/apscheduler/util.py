"""This module contains several handy functions primarily meant for internal use."""

__all__ = (
    "asbool",
    "asint",
    "astimezone",
    "check_callable_args",
    "convert_to_datetime",
    "datetime_ceil",
    "datetime_to_utc_timestamp",
    "get_callable_name",
    "localize",
    "maybe_ref",
    "normalize",
    "obj_to_ref",
    "ref_to_obj",
    "undefined",
    "utc_timestamp_to_datetime",
)

# This module is imported whenever the package is, so it sticks to cheap imports:
# ``re`` and ``inspect`` are loaded on demand and ``asyncio`` is never imported here.
import sys
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import partial
from types import BuiltinFunctionType, FunctionType, MethodType
from zoneinfo import ZoneInfo

UTC = timezone.utc

_EPOCH = datetime(1970, 1, 1)
_ONE_SECOND = timedelta(seconds=1)

_TRUE_WORDS = frozenset(("true", "yes", "on", "y", "t", "1"))
_FALSE_WORDS = frozenset(("false", "no", "off", "n", "f", "0"))

_LOCAL_TZ_MESSAGE = (
    "Unable to determine the name of the local timezone -- you must explicitly specify "
    "the name of the local timezone. Please refrain from using timezones like EST to "
    "prevent problems with daylight saving time. Instead, use a locale based timezone "
    "name (such as Europe/Helsinki)."
)

# Y-m-d, optionally followed by H:M:S (space or "T" separated), optional fractional
# digits and an optional "Z"/"+HH:MM"/"-HH:MM" suffix.  The fraction is read as a plain
# integer count of microseconds and "$" (not "\Z") ends the pattern; both are part of
# the accepted format that existing configurations may rely on.  Compiled on first use,
# as compiling it costs about as much as the rest of this module's import.
_DATE_STRING_SOURCE = (
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T]"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{1,2}):(?P<second>\d{1,2})"
    r"(?:\.(?P<microsecond>\d{1,6}))?"
    r"(?P<offset>Z|[+-]\d\d:\d\d)?"
    r")?$"
)
_date_string = None
_DATE_FIELDS = ("year", "month", "day", "hour", "minute", "second", "microsecond")


class _Undefined:
    """Type of the :data:`undefined` sentinel."""

    def __bool__(self):
        return False

    def __repr__(self):
        return "<undefined>"


#: a unique object that only signifies that no value is defined
undefined = _Undefined()


def asint(text):
    """
    Safely converts a string to an integer, returning ``None`` if the string is
    ``None``.

    :type text: str
    :rtype: int

    """
    if text is None:
        return None

    return int(text)


def asbool(obj):
    """
    Interprets an object as a boolean value.

    :rtype: bool

    """
    if not isinstance(obj, str):
        return bool(obj)

    word = obj.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False

    raise ValueError(f'Unable to interpret value "{word}" as boolean')


def astimezone(obj):
    """
    Interprets an object as a timezone.

    :rtype: tzinfo

    """
    if obj is None:
        return None

    if isinstance(obj, str):
        return UTC if obj == "UTC" else ZoneInfo(obj)

    if not isinstance(obj, tzinfo):
        raise TypeError(f"Expected tzinfo, got {type(obj).__name__} instead")

    # A zone that only knows itself as "local" cannot be persisted or compared sensibly.
    if obj.tzname(None) == "local":
        raise ValueError(_LOCAL_TZ_MESSAGE)

    if isinstance(obj, ZoneInfo):
        return obj

    # pytz zones carry a ``zone`` attribute: named ones are swapped for their zoneinfo
    # equivalent, fixed offsets (whose ``zone`` is None) for a datetime.timezone.
    # Differs from APScheduler: it reads the fixed offset from a private pytz attribute
    # that pytz 2026.4 removed, and fails there; utcoffset() works with every version.
    if hasattr(obj, "zone"):
        if obj.zone:
            return ZoneInfo(obj.zone)

        return timezone(obj.utcoffset(None))

    return obj


def asdate(obj):
    """
    Interprets an ISO 8601 string as a :class:`~datetime.date`; other values pass
    through unchanged.
    """
    if isinstance(obj, str):
        return date.fromisoformat(obj)

    return obj


def _parse_date_string(text):
    """Return ``(naive datetime, tzinfo or None)`` for a string in the accepted form."""
    global _date_string
    if _date_string is None:
        import re

        _date_string = re.compile(_DATE_STRING_SOURCE)

    match = _date_string.match(text)
    if match is None:
        raise ValueError("Invalid date string")

    fields = {name: int(match.group(name) or 0) for name in _DATE_FIELDS}
    offset = match.group("offset")
    if not offset:
        zone = None
    elif offset == "Z":
        zone = UTC
    else:
        hours, minutes = offset[1:].split(":")
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        zone = timezone(-delta if offset[0] == "-" else delta)

    return datetime(**fields), zone


def convert_to_datetime(input, tz, arg_name):
    """
    Converts the given object to a timezone aware datetime object.

    If a timezone aware datetime object is passed, it is returned unmodified.
    If a native datetime object is passed, it is given the specified timezone.
    If the input is a string, it is parsed as a datetime with the given timezone.

    Date strings are accepted in three different forms: date only (Y-m-d), date with
    time (Y-m-d H:M:S) or with date+time with microseconds (Y-m-d H:M:S.micro).
    Additionally you can override the time zone by giving a specific offset in the
    format specified by ISO 8601: Z (UTC), +HH:MM or -HH:MM.

    :param str|datetime input: the datetime or string to convert to a timezone aware
        datetime
    :param datetime.tzinfo tz: timezone to interpret ``input`` in
    :param str arg_name: the name of the argument (used in an error message)
    :rtype: datetime

    """
    if input is None:
        return None

    # datetime is a subclass of date, so it has to be tested first
    if isinstance(input, datetime):
        value = input
    elif isinstance(input, date):
        value = datetime.combine(input, time())
    elif isinstance(input, str):
        value, explicit_zone = _parse_date_string(input)
        if explicit_zone is not None:
            tz = explicit_zone
    else:
        raise TypeError(f"Unsupported type for {arg_name}: {type(input).__name__}")

    if value.tzinfo is not None:
        return value

    if tz is None:
        raise ValueError(
            f'The "tz" argument must be specified if {arg_name} has no timezone '
            f"information"
        )

    if isinstance(tz, str):
        tz = astimezone(tz)

    return localize(value, tz)


def datetime_to_utc_timestamp(timeval):
    """
    Converts a datetime instance to a timestamp.

    :type timeval: datetime
    :rtype: float

    """
    if timeval is None:
        return None

    # Naive values are taken to be in UTC already.  Whole seconds are computed with
    # exact integer arithmetic and the original microseconds are added on top, so the
    # float result does not depend on the platform's time functions.
    offset = timeval.utcoffset()
    utc_naive = timeval.replace(tzinfo=None)
    if offset:
        utc_naive -= offset

    whole_seconds = (utc_naive.replace(microsecond=0) - _EPOCH) // _ONE_SECOND
    return whole_seconds + timeval.microsecond / 1000000


def utc_timestamp_to_datetime(timestamp):
    """
    Converts the given timestamp to a datetime instance.

    :type timestamp: float
    :rtype: datetime

    """
    if timestamp is None:
        return None

    return datetime.fromtimestamp(timestamp, UTC)


def timedelta_seconds(delta):
    """
    Converts the given timedelta to seconds.

    :type delta: timedelta
    :rtype: float

    """
    return delta.days * 86400 + delta.seconds + delta.microseconds / 1000000.0


def datetime_ceil(dateval):
    """
    Rounds the given datetime object upwards.

    :type dateval: datetime

    """
    if not dateval.microsecond:
        return dateval

    return datetime_utc_add(
        dateval, timedelta(seconds=1, microseconds=-dateval.microsecond)
    )


def datetime_utc_add(dateval: datetime, tdelta: timedelta) -> datetime:
    """
    Adds a timedelta to a datetime, doing the arithmetic in UTC so that the result is
    correct across daylight saving time transitions.

    :param dateval: the datetime to add to
    :param tdelta: the timedelta to add
    :return: the sum, expressed in the time zone of ``dateval``

    """
    zone = dateval.tzinfo
    if zone is None:
        return dateval + tdelta

    return (dateval.astimezone(UTC) + tdelta).astimezone(zone)


def datetime_repr(dateval):
    """Formats a datetime for display in job and trigger representations."""
    if not dateval:
        return "None"

    return dateval.strftime("%Y-%m-%d %H:%M:%S %Z")


def timezone_repr(timezone: tzinfo) -> str:
    """Formats a time zone for display: a zoneinfo zone's key, otherwise its repr."""
    if isinstance(timezone, ZoneInfo):
        return timezone.key

    return repr(timezone)


def get_callable_name(func):
    """
    Returns the best available display name for the given function/callable.

    :rtype: str

    """
    if isinstance(func, MethodType):
        # Bound methods, including class methods (bound to the class itself)
        owner = func.__self__
        owner_class = owner if isinstance(owner, type) else type(owner)
        return f"{owner_class.__qualname__}.{func.__name__}"

    if isinstance(func, (type, FunctionType, BuiltinFunctionType)):
        return func.__qualname__

    call = getattr(func, "__call__", None)
    if call is not None and callable(call):
        # an instance of a class that defines __call__
        return type(func).__qualname__

    raise TypeError(
        f"Unable to determine a name for {func!r} -- maybe it is not a callable?"
    )


def obj_to_ref(obj):
    """
    Returns the path to the given callable.

    :rtype: str
    :raises TypeError: if the given object is not callable
    :raises ValueError: if the given object is a :class:`~functools.partial`, lambda
        or a nested function

    """
    if isinstance(obj, partial):
        raise ValueError("Cannot create a reference to a partial()")

    name = get_callable_name(obj)
    if "<lambda>" in name:
        raise ValueError("Cannot create a reference to a lambda")
    if "<locals>" in name:
        raise ValueError("Cannot create a reference to a nested function")

    # A method is found through its owner, so the owner's module is what counts
    # (this matters for class methods inherited from a class in another module).
    holder = obj.__self__ if isinstance(obj, MethodType) else obj
    return f"{holder.__module__}:{name}"


def ref_to_obj(ref):
    """
    Returns the object pointed to by ``ref``.

    :type ref: str

    """
    if not isinstance(ref, str):
        raise TypeError("References must be strings")
    if ":" not in ref:
        raise ValueError("Invalid reference")

    module_name, attr_path = ref.split(":", 1)
    # Passing a non-empty fromlist makes __import__ hand back the named module itself
    # rather than its top-level package, and lets "package:submodule" references load a
    # submodule that has not been imported yet.
    try:
        target = __import__(module_name, fromlist=[attr_path])
    except ImportError as exc:
        raise LookupError(
            f"Error resolving reference {ref}: could not import module"
        ) from exc

    try:
        for attr in attr_path.split("."):
            target = getattr(target, attr)
    except Exception:
        raise LookupError(f"Error resolving reference {ref}: error looking up object")

    return target


def maybe_ref(ref):
    """
    Returns the object that the given reference points to, if it is indeed a reference.
    If it is not a reference, the object is returned as-is.

    """
    if isinstance(ref, str):
        return ref_to_obj(ref)

    return ref


# Answers of check_callable_args for plain functions and methods, keyed by what the
# answer depends on: the function's code, whether it is bound, how many positional
# arguments are given and which keyword names (in order). inspect.signature() is most
# of the cost of add_job(), and a program schedules the same few functions over and
# over. The values keep the default values and any __signature__ the answer was
# computed with; a function whose defaults or signature were replaced since misses.
_callable_checks = {}
_CALLABLE_CHECKS_LIMIT = 4096


def _callable_check_key(func, args, kwargs):
    """The cache key and the identity-checked parts of the answer, or None."""
    if type(func) is MethodType and type(func.__func__) is FunctionType:
        target, bound = func.__func__, True
    elif type(func) is FunctionType:
        target, bound = func, False
    else:
        return None
    if type(args) not in (tuple, list) or type(kwargs) is not dict:
        return None
    key = (target.__code__, bound, len(args), tuple(kwargs))
    parts = (target.__defaults__, target.__kwdefaults__, target.__dict__.get("__signature__"))
    return key, parts


def check_callable_args(func, args, kwargs):
    """
    Ensures that the given callable can be called with the given arguments.

    :type args: tuple
    :type kwargs: dict

    """
    cache_key = _callable_check_key(func, args, kwargs)
    if cache_key is None:
        return _check_callable_args(func, args, kwargs)

    key, parts = cache_key
    cached = _callable_checks.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], parts)):
        if cached[1] is not None:
            raise ValueError(cached[1])
        return

    try:
        _check_callable_args(func, args, kwargs)
    except ValueError as exc:
        _remember_check(key, parts, str(exc))
        raise
    _remember_check(key, parts, None)


def _remember_check(key, parts, error):
    if len(_callable_checks) >= _CALLABLE_CHECKS_LIMIT:
        _callable_checks.clear()
    _callable_checks[key] = (parts, error)


def _check_callable_args(func, args, kwargs):
    from inspect import Parameter, signature

    try:
        # The signature of the callable itself is what counts: a wrapper may accept
        # different arguments than the function it wraps.
        sig = signature(func, follow_wrapped=False)
    except ValueError:
        # Some callables (certain builtins) expose no signature; nothing to check then.
        return

    leftover_args = len(list(args))  # positional values not yet bound to a parameter
    leftover_kwargs = list(kwargs)  # keyword names not yet bound, in the given order
    in_both = []
    keyword_for_positional_only = []
    missing_args = []
    missing_kwonly = []
    takes_varargs = takes_varkw = False

    for param in sig.parameters.values():
        kind = param.kind
        required = param.default is Parameter.empty
        if kind is Parameter.VAR_POSITIONAL:
            takes_varargs = True
        elif kind is Parameter.VAR_KEYWORD:
            takes_varkw = True
        elif kind is Parameter.KEYWORD_ONLY:
            if param.name in leftover_kwargs:
                leftover_kwargs.remove(param.name)
            elif required:
                missing_kwonly.append(param.name)
        elif kind is Parameter.POSITIONAL_ONLY:
            if leftover_args:
                leftover_args -= 1
            elif param.name in leftover_kwargs:
                leftover_kwargs.remove(param.name)
                keyword_for_positional_only.append(param.name)
            elif required:
                missing_args.append(param.name)
        else:  # positional-or-keyword
            if leftover_args and param.name in leftover_kwargs:
                # Reported below; neither value is consumed.
                in_both.append(param.name)
            elif leftover_args:
                leftover_args -= 1
            elif param.name in leftover_kwargs:
                leftover_kwargs.remove(param.name)
            elif required:
                missing_args.append(param.name)

    if in_both:
        raise ValueError(
            "The following arguments are supplied in both args and kwargs: "
            + ", ".join(in_both)
        )

    if keyword_for_positional_only:
        raise ValueError(
            "The following arguments cannot be given as keyword arguments: "
            + ", ".join(keyword_for_positional_only)
        )

    if missing_args:
        raise ValueError(
            "The following arguments have not been supplied: " + ", ".join(missing_args)
        )

    if missing_kwonly:
        raise ValueError(
            "The following keyword-only arguments have not been supplied in kwargs: "
            + ", ".join(missing_kwonly)
        )

    if leftover_args and not takes_varargs:
        raise ValueError(
            f"The list of positional arguments is longer than the target callable can "
            f"handle (allowed: {len(args) - leftover_args}, given in args: {len(args)})"
        )

    if leftover_kwargs and not takes_varkw:
        raise ValueError(
            "The target callable does not accept the following keyword arguments: "
            + ", ".join(leftover_kwargs)
        )


def iscoroutinefunction_partial(f):
    """
    Tells whether ``f`` is a coroutine function, looking through any layers of
    :func:`functools.partial`.

    """
    while isinstance(f, partial):
        f = f.func

    from inspect import iscoroutinefunction

    if iscoroutinefunction(f):
        return True

    # Before 3.14 asyncio also recognises functions carrying its private coroutine
    # marker (legacy @asyncio.coroutine functions, AsyncMock).  Such a marker can only
    # exist once asyncio has been imported, so asyncio is consulted only in that case
    # and never imported just for this check.
    if sys.version_info < (3, 14):
        coroutines = sys.modules.get("asyncio.coroutines")
        marker = getattr(coroutines, "_is_coroutine", None)
        if marker is not None:
            return getattr(f, "_is_coroutine", None) is marker

    return False


def normalize(dt):
    """
    Resolves a datetime that falls in a daylight saving time gap (a wall clock time
    that never happened) to the equivalent existing wall clock time.

    """
    return datetime.fromtimestamp(dt.timestamp(), dt.tzinfo)


def localize(dt, tzinfo):
    """
    Attaches ``tzinfo`` to the naive datetime ``dt``, for pytz as well as for
    :pep:`495` style time zones.

    """
    # pytz zones must go through their own localize() to pick the right UTC offset
    if hasattr(tzinfo, "localize"):
        return tzinfo.localize(dt)

    return normalize(dt.replace(tzinfo=tzinfo))
