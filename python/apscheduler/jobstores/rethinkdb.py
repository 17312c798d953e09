from apscheduler.jobstores.base import BaseJobStore

# Fail at import time, with a hint, when the library is missing.
try:
    from rethinkdb import RethinkDB  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("RethinkDBJobStore requires rethinkdb installed") from exc


class RethinkDBJobStore(BaseJobStore):
    """
    Stores jobs in a RethinkDB database.

    Plugin alias: ``rethinkdb``

    Its engine arrives with the scheduler core.
    """
