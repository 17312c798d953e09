from apscheduler.jobstores.base import BaseJobStore

# Fail at import time, with a hint, when the library is missing.
try:
    from etcd3 import Etcd3Client  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("EtcdJobStore requires etcd3 be installed") from exc


class EtcdJobStore(BaseJobStore):
    """
    Stores jobs in etcd.

    Plugin alias: ``etcd``

    Its engine arrives with the scheduler core.
    """
