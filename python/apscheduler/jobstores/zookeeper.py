import pickle
from datetime import datetime, timezone

# Like APScheduler 3.x, a missing kazoo surfaces as a plain ModuleNotFoundError from
# this first import; the hint below only fires for a kazoo without its client module.
from kazoo.exceptions import NodeExistsError, NoNodeError

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

try:
    from kazoo.client import KazooClient
except ImportError as exc:  # pragma: nocover
    raise ImportError("ZooKeeperJobStore requires Kazoo installed") from exc

# Paused jobs sort after every scheduled one.
_PAUSED_SORT_KEY = datetime(9999, 12, 31, tzinfo=timezone.utc)


class ZooKeeperJobStore(BaseJobStore):
    """
    Stores jobs in a ZooKeeper tree. Any leftover keyword arguments are directly passed
    to kazoo's :class:`~kazoo.client.KazooClient`.

    Plugin alias: ``zookeeper``

    :param str path: path to store jobs in
    :param client: a :class:`~kazoo.client.KazooClient` instance to use instead of
        providing connection arguments
    :param bool close_connection_on_exit: stop and close the client in
        :meth:`shutdown`
    :param int pickle_protocol: pickle protocol level to use (for serialization),
        defaults to the highest available

    Each job is a child node of ``path`` named after its ID, holding APScheduler 3.x's
    pickled ``{"next_run_time": UTC timestamp, "job_state": job state}``. ZooKeeper
    cannot query by value, so every read lists and loads the whole tree.
    """

    def __init__(
        self,
        path="/apscheduler",
        client=None,
        close_connection_on_exit=False,
        pickle_protocol=pickle.HIGHEST_PROTOCOL,
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
            self.client = KazooClient(**connect_args)
        self._ensured_path = False

    def _ensure_paths(self):
        if not self._ensured_path:
            self.client.ensure_path(self.path)
            self._ensured_path = True

    def _node_path(self, job_id):
        return f"{self.path}/{job_id}"

    def _node_value(self, job):
        value = {
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": job.__getstate__(),
        }
        return pickle.dumps(value, self.pickle_protocol)

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        if not self.client.connected:
            self.client.start()

    def lookup_job(self, job_id):
        self._ensure_paths()
        # As in APScheduler, a job that is missing or cannot be restored is None.
        try:
            content, _ = self.client.get(self._node_path(job_id))
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
        self._ensure_paths()
        value = self._node_value(job)
        try:
            self.client.create(self._node_path(job.id), value=value)
        except NodeExistsError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job):
        self._ensure_paths()
        value = self._node_value(job)
        try:
            self.client.set(self._node_path(job.id), value=value)
        except NoNodeError:
            raise JobLookupError(job.id) from None

    def remove_job(self, job_id):
        self._ensure_paths()
        try:
            self.client.delete(self._node_path(job_id))
        except NoNodeError:
            raise JobLookupError(job_id) from None

    def remove_all_jobs(self):
        try:
            self.client.delete(self.path, recursive=True)
        except NoNodeError:
            pass
        self._ensured_path = False

    def shutdown(self):
        if self.close_connection_on_exit:
            self.client.stop()
            self.client.close()

    def _reconstitute_job(self, job_state):
        return restore_job(self, job_state)

    def _get_jobs(self):
        """
        Every job in the tree as ``{"job_id", "next_run_time", "job_state", "job",
        "creation_time"}``, sorted by next run time (paused last), then by node
        creation; nodes that cannot be restored are logged and deleted.
        """
        self._ensure_paths()
        records = []
        unrestorable = []
        # ctime has millisecond resolution: nodes created in the same millisecond are
        # told apart by their creation transaction, which ZooKeeper numbers in order.
        creation_order = {}
        for node_name in self.client.get_children(self.path):
            try:
                content, stat = self.client.get(self._node_path(node_name))
                document = pickle.loads(content)
                creation_order[node_name] = stat.czxid
                records.append(
                    {
                        "job_id": node_name,
                        "next_run_time": document["next_run_time"] or None,
                        "job_state": document["job_state"],
                        "job": self._reconstitute_job(document["job_state"]),
                        "creation_time": stat.ctime,
                    }
                )
            except BaseException:
                log_unrestorable(self, node_name)
                unrestorable.append(node_name)

        for job_id in unrestorable:
            self.remove_job(job_id)

        records.sort(
            key=lambda record: (
                record["job"].next_run_time or _PAUSED_SORT_KEY,
                record["creation_time"],
                creation_order[record["job_id"]],
            )
        )
        return records

    def __repr__(self):
        return f"<{self.__class__.__name__} (client={self.client})>"
