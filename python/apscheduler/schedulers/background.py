from apscheduler.schedulers.blocking import BlockingScheduler


class BackgroundScheduler(BlockingScheduler):
    """
    A scheduler that runs in the background using a separate thread
    (:meth:`~apscheduler.schedulers.base.BaseScheduler.start` will return immediately).

    Its engine arrives with the scheduler core.
    """
