from apscheduler.executors.base import BaseExecutor

# Like APScheduler 3.x, a missing tornado surfaces here as a plain
# ModuleNotFoundError, at import time.
from tornado.gen import convert_yielded  # noqa: F401


class TornadoExecutor(BaseExecutor):
    """
    Runs jobs either in a thread pool or directly on the I/O loop.

    If the job function is a native coroutine function, it is scheduled to be run
    directly in the I/O loop as soon as possible. All other functions are run in a
    thread pool.

    Plugin alias: ``tornado``

    :param int max_workers: maximum number of worker threads in the thread pool

    Its engine arrives with the scheduler core.
    """
