from apscheduler.schedulers.base import BaseScheduler


class BlockingScheduler(BaseScheduler):
    """
    A scheduler that runs in the foreground
    (:meth:`~apscheduler.schedulers.base.BaseScheduler.start` will block).

    Its engine arrives with the scheduler core.
    """
