from apscheduler.schedulers.base import BaseScheduler

# Fail at import time, with a hint, when the framework is missing.  Importing the
# reactor module also installs Twisted's default reactor unless another one was
# installed before, which is the reactor this scheduler uses by default.
try:
    from twisted.internet import reactor as default_reactor  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("TwistedScheduler requires Twisted installed") from exc


class TwistedScheduler(BaseScheduler):
    """
    A scheduler that runs on a Twisted reactor.

    Extra options:

    =========== ========================================================
    ``reactor`` Reactor instance to use (defaults to the global reactor)
    =========== ========================================================

    Its engine arrives with the scheduler core.
    """
