import sys

from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError, run_job


class DebugExecutor(BaseExecutor):
    """
    A special executor that executes the target callable directly instead of deferring
    it to a thread or process.

    Plugin alias: ``debug``
    """

    def submit_job(self, job, run_times):
        # The job runs in the calling thread, within this call. The instance is
        # counted under the lock, but the job (and the listeners of its events) run
        # after the lock is released, so that they may call back into the scheduler
        # from anywhere without holding up other submissions.
        assert self._lock is not None, "This executor has not been started yet"
        with self._lock:
            if self._instances[job.id] >= job.max_instances:
                raise MaxInstancesReachedError(job)

            self._instances[job.id] += 1

        self._do_submit_job(job, run_times)

    def _do_submit_job(self, job, run_times):
        try:
            events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
        except BaseException:
            self._run_job_error(job.id, *sys.exc_info()[1:])
        else:
            self._run_job_success(job.id, events)
