import pickle

from apscheduler.jobstores._pickled import dump_job, log_unrestorable, restore_job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import (
    datetime_to_utc_timestamp,
    maybe_ref,
    utc_timestamp_to_datetime,
)

# Fail at import time, with a hint, when the library is missing.
try:
    from rethinkdb import RethinkDB
except ImportError as exc:  # pragma: nocover
    raise ImportError("RethinkDBJobStore requires rethinkdb installed") from exc


class RethinkDBJobStore(BaseJobStore):
    """
    Stores jobs in a RethinkDB database. Any leftover keyword arguments are directly
    passed to rethinkdb's ``connect()``.

    Plugin alias: ``rethinkdb``

    :param str database: database to store jobs in
    :param str table: table to store jobs in
    :param client: a :class:`rethinkdb.net.Connection` instance to use instead of
        providing connection arguments
    :param int pickle_protocol: pickle protocol level to use (for serialization),
        defaults to the highest available

    Documents have APScheduler 3.x's layout: ``id``, ``next_run_time`` (a UTC
    timestamp, ``None`` when paused) and ``job_state`` (the pickled job, as binary).
    """

    def __init__(
        self,
        database="apscheduler",
        table="jobs",
        client=None,
        pickle_protocol=pickle.HIGHEST_PROTOCOL,
        **connect_args,
    ):
        super().__init__()

        if not database:
            raise ValueError('The "database" parameter must not be empty')
        if not table:
            raise ValueError('The "table" parameter must not be empty')

        self.database = database
        self.table_name = table
        self.table = None
        self.client = client
        self.pickle_protocol = pickle_protocol
        self.connect_args = connect_args
        self.r = RethinkDB()
        self.conn = None

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        r = self.r
        if self.client:
            self.conn = maybe_ref(self.client)
        else:
            self.conn = r.connect(db=self.database, **self.connect_args)

        # Database, table and index are created on first use.
        if self.database not in r.db_list().run(self.conn):
            r.db_create(self.database).run(self.conn)
        if self.table_name not in r.table_list().run(self.conn):
            r.table_create(self.table_name).run(self.conn)
        if "next_run_time" not in r.table(self.table_name).index_list().run(self.conn):
            r.table(self.table_name).index_create("next_run_time").run(self.conn)

        self.table = r.db(self.database).table(self.table_name)

    def lookup_job(self, job_id):
        documents = list(self.table.get_all(job_id).pluck("job_state").run(self.conn))
        return self._reconstitute_job(documents[0]["job_state"]) if documents else None

    def get_due_jobs(self, now):
        timestamp = datetime_to_utc_timestamp(now)
        return self._get_jobs(self.r.row["next_run_time"] <= timestamp)

    def get_next_run_time(self):
        scheduled = self.table.filter(self.r.row["next_run_time"] != None)  # noqa: E711
        first = list(
            scheduled.order_by(self.r.asc("next_run_time"))
            .map(lambda document: document["next_run_time"])
            .limit(1)
            .run(self.conn)
        )
        return utc_timestamp_to_datetime(first[0]) if first else None

    def get_all_jobs(self):
        jobs = self._get_jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def _document(self, job):
        return {
            "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": self.r.binary(dump_job(job, self.pickle_protocol)),
        }

    def add_job(self, job):
        document = dict(id=job.id, **self._document(job))
        results = self.table.insert(document).run(self.conn)
        if results["errors"] > 0:
            raise ConflictingIdError(job.id)

    def update_job(self, job):
        results = self.table.get_all(job.id).update(self._document(job)).run(self.conn)
        # Nothing matched when every counter is zero.
        matched = any(count != 0 for count in results.values())
        if results["skipped"] > 0 or results["errors"] > 0 or not matched:
            raise JobLookupError(job.id)

    def remove_job(self, job_id):
        results = self.table.get_all(job_id).delete().run(self.conn)
        if results["deleted"] + results["skipped"] != 1:
            raise JobLookupError(job_id)

    def remove_all_jobs(self):
        self.table.delete().run(self.conn)

    def shutdown(self):
        self.conn.close()

    def _reconstitute_job(self, job_state):
        return restore_job(self, pickle.loads(job_state))

    def _get_jobs(self, predicate=None):
        query = self.table
        if predicate is not None:
            scheduled = self.table.filter(self.r.row["next_run_time"] != None)  # noqa: E711
            query = scheduled.filter(predicate)
        query = query.order_by("next_run_time", "id").pluck("id", "job_state")

        jobs = []
        unrestorable = []
        for document in query.run(self.conn):
            try:
                jobs.append(self._reconstitute_job(document["job_state"]))
            except Exception:
                log_unrestorable(self, document["id"])
                unrestorable.append(document["id"])

        if unrestorable:
            self.r.expr(unrestorable).for_each(
                lambda job_id: self.table.get_all(job_id).delete()
            ).run(self.conn)

        return jobs

    def __repr__(self):
        return f"<{self.__class__.__name__} (connection={self.conn})>"
