"""Drop-in replacement for APScheduler 3.x whose engine is written in Rust."""

# importlib.metadata drags in email, zipfile and friends (tens of milliseconds), so the
# version attributes are resolved on first access instead of at import time.

_FALLBACK_RELEASE = "3.11.3"
_VERSION_ATTRS = ("release", "version_info", "version", "__version__")


def _read_release():
    from importlib import metadata

    try:
        full = metadata.version("apscheduler-rs")
    except metadata.PackageNotFoundError:
        return _FALLBACK_RELEASE

    # Local/pre-release suffixes written with a dash are not part of the release number.
    return full.split("-")[0]


def __getattr__(name):
    if name not in _VERSION_ATTRS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    release = _read_release()
    parts = tuple(int(part) if part.isdigit() else part for part in release.split("."))
    short = ".".join(str(part) for part in parts[:3])
    # Cache in the module namespace so this hook never runs again for these names.
    globals().update(
        release=release, version_info=parts, version=short, __version__=short
    )
    return globals()[name]


def __dir__():
    return sorted(set(globals()) | set(_VERSION_ATTRS))
