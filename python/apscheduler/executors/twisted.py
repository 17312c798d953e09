from functools import partial

# run_job is read from this module's namespace at each submission, so that it can be
# patched here.
from apscheduler.executors.base import BaseExecutor, run_job


class TwistedExecutor(BaseExecutor):
    """
    Runs jobs in the reactor's thread pool.

    Plugin alias: ``twisted``
    """

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        self._reactor = scheduler._reactor

    def _do_submit_job(self, job, run_times):
        self._reactor.getThreadPool().callInThreadWithCallback(
            partial(self._job_done, job.id),
            run_job,
            job,
            job._jobstore_alias,
            run_times,
            self._logger.name,
        )

    def _job_done(self, job_id, success, result):
        # Called in the pool's thread with the events, or with a Failure.
        if success:
            self._run_job_success(job_id, result)
        else:
            self._run_job_error(job_id, result.value, result.tb)
