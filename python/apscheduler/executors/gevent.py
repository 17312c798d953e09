import sys
from functools import partial

# run_job is read from this module's namespace at each submission, so that it can be
# patched here.
from apscheduler.executors.base import BaseExecutor, run_job

# Fail at import time, with a hint, when the framework is missing.
try:
    import gevent
except ImportError as exc:  # pragma: nocover
    raise ImportError("GeventExecutor requires gevent installed") from exc


class GeventExecutor(BaseExecutor):
    """
    Runs jobs as greenlets.

    Plugin alias: ``gevent``
    """

    def _do_submit_job(self, job, run_times):
        gevent.spawn(
            run_job, job, job._jobstore_alias, run_times, self._logger.name
        ).link(partial(self._job_done, job.id))

    def _job_done(self, job_id, greenlet):
        try:
            events = greenlet.get()
        except BaseException:
            self._run_job_error(job_id, *sys.exc_info()[1:])
        else:
            self._run_job_success(job_id, events)
