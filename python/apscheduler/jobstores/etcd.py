import pickle
import warnings
from datetime import datetime, timezone

from apscheduler.jobstores._pickled import (
    due_jobs_of,
    log_unrestorable,
    next_run_time_of,
    restore_job,
)
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import (
    datetime_to_utc_timestamp,
    maybe_ref,
)

# Fail at import time, with a hint, when the library is missing.
try:
    # etcd3's generated protobuf modules use an API that protobuf reports as
    # deprecated; that is etcd3's business, not the importing application's.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Call to deprecated create function", DeprecationWarning
        )
        from etcd3 import Etcd3Client
except ImportError as exc:  # pragma: nocover
    raise ImportError("EtcdJobStore requires etcd3 be installed") from exc

# Paused jobs sort after every scheduled one.
_PAUSED_SORT_KEY = datetime(9999, 12, 31, tzinfo=timezone.utc)


class EtcdJobStore(BaseJobStore):
    """
    Stores jobs in etcd. Any leftover keyword arguments are directly passed to etcd3's
    :class:`~etcd3.client.Etcd3Client`.

    Plugin alias: ``etcd``

    :param str path: path to store jobs in
    :param client: an :class:`~etcd3.client.Etcd3Client` instance to use instead of
        providing connection arguments
    :param bool close_connection_on_exit: accepted for compatibility; the client is
        closed by :meth:`shutdown` in any case, as in APScheduler
    :param int pickle_protocol: pickle protocol level to use (for serialization),
        defaults to pickle's default protocol

    Each job is the key ``path/job ID``, holding APScheduler 3.x's pickled
    ``{"next_run_time": UTC timestamp, "job_state": job state}``. etcd cannot query by
    value, so every read loads the whole prefix.
    """

    def __init__(
        self,
        path="/apscheduler",
        client=None,
        close_connection_on_exit=False,
        pickle_protocol=pickle.DEFAULT_PROTOCOL,
        **connect_args,
    ):
        super().__init__()
        self.pickle_protocol = pickle_protocol
        self.close_connection_on_exit = close_connection_on_exit

        if not path:
            raise ValueError('The "path" parameter must not be empty')

        self.path = path
        if client:
            self.client = maybe_ref(client)
        else:
            self.client = Etcd3Client(**connect_args)

    def _key(self, job_id):
        return f"{self.path}/{job_id}"

    def _value(self, job):
        value = {
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": job.__getstate__(),
        }
        return pickle.dumps(value, self.pickle_protocol)

    def lookup_job(self, job_id):
        # As in APScheduler, a job that is missing or cannot be restored is None.
        try:
            content, _ = self.client.get(self._key(job_id))
            return self._reconstitute_job(pickle.loads(content)["job_state"])
        except BaseException:
            return None

    def get_due_jobs(self, now):
        return due_jobs_of(self._get_jobs(), now)

    def get_next_run_time(self):
        return next_run_time_of(self._get_jobs())

    def get_all_jobs(self):
        jobs = [record["job"] for record in self._get_jobs()]
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job):
        if not self.client.put_if_not_exists(self._key(job.id), value=self._value(job)):
            raise ConflictingIdError(job.id)

    def _if_exists(self, job_id, operation):
        """Run ``operation`` on the job's key in a transaction that requires the key
        to exist; raises ``JobLookupError`` when it does not."""
        key = self._key(job_id)
        transactions = self.client.transactions
        succeeded, _ = self.client.transaction(
            compare=[transactions.version(key) > 0],
            success=[operation(transactions, key)],
            failure=[],
        )
        if not succeeded:
            raise JobLookupError(job_id)

    def update_job(self, job):
        value = self._value(job)
        self._if_exists(job.id, lambda txn, key: txn.put(key, value=value))

    def remove_job(self, job_id):
        self._if_exists(job_id, lambda txn, key: txn.delete(key))

    def remove_all_jobs(self):
        self.client.delete_prefix(self.path)

    def shutdown(self):
        self.client.close()

    def _reconstitute_job(self, job_state):
        return restore_job(self, job_state)

    def _get_jobs(self):
        """
        Every job under the prefix as ``{"next_run_time", "job"}``, sorted by next run
        time (paused last); jobs that cannot be restored are logged and deleted.
        """
        records = []
        unrestorable = []
        for content, _ in list(self.client.get_prefix(self.path)):
            try:
                document = pickle.loads(content)
                records.append(
                    {
                        "next_run_time": document["next_run_time"],
                        "job": self._reconstitute_job(document["job_state"]),
                    }
                )
            except BaseException:
                # The ID is read back from the state: the key is not at hand here.
                job_id = pickle.loads(content)["job_state"]["id"]
                log_unrestorable(self, job_id)
                unrestorable.append(job_id)

        for job_id in unrestorable:
            self.remove_job(job_id)

        records.sort(key=lambda record: record["job"].next_run_time or _PAUSED_SORT_KEY)
        return records

    def __repr__(self):
        return f"<{self.__class__.__name__} (client={self.client})>"
