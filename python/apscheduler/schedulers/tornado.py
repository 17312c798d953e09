from apscheduler.schedulers.base import BaseScheduler

# Fail at import time, with a hint, when the framework is missing.
try:
    from tornado.ioloop import IOLoop  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("TornadoScheduler requires tornado installed") from exc


class TornadoScheduler(BaseScheduler):
    """
    A scheduler that runs on a Tornado IOLoop.

    The default executor can run jobs based on native coroutines (``async def``).

    =========== ===============================================================
    ``io_loop`` Tornado IOLoop instance to use (defaults to the global IO loop)
    =========== ===============================================================

    Its engine arrives with the scheduler core.
    """
