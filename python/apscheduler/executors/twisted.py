from apscheduler.executors.base import BaseExecutor


class TwistedExecutor(BaseExecutor):
    """
    Runs jobs in the reactor's thread pool.

    Plugin alias: ``twisted``

    Its engine arrives with the scheduler core.
    """
