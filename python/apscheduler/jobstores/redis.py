import pickle
from datetime import datetime, timezone

from apscheduler.jobstores import _shared
from apscheduler.jobstores._pickled import dump_job, log_unrestorable, restore_job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

# Fail at import time, with a hint, when the library is missing.
try:
    from redis import Redis
except ImportError as exc:  # pragma: nocover
    raise ImportError("RedisJobStore requires redis installed") from exc

# Paused jobs sort after every scheduled one.
_PAUSED_SORT_KEY = datetime(9999, 12, 31, tzinfo=timezone.utc)


class RedisJobStore(BaseJobStore):
    """
    Stores jobs in a Redis database. Any leftover keyword arguments are directly passed
    to redis's :class:`~redis.Redis`.

    Plugin alias: ``redis``

    :param int db: the database number to store jobs in
    :param str jobs_key: key to store jobs in
    :param str run_times_key: key to store the jobs' run times in
    :param int pickle_protocol: pickle protocol level to use (for serialization),
        defaults to the highest available
    :param bool shared: let several scheduler processes, on any hosts, use this
        store at once, each run being executed by one of them; see
        ``docs/shared-stores.md``. Not in APScheduler 3.
    :param float lease_seconds: in shared mode, how long a process that stops
        renewing its lease (it died) keeps its claims
    :param float poll_seconds: in shared mode, how often each process reads the
        store even without a notification (default 10)

    Layout (APScheduler 3.x's): a hash ``jobs_key`` of job ID to pickled job, and a
    sorted set ``run_times_key`` of job ID scored by its next run time as a UTC
    timestamp; paused jobs are absent from the sorted set.
    """

    def __init__(
        self,
        db=0,
        jobs_key="apscheduler.jobs",
        run_times_key="apscheduler.run_times",
        pickle_protocol=pickle.HIGHEST_PROTOCOL,
        shared=False,
        lease_seconds=_shared.DEFAULT_LEASE_SECONDS,
        poll_seconds=None,
        **connect_args,
    ):
        super().__init__()
        sharing = _shared.SharingOptions(shared, lease_seconds, poll_seconds)

        if db is None:
            raise ValueError('The "db" parameter must not be empty')
        if not jobs_key:
            raise ValueError('The "jobs_key" parameter must not be empty')
        if not run_times_key:
            raise ValueError('The "run_times_key" parameter must not be empty')

        self.pickle_protocol = pickle_protocol
        self.jobs_key = jobs_key
        self.run_times_key = run_times_key
        self.redis = Redis(db=int(db), **connect_args)
        self._sharing = None
        if sharing.enabled:
            from apscheduler.jobstores._shared_redis import RedisSharing

            self._sharing = RedisSharing(self, sharing)

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        if self._sharing is not None:
            self._sharing.start()

    # Shared mode: the scheduler claims due jobs (see _shared) instead of reading them.

    @property
    def _claims_due_jobs(self):
        return self._sharing is not None

    def _claim_due_jobs(self, now):
        return self._sharing.claim(now)

    def _next_wakeup_time(self, now):
        return self._sharing.next_wakeup_time(now)

    def lookup_job(self, job_id):
        job_state = self.redis.hget(self.jobs_key, job_id)
        job = self._reconstitute_job(job_state) if job_state else None
        if job is not None and self._sharing is not None:
            self._sharing.remember_read(job)
        return job

    def get_due_jobs(self, now):
        timestamp = datetime_to_utc_timestamp(now)
        job_ids = self.redis.zrangebyscore(self.run_times_key, 0, timestamp)
        if not job_ids:
            return []

        job_states = self.redis.hmget(self.jobs_key, *job_ids)
        return self._reconstitute_jobs(zip(job_ids, job_states))

    def get_next_run_time(self):
        first = self.redis.zrange(self.run_times_key, 0, 0, withscores=True)
        return utc_timestamp_to_datetime(first[0][1]) if first else None

    def get_all_jobs(self):
        jobs = self._reconstitute_jobs(self.redis.hgetall(self.jobs_key).items())
        jobs.sort(key=lambda job: job.next_run_time or _PAUSED_SORT_KEY)
        return jobs

    def add_job(self, job):
        if self._sharing is not None:
            return self._sharing.add_job(job)

        if self.redis.hexists(self.jobs_key, job.id):
            raise ConflictingIdError(job.id)

        job_state = dump_job(job, self.pickle_protocol)
        with self.redis.pipeline() as pipe:
            pipe.multi()
            pipe.hset(self.jobs_key, job.id, job_state)
            if job.next_run_time:
                timestamp = datetime_to_utc_timestamp(job.next_run_time)
                pipe.zadd(self.run_times_key, {job.id: timestamp})
            pipe.execute()

    def update_job(self, job):
        if self._sharing is not None:
            if self._sharing.in_claim:
                return self._sharing.claimed_write(job, remove=False)
            return self._sharing.update_job(job)

        if not self.redis.hexists(self.jobs_key, job.id):
            raise JobLookupError(job.id)

        job_state = dump_job(job, self.pickle_protocol)
        with self.redis.pipeline() as pipe:
            pipe.hset(self.jobs_key, job.id, job_state)
            if job.next_run_time:
                timestamp = datetime_to_utc_timestamp(job.next_run_time)
                pipe.zadd(self.run_times_key, {job.id: timestamp})
            else:
                pipe.zrem(self.run_times_key, job.id)
            pipe.execute()

    def remove_job(self, job_id):
        if self._sharing is not None:
            if self._sharing.in_claim:
                return self._sharing.claimed_remove(job_id)
            return self._sharing.remove_job(job_id)

        if not self.redis.hexists(self.jobs_key, job_id):
            raise JobLookupError(job_id)

        self._delete(job_id)

    def remove_all_jobs(self):
        if self._sharing is not None:
            return self._sharing.remove_all_jobs()

        with self.redis.pipeline() as pipe:
            pipe.delete(self.jobs_key)
            pipe.delete(self.run_times_key)
            pipe.execute()

    def shutdown(self):
        if self._sharing is not None:
            self._sharing.shutdown()
        self.redis.connection_pool.disconnect()

    def _delete(self, *job_ids):
        with self.redis.pipeline() as pipe:
            pipe.hdel(self.jobs_key, *job_ids)
            pipe.zrem(self.run_times_key, *job_ids)
            pipe.execute()

    def _reconstitute_job(self, job_state):
        return restore_job(self, pickle.loads(job_state))

    def _reconstitute_jobs(self, job_states):
        """Jobs from ``(job ID, pickled job)`` pairs; the ones that cannot be
        restored are logged and deleted."""
        jobs = []
        unrestorable = []
        for job_id, job_state in job_states:
            try:
                jobs.append(self._reconstitute_job(job_state))
            except BaseException:
                log_unrestorable(self, job_id)
                unrestorable.append(job_id)

        if unrestorable:
            self._delete(*unrestorable)

        return jobs

    def __repr__(self):
        return f"<{self.__class__.__name__}>"
