import pickle
import threading
from contextlib import contextmanager

from apscheduler.jobstores._pickled import dump_job, log_unrestorable, restore_job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.util import (
    datetime_to_utc_timestamp,
    maybe_ref,
    utc_timestamp_to_datetime,
)

# Fail at import time, with a hint, when the library is missing.
try:
    from sqlalchemy import (
        Column,
        Float,
        LargeBinary,
        MetaData,
        Table,
        Unicode,
        and_,
        bindparam,
        create_engine,
        select,
    )
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError
    from sqlalchemy.sql.expression import null
except ImportError as exc:  # pragma: nocover
    raise ImportError("SQLAlchemyJobStore requires SQLAlchemy installed") from exc

from apscheduler.jobstores import _shared, _sqlite_fast


class SQLAlchemyJobStore(BaseJobStore):
    """
    Stores jobs in a database table using SQLAlchemy.
    The table will be created if it doesn't exist in the database.

    Plugin alias: ``sqlalchemy``

    :param str url: connection string (see
        :ref:`SQLAlchemy documentation <sqlalchemy:database_urls>` on this)
    :param engine: an SQLAlchemy :class:`~sqlalchemy.engine.Engine` to use instead of
        creating a new one based on ``url``
    :param str tablename: name of the table to store jobs in
    :param metadata: a :class:`~sqlalchemy.schema.MetaData` instance to use instead of
        creating a new one
    :param int pickle_protocol: pickle protocol level to use (for serialization),
        defaults to the highest available
    :param str tableschema: name of the (existing) schema in the target database where
        the table should be
    :param dict engine_options: keyword arguments to :func:`~sqlalchemy.create_engine`
        (ignored if ``engine`` is given)
    :param bool shared: let several scheduler processes, on any hosts, use this
        store at once, each run being executed by one of them (PostgreSQL, MySQL 8,
        MariaDB 10.6); see ``docs/shared-stores.md``. Not in APScheduler 3.
    :param float lease_seconds: in shared mode, how long a process that stops
        renewing its lease (it died) keeps its claims
    :param float poll_seconds: in shared mode, how often each process reads the
        table even without a notification (default: 10 on PostgreSQL, which notifies
        changes, 0.5 elsewhere)

    The table has APScheduler 3.x's layout (``id``, ``next_run_time`` as a UTC
    timestamp, ``job_state`` as the pickled job), so either package reads the other's.
    Statements are built once, with bound parameters, so that each call only binds
    values and reuses SQLAlchemy's cached compilation. On SQLite the per-job
    statements go to the driver directly (see ``_sqlite_fast``).
    """

    def __init__(
        self,
        url=None,
        engine=None,
        tablename="apscheduler_jobs",
        metadata=None,
        pickle_protocol=pickle.HIGHEST_PROTOCOL,
        tableschema=None,
        engine_options=None,
        shared=False,
        lease_seconds=_shared.DEFAULT_LEASE_SECONDS,
        poll_seconds=None,
    ):
        super().__init__()
        sharing = _shared.SharingOptions(shared, lease_seconds, poll_seconds)
        self.pickle_protocol = pickle_protocol
        metadata = maybe_ref(metadata) or MetaData()

        if engine:
            self.engine = maybe_ref(engine)
        elif url:
            self.engine = create_engine(url, **(engine_options or {}))
        else:
            raise ValueError('Need either "engine" or "url" defined')

        # Unicode(191): the longest key MySQL's InnoDB indexes in utf8mb4.
        # Float(25): a precision that every backend maps to an 8-byte float.
        self.jobs_t = Table(
            tablename,
            metadata,
            Column("id", Unicode(191), primary_key=True),
            Column("next_run_time", Float(25), index=True),
            Column("job_state", LargeBinary, nullable=False),
            schema=tableschema,
        )
        self._build_statements()
        # (thread ident, connection) while the scheduler's pass runs (_pass_batch)
        self._batch = None
        self._sqlite = (
            _sqlite_fast.SQLiteStatements(self.engine, self.jobs_t)
            if _sqlite_fast.supports(self.engine)
            else None
        )
        self._sharing = None
        if sharing.enabled:
            from apscheduler.jobstores._shared_sql import SQLSharing

            self._sharing = SQLSharing(self, sharing, tablename, metadata, tableschema)
            self._sqlite = None

    def _build_statements(self):
        c = self.jobs_t.c
        # Bound parameter names must differ from the column names: SQLAlchemy keeps
        # those for the SET clause of an UPDATE.
        by_id = c.id == bindparam("p_id")
        self._lookup_stmt = select(c.job_state).where(by_id)
        self._insert_stmt = self.jobs_t.insert()
        self._update_stmt = (
            self.jobs_t.update()
            .where(by_id)
            .values(
                next_run_time=bindparam("p_next_run_time"),
                job_state=bindparam("p_job_state"),
            )
        )
        self._delete_stmt = self.jobs_t.delete().where(by_id)
        self._next_run_time_stmt = (
            select(c.next_run_time)
            .where(c.next_run_time != null())
            .order_by(c.next_run_time)
            .limit(1)
        )
        self._due_stmt = self._jobs_query(c.next_run_time <= bindparam("p_now"))

    def _jobs_query(self, *conditions):
        query = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(
            self.jobs_t.c.next_run_time
        )
        return query.where(and_(*conditions)) if conditions else query

    def start(self, scheduler, alias):
        super().start(scheduler, alias)
        if self._sharing is not None:
            self._sharing.start()
        else:
            self.jobs_t.create(self.engine, checkfirst=True)

    # Shared mode: the scheduler claims due jobs (see _shared) instead of reading them.

    @property
    def _claims_due_jobs(self):
        return self._sharing is not None

    def _claim_due_jobs(self, now):
        return self._sharing.claim(now)

    def _next_wakeup_time(self, now):
        return self._sharing.next_wakeup_time(now)

    def lookup_job(self, job_id):
        if self._sqlite:
            rows = self._sqlite.read(self._sqlite.lookup, (job_id,))
            job_state = rows[0][0] if rows else None
        else:
            with self.engine.begin() as connection:
                job_state = connection.execute(
                    self._lookup_stmt, {"p_id": job_id}
                ).scalar()
        job = self._reconstitute_job(job_state) if job_state else None
        if job is not None and self._sharing is not None:
            self._sharing.remember_read(job)
        return job

    def get_due_jobs(self, now):
        timestamp = datetime_to_utc_timestamp(now)
        if type(self)._get_jobs is not SQLAlchemyJobStore._get_jobs:
            # A subclass that filters jobs in _get_jobs() gets to, as in APScheduler.
            return self._get_jobs(self.jobs_t.c.next_run_time <= timestamp)
        if self._sqlite:
            rows = self._sqlite.read(self._sqlite.due, (timestamp,))
            return self._restore_rows(rows)
        return self._load_jobs(self._due_stmt, {"p_now": timestamp})

    def get_next_run_time(self):
        if self._sqlite:
            rows = self._sqlite.read(self._sqlite.next_run_time)
            timestamp = rows[0][0] if rows else None
        else:
            with self.engine.begin() as connection:
                timestamp = connection.execute(self._next_run_time_stmt).scalar()
        return utc_timestamp_to_datetime(timestamp)

    def get_all_jobs(self):
        jobs = self._get_jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job):
        # Serialized before the transaction: a job that cannot be pickled fails here
        # with Job.__getstate__'s explanation and leaves the table untouched.
        next_run_time = datetime_to_utc_timestamp(job.next_run_time)
        job_state = dump_job(job, self.pickle_protocol)
        try:
            if self._sharing is not None:
                row = {"id": job.id, "next_run_time": next_run_time, "job_state": job_state}
                self._sharing.add_job(job, row)
            elif self._sqlite:
                params = (job.id, next_run_time, job_state)
                self._sqlite.write(self._sqlite.insert, params)
            else:
                row = {"id": job.id, "next_run_time": next_run_time, "job_state": job_state}
                with self.engine.begin() as connection:
                    connection.execute(self._insert_stmt, row)
        except IntegrityError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job):
        if self._sharing is not None:
            if self._sharing.in_claim:
                return self._sharing.claimed_write(job, remove=False)
            return self._sharing.update_job(job)

        next_run_time = datetime_to_utc_timestamp(job.next_run_time)
        job_state = dump_job(job, self.pickle_protocol)
        if self._sqlite:
            params = (next_run_time, job_state, job.id)
            rowcount = self._sqlite.write(self._sqlite.update, params)
        else:
            params = {
                "p_id": job.id,
                "p_next_run_time": next_run_time,
                "p_job_state": job_state,
            }
            rowcount = self._write(self._update_stmt, params)
        if rowcount == 0:
            raise JobLookupError(job.id)

    def remove_job(self, job_id):
        if self._sharing is not None:
            if self._sharing.in_claim:
                return self._sharing.claimed_remove(job_id)
            return self._sharing.remove_job(job_id)

        if self._sqlite:
            rowcount = self._sqlite.write(self._sqlite.delete, (job_id,))
        else:
            rowcount = self._write(self._delete_stmt, {"p_id": job_id})
        if rowcount == 0:
            raise JobLookupError(job_id)

    def _write(self, statement, params):
        """One data-changing statement: in the current pass's transaction when this
        thread runs one (see _pass_batch), else in its own. The row count."""
        batch = self._batch
        if batch is not None and batch[0] == threading.get_ident():
            try:
                return batch[1].execute(statement, params).rowcount
            except SQLAlchemyError:
                self._batch_failed = True
                raise
        with self.engine.begin() as connection:
            return connection.execute(statement, params).rowcount

    @contextmanager
    def _pass_batch(self):
        """
        The scheduler's loop runs its updates and removals of this store's due jobs
        inside this block: one transaction (and, on a database file, one wait for the
        disk) per pass instead of one per job. If it cannot be committed, or one of its
        statements failed, it is rolled back and the block's exit raises; the
        scheduler then hands none of this store's runs of the pass to an executor:
        those jobs are still due in the table and run, once, in a later pass.
        """
        if self._sqlite:
            with self._sqlite.batch():
                yield
            return

        with self.engine.begin() as connection:
            self._batch_failed = False
            self._batch = (threading.get_ident(), connection)
            try:
                yield
                if self._batch_failed:
                    raise _sqlite_fast.BatchFailed(
                        "a statement of the batch failed; rolled back"
                    )
            finally:
                self._batch = None

    def remove_all_jobs(self):
        if self._sharing is not None:
            return self._sharing.remove_all_jobs()
        with self.engine.begin() as connection:
            connection.execute(self.jobs_t.delete())

    def shutdown(self):
        if self._sharing is not None:
            self._sharing.shutdown()
        if self._sqlite:
            self._sqlite.close()
        self.engine.dispose()

    def _reconstitute_job(self, job_state):
        state = pickle.loads(job_state)
        # APScheduler hands the store to Job.__setstate__ under this key; a Job
        # subclass may read it.
        state["jobstore"] = self
        return restore_job(self, state)

    def _get_jobs(self, *conditions):
        """The jobs matching ``conditions`` (SQL expressions), by next run time."""
        return self._load_jobs(self._jobs_query(*conditions), {})

    def _load_jobs(self, query, params):
        with self.engine.begin() as connection:
            return self._restore_rows(connection.execute(query, params), connection)

    def _restore_rows(self, rows, connection=None):
        """
        The jobs of ``(id, job_state)`` rows. Rows whose job cannot be restored (its
        callable is gone, the pickle is broken) are logged and deleted, on
        ``connection`` if given, as APScheduler does, so that they do not fail every
        later pass of the scheduler.
        """
        jobs = []
        unrestorable = []
        for job_id, job_state in rows:
            try:
                jobs.append(self._reconstitute_job(job_state))
            except BaseException:
                log_unrestorable(self, job_id)
                unrestorable.append(job_id)

        if unrestorable:
            delete = self.jobs_t.delete().where(self.jobs_t.c.id.in_(unrestorable))
            if connection is not None:
                connection.execute(delete)
            else:
                with self.engine.begin() as own_connection:
                    own_connection.execute(delete)

        return jobs

    def __repr__(self):
        return f"<{self.__class__.__name__} (url={self.engine.url})>"
