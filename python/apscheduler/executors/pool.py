from apscheduler.executors.base import BaseExecutor


class BasePoolExecutor(BaseExecutor):
    """
    Base class for the executors that hand jobs to a :mod:`concurrent.futures` pool.

    Its engine arrives with the scheduler core.
    """


class ThreadPoolExecutor(BasePoolExecutor):
    """
    An executor that runs jobs in a concurrent.futures thread pool.

    Plugin alias: ``threadpool``

    :param max_workers: the maximum number of spawned threads.
    :param pool_kwargs: dict of keyword arguments to pass to the underlying
        ThreadPoolExecutor constructor

    Its engine arrives with the scheduler core.
    """


class ProcessPoolExecutor(BasePoolExecutor):
    """
    An executor that runs jobs in a concurrent.futures process pool.

    Plugin alias: ``processpool``

    :param max_workers: the maximum number of spawned processes.
    :param pool_kwargs: dict of keyword arguments to pass to the underlying
        ProcessPoolExecutor constructor

    Its engine arrives with the scheduler core.
    """
