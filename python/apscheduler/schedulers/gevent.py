from apscheduler.schedulers.blocking import BlockingScheduler

# Fail at import time, with a hint, when the framework is missing.
try:
    import gevent  # noqa: F401
    from gevent.event import Event  # noqa: F401
    from gevent.lock import RLock  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("GeventScheduler requires gevent installed") from exc


class GeventScheduler(BlockingScheduler):
    """
    A scheduler that runs as a Gevent greenlet.

    Its engine arrives with the scheduler core.
    """
