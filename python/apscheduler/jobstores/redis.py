from apscheduler.jobstores.base import BaseJobStore

# Fail at import time, with a hint, when the library is missing.
try:
    from redis import Redis  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("RedisJobStore requires redis installed") from exc


class RedisJobStore(BaseJobStore):
    """
    Stores jobs in a Redis database.

    Plugin alias: ``redis``

    Its engine arrives with the scheduler core.
    """
