from apscheduler.executors.base import BaseExecutor


class DebugExecutor(BaseExecutor):
    """
    A special executor that executes the target callable directly instead of deferring
    it to a thread or process.

    Plugin alias: ``debug``

    Its engine arrives with the scheduler core.
    """
