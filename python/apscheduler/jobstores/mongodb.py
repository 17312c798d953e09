from apscheduler.jobstores.base import BaseJobStore

# Fail at import time, with a hint, when the library is missing.
try:
    from bson.binary import Binary  # noqa: F401
    from pymongo import ASCENDING, MongoClient  # noqa: F401
    from pymongo.errors import DuplicateKeyError  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("MongoDBJobStore requires PyMongo installed") from exc


class MongoDBJobStore(BaseJobStore):
    """
    Stores jobs in a MongoDB database.

    Plugin alias: ``mongodb``

    Its engine arrives with the scheduler core.
    """
