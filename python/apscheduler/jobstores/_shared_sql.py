"""
Shared mode of ``SQLAlchemyJobStore`` (see ``_shared`` for the design).

Beside the jobs table, whose layout stays APScheduler's, it keeps two tables:
``<table>_schedulers`` (one row per live process: its ID and lease end) and
``<table>_runs`` (one row per run going on: job ID, process, scheduled time, lease
end). Lease times are the database server's clock, so the hosts' clocks never decide
whether a lease has run out.

A pass claims its due jobs in one transaction. It reads the due job IDs, keeps those
this process owns (or that stayed due past the lease), and locks their rows with
``SELECT ... FOR UPDATE SKIP LOCKED``: a row another process is claiming right now is
skipped rather than waited for. Each job is then advanced with an ``UPDATE`` (or
``DELETE``) conditional on the next run time the pass read, in a savepoint of its
own, so that one failing job does not undo the others' claims.

PostgreSQL wakes the other processes with ``NOTIFY`` when a job is added, changed or
removed through the API (a listening connection per process, psycopg2 driver);
MySQL and MariaDB (8.0 / 10.6 or later, for ``SKIP LOCKED``) have no notifications,
so their processes look at the table every half second.
"""

import select as select_module
import threading
import uuid
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Boolean, Column, Float, Table, Unicode, and_, bindparam, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import null

from apscheduler import _runwatch
from apscheduler.jobstores import _shared
from apscheduler.jobstores._pickled import dump_job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.util import datetime_to_utc_timestamp

#: the database server's clock, as a UTC timestamp, per dialect
_SERVER_TIME = {
    "postgresql": "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
    "mysql": "SELECT UNIX_TIMESTAMP(NOW(6))",
    "mariadb": "SELECT UNIX_TIMESTAMP(NOW(6))",
}
#: how often processes look at a table that sends no notifications (MySQL): often
#: enough that a change made in one process shows in the others within a second
_POLL_WITHOUT_NOTIFICATIONS = 0.5
#: due job IDs locked per statement (bounded so that no statement grows without end)
_CHUNK = 500
#: rows read to find this process's next wake-up
_WAKEUP_SCAN = 256


class SQLSharing(_shared.SharingBase):
    def __init__(self, store, options, tablename, metadata, tableschema):
        dialect = store.engine.dialect.name
        if dialect not in _SERVER_TIME:
            raise ValueError(
                "shared=True needs a database with row locks that can be skipped "
                f"(PostgreSQL, MySQL 8 or MariaDB 10.6), not {dialect}"
            )
        notifies = dialect == "postgresql"
        super().__init__(
            store,
            options.lease_seconds,
            options.poll_seconds
            or (_shared.POLL_WITH_NOTIFICATIONS if notifies else _POLL_WITHOUT_NOTIFICATIONS),
        )
        self._notifies = notifies
        self._engine = store.engine
        # PostgreSQL confines a failed statement to its savepoint; MySQL may roll
        # the whole transaction back (a deadlock), so there a failure fails the claim.
        self._savepoints_contain_errors = dialect == "postgresql"
        if dialect != "postgresql":
            # InnoDB's default (repeatable read) locks the gaps between index
            # entries too, which makes concurrent claims deadlock one another.
            self._engine = store.engine.execution_options(isolation_level="READ COMMITTED")
        self._jobs = store.jobs_t
        self._dialect = dialect
        self._channel = tablename
        self._lock_name = f"apscheduler:{tablename}"[:64]
        self.members_t = Table(
            f"{tablename}_schedulers",
            metadata,
            Column("member", Unicode(191), primary_key=True),
            Column("lease_until", Float(25), nullable=False),
            # False while the scheduler is paused or stopping: it is alive (its runs
            # still count) but takes no jobs, which go to the others.
            Column("takes_jobs", Boolean, nullable=False),
            schema=tableschema,
        )
        self.runs_t = Table(
            f"{tablename}_runs",
            metadata,
            Column("run_key", Unicode(64), primary_key=True),
            Column("job_id", Unicode(191), nullable=False, index=True),
            Column("member", Unicode(191), nullable=False),
            Column("run_time", Float(25)),
            Column("lease_until", Float(25), nullable=False),
            schema=tableschema,
        )

    #
    # Lifecycle
    #

    def _leave(self):
        with self._engine.begin() as connection:
            connection.execute(
                self.members_t.delete().where(self.members_t.c.member == self.member)
            )

    def _prepare(self):
        # Processes starting together would otherwise race to create them: each
        # waits for the others under a lock named after the table.
        tables = [self._jobs, self.members_t, self.runs_t]
        with self._engine.begin() as connection:
            if self._dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                    {"name": self._channel},
                )
            else:
                connection.execute(
                    text("SELECT GET_LOCK(:name, 60)"), {"name": self._lock_name}
                )
            try:
                for table in tables:
                    table.create(connection, checkfirst=True)
            finally:
                if self._dialect != "postgresql":
                    connection.execute(
                        text("SELECT RELEASE_LOCK(:name)"), {"name": self._lock_name}
                    )

    #
    # A pass's claim
    #

    @contextmanager
    def claim(self, now):
        timestamp = datetime_to_utc_timestamp(now)
        claim = _shared.PassClaim()
        c = self._jobs.c
        with self._engine.begin() as connection:
            server_now = self._server_time(connection)
            live, members = self._read_members(connection, server_now)
            due = connection.execute(
                select(c.id, c.next_run_time).where(c.next_run_time <= timestamp)
            ).all()
            overdue = timestamp - self.lease
            wanted = [
                job_id
                for job_id, next_run_time in due
                if next_run_time <= overdue or _shared.owner_of(job_id, members) == self.member
            ]
            rows = []
            for start in range(0, len(wanted), _CHUNK):
                rows += connection.execute(
                    select(c.id, c.next_run_time, c.job_state)
                    .where(c.id.in_(wanted[start : start + _CHUNK]), c.next_run_time <= timestamp)
                    .with_for_update(skip_locked=True)
                ).all()
            rows.sort(key=lambda row: row[1])
            claimed_times = {job_id: next_run_time for job_id, next_run_time, _ in rows}
            counts = self._running_counts(connection, list(claimed_times), server_now, live)
            claim.jobs = self._store._restore_rows(
                [(job_id, job_state) for job_id, _, job_state in rows], connection
            )
            self._claiming = (
                threading.get_ident(),
                claim,
                connection,
                server_now,
                counts,
                claimed_times,
            )
            try:
                yield claim
            finally:
                self._claiming = None
            if claim.failed:
                # Rolls the whole claim back: none of its runs goes ahead.
                raise _shared.ClaimConflict(
                    "a statement of the claim failed outside its savepoint"
                )

        # Committed: from now on the end of each reserved run deletes its record.
        for key, job_id in claim.reserved:
            _runwatch.watch(job_id, partial(self._keeper.run_ended, key))

    def claimed_write(self, job, remove):
        """Advance (or remove) a claimed job, if it is still as the pass read it,
        and reserve its run. Raises JobLookupError when another process took it."""
        _, claim, connection, server_now, counts, claimed_times = self._claiming
        read = claimed_times.get(job.id)
        try:
            key = self._write_claimed(connection, claim, job, remove, read, server_now, counts)
        except SQLAlchemyError:
            if not self._savepoints_contain_errors:
                # MySQL rolls the whole transaction back on a deadlock, savepoints
                # and all: what the claim wrote before this job is gone too.
                claim.failed = True
            raise
        if key is None:
            return
        counts[job.id] = counts.get(job.id, 0) + 1
        claim.outcomes[job.id] = _shared.RUN
        claim.reserved.append((key, job.id))

    def _write_claimed(self, connection, claim, job, remove, read, server_now, counts):
        """The statements of claimed_write(), in a savepoint: the reserved run's
        record key, or None when the job is advanced without a run (BUSY)."""
        c = self._jobs.c
        with connection.begin_nested():
            where = and_(c.id == job.id, c.next_run_time == read)
            if remove:
                statement = self._jobs.delete().where(where)
            else:
                statement = (
                    self._jobs.update()
                    .where(where)
                    .values(
                        next_run_time=datetime_to_utc_timestamp(job.next_run_time),
                        job_state=dump_job(job, self._store.pickle_protocol),
                    )
                )
            if read is None or connection.execute(statement).rowcount == 0:
                claim.outcomes[job.id] = _shared.LOST
                raise JobLookupError(job.id)

            if counts.get(job.id, 0) >= job.max_instances:
                claim.outcomes[job.id] = _shared.BUSY
                return None
            key = uuid.uuid4().hex
            connection.execute(
                self.runs_t.insert().values(
                    run_key=key,
                    job_id=job.id,
                    member=self.member,
                    run_time=read,
                    lease_until=server_now + self.lease,
                )
            )
        return key

    def _running_counts(self, connection, job_ids, server_now, live):
        """Each job's runs going on in live processes. A record counts only while
        its process is live as well: one claimed after that process's last
        heartbeat outlives it, and must not hold back the run of the process
        taking its jobs over."""
        counts = {}
        live = list(live)
        r = self.runs_t.c
        for start in range(0, len(job_ids), _CHUNK):
            rows = connection.execute(
                select(r.job_id)
                .where(r.job_id.in_(job_ids[start : start + _CHUNK]))
                .where(r.lease_until > server_now, r.member.in_(live))
            )
            for (job_id,) in rows:
                counts[job_id] = counts.get(job_id, 0) + 1
        return counts

    def _scheduled(self):
        c = self._jobs.c
        with self._engine.begin() as connection:
            return connection.execute(
                select(c.id, c.next_run_time)
                .where(c.next_run_time != null())
                .order_by(c.next_run_time)
                .limit(_WAKEUP_SCAN)
            ).all()

    #
    # Writes through the API
    #

    def add_job(self, job, row):
        with self._engine.begin() as connection:
            connection.execute(self._store._insert_stmt, row)
            self._notify(connection)

    def update_job(self, job):
        """
        Writes ``job``. If a pass of some process advanced it since this process read
        it, and the caller left the next run time as it was read, the advanced time is
        kept: writing the old one back would run that time again.
        """
        c = self._jobs.c
        read = self._read_times.pop(job.id)
        with self._engine.begin() as connection:
            current = connection.execute(
                select(c.next_run_time).where(c.id == job.id).with_for_update()
            ).first()
            if current is None:
                raise JobLookupError(job.id)

            next_run_time = datetime_to_utc_timestamp(job.next_run_time)
            if read is not _shared.ReadTimes.MISSING and next_run_time == read and current[0] != read:
                job.next_run_time = _shared.utc_datetime_like(current[0], job.next_run_time)
                next_run_time = current[0]
            connection.execute(
                self._store._update_stmt,
                {
                    "p_id": job.id,
                    "p_next_run_time": next_run_time,
                    "p_job_state": dump_job(job, self._store.pickle_protocol),
                },
            )
            self._notify(connection)

    def remove_job(self, job_id):
        with self._engine.begin() as connection:
            rowcount = connection.execute(
                self._store._delete_stmt, {"p_id": job_id}
            ).rowcount
            self._notify(connection)
        if rowcount == 0:
            raise JobLookupError(job_id)

    def remove_all_jobs(self):
        with self._engine.begin() as connection:
            connection.execute(self._jobs.delete())
            self._notify(connection)

    def _notify(self, connection):
        if self._notifies:
            connection.execute(
                text("SELECT pg_notify(:channel, :member)"),
                {"channel": self._channel, "member": self.member},
            )

    #
    # The lease keeper's side (its own thread)
    #

    def heartbeat(self):
        m = self.members_t.c
        r = self.runs_t.c
        with self._engine.begin() as connection:
            server_now = self._server_time(connection)
            until = server_now + self.lease
            mine = m.member == self.member
            takes_jobs = _shared.is_running(self._store._scheduler)
            updated = connection.execute(
                self.members_t.update()
                .where(mine)
                .values(lease_until=until, takes_jobs=takes_jobs)
            ).rowcount
            if not updated:
                connection.execute(
                    self.members_t.insert().values(
                        member=self.member, lease_until=until, takes_jobs=takes_jobs
                    )
                )
            connection.execute(
                self.runs_t.update().where(r.member == self.member).values(lease_until=until)
            )
            # Entries of processes gone for a whole lease are of no use to anyone.
            connection.execute(
                self.members_t.delete().where(m.lease_until < server_now - self.lease)
            )
            self._members = frozenset(self._read_members(connection, server_now)[1])
            expired = connection.execute(
                select(r.run_key, r.job_id, r.member, r.run_time)
                .where(r.lease_until <= server_now)
                .limit(100)
            ).all()

        for key, job_id, member, run_time in expired:
            with self._engine.begin() as connection:
                deleted = connection.execute(
                    self.runs_t.delete().where(
                        r.run_key == key, r.lease_until <= bindparam("p_now")
                    ),
                    {"p_now": server_now},
                ).rowcount
            if deleted:  # only the process that deleted it tells
                _shared.log_orphaned_run(self._logger, job_id, member, run_time)
        return takes_jobs

    def delete_run_records(self, keys):
        with self._engine.begin() as connection:
            connection.execute(self.runs_t.delete().where(self.runs_t.c.run_key.in_(keys)))

    def _listen(self, stop, heard):
        """LISTEN on a connection of its own (see ChangeListener)."""
        raw = self._engine.raw_connection()
        try:
            driver = raw.driver_connection
            if not hasattr(driver, "notifies"):
                self._logger.info(
                    "The database driver cannot wait for notifications; other "
                    "processes' changes are seen every %s s",
                    self._poll,
                )
                return
            driver.autocommit = True
            with driver.cursor() as cursor:
                cursor.execute(f'LISTEN "{self._channel}"')
            heard(None)
            while not stop.is_set():
                readable, _, _ = select_module.select([driver], [], [], 0.5)
                if readable:
                    driver.poll()
                    heard([notice.payload for notice in driver.notifies])
                    driver.notifies.clear()
        finally:
            # Never handed back to the pool: it is still listening.
            raw.invalidate()

    #
    # Helpers
    #

    def _server_time(self, connection):
        return float(connection.execute(text(_SERVER_TIME[self._dialect])).scalar())

    def _read_members(self, connection, server_now):
        """The live processes, and those of them that take jobs (this one counts as
        both: it asks while processing jobs)."""
        m = self.members_t.c
        rows = connection.execute(
            select(m.member, m.takes_jobs).where(m.lease_until > server_now)
        ).all()
        live = {member for member, _ in rows} | {self.member}
        takers = {member for member, takes_jobs in rows if takes_jobs} | {self.member}
        return live, takers
