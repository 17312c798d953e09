from threading import Thread, current_thread

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.util import asbool


class BackgroundScheduler(BlockingScheduler):
    """
    A scheduler that runs in the background using a separate thread
    (:meth:`~apscheduler.schedulers.base.BaseScheduler.start` will return immediately).

    Extra options:

    ========== =========================================================================
    ``daemon`` Set the ``daemon`` option in the background thread (defaults to ``True``,
               see `the documentation
               <https://docs.python.org/3.4/library/threading.html#thread-objects>`_
               for further details)
    ========== =========================================================================
    """

    _thread = None

    def _configure(self, config):
        self._daemon = asbool(config.pop("daemon", True))
        super()._configure(config)

    def start(self, *args, **kwargs):
        self._prepare_wakeup_event()
        BaseScheduler.start(self, *args, **kwargs)
        self._thread = Thread(
            target=self._main_loop, name="APScheduler", daemon=self._daemon
        )
        self._thread.start()

    def _after_fork_in_child(self):
        super()._after_fork_in_child()
        # The scheduler's thread does not exist in a forked child (or it is the thread
        # that forked, whose loop ends now that the scheduler is stopped); start()
        # creates a new one.
        self._thread = None

    def shutdown(self, *args, **kwargs):
        super().shutdown(*args, **kwargs)
        thread = self._thread
        self._thread = None
        # Called from a job or listener running on the scheduler thread itself, the
        # loop ends by itself once that call returns: joining would wait for ever.
        # The thread is also missing when a listener of the "started" event shuts the
        # scheduler down before start() has created it.
        if thread is not None and thread is not current_thread():
            thread.join()
