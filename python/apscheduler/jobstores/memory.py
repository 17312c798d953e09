from apscheduler.jobstores.base import BaseJobStore


class MemoryJobStore(BaseJobStore):
    """
    Stores jobs in an array in RAM. Provides no persistence support.

    Plugin alias: ``memory``

    Its engine arrives with the scheduler core.
    """
