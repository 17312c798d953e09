from apscheduler._core import MemoryJobStore as _NativeMemoryJobStore
from apscheduler.jobstores.base import BaseJobStore


class MemoryJobStore(_NativeMemoryJobStore, BaseJobStore):
    """
    Stores jobs in RAM, ordered by next run time. Provides no persistence support.

    Plugin alias: ``memory``

    The index lives in Rust: adding, updating and removing a job take O(log n).
    """
