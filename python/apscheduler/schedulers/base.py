from abc import ABCMeta

# ``datetime`` and ``get_localzone`` are resolved through this module's namespace when
# used, which lets the clock and the local time zone be replaced (tests patch them).
from datetime import datetime  # noqa: F401

from tzlocal import get_localzone  # noqa: F401

#: constant indicating a scheduler's stopped state
STATE_STOPPED = 0
#: constant indicating a scheduler's running state (started and processing jobs)
STATE_RUNNING = 1
#: constant indicating a scheduler's paused state (started but not processing jobs)
STATE_PAUSED = 2


class BaseScheduler(metaclass=ABCMeta):
    """
    Base class for all schedulers.

    The scheduling engine (configuration, job management, event dispatch and the
    processing loop) arrives with the scheduler core.
    """
