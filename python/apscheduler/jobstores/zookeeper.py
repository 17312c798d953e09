# Like APScheduler 3.x, a missing kazoo surfaces as a plain ModuleNotFoundError from
# this first import; the hint below only fires for a kazoo without its client module.
from kazoo.exceptions import NodeExistsError, NoNodeError  # noqa: F401

from apscheduler.jobstores.base import BaseJobStore

try:
    from kazoo.client import KazooClient  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("ZooKeeperJobStore requires Kazoo installed") from exc


class ZooKeeperJobStore(BaseJobStore):
    """
    Stores jobs in a ZooKeeper tree.

    Plugin alias: ``zookeeper``

    Its engine arrives with the scheduler core.
    """
