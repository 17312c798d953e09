from apscheduler.executors.base import BaseExecutor

# Fail at import time, with a hint, when the framework is missing.
try:
    import gevent  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("GeventExecutor requires gevent installed") from exc


class GeventExecutor(BaseExecutor):
    """
    Runs jobs as greenlets.

    Plugin alias: ``gevent``

    Its engine arrives with the scheduler core.
    """
