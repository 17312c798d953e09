"""
The SQLAlchemyJobStore's per-job statements on SQLite (the pysqlite driver), sent as
plain SQL on a connection from the engine's pool.

A statement through SQLAlchemy's execution layer costs about as much again as SQLite
itself takes to run and commit it (about 100 us against 90 us on a file in memory),
and the scheduler sends one per job it adds, runs, reschedules or removes. On SQLite
nothing else is needed from that layer: there are no disconnects to detect, and the
column types store the values as given (str, float, bytes). The connections still come
from the engine's pool, so ``connect`` events and ``connect_args`` apply; errors are
raised as the same ``sqlalchemy.exc`` classes as through SQLAlchemy. Statements sent
this way are not seen by ``before_cursor_execute`` listeners or ``echo``.

With a ``QueuePool`` (SQLAlchemy's choice for a database file), whose connections
already move between threads, one connection is kept checked out and shared under a
lock: checking a connection out and back in for every statement cost another 25 us.
Other pools (one connection per thread for ``sqlite://``, ``NullPool``) get a
connection per statement, as through SQLAlchemy.
"""

import os
import threading
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import QueuePool


def supports(engine):
    """True for engines this module can drive (SQLite through the sqlite3 module)."""
    dialect = engine.dialect
    return (
        dialect.name == "sqlite"
        and dialect.driver == "pysqlite"
        and dialect.paramstyle == "qmark"
    )


class BatchFailed(Exception):
    """A batch whose statements did not all succeed was rolled back."""


class SQLiteStatements:
    """The job table's statements as SQL text, run on pooled DBAPI connections."""

    def __init__(self, engine, table):
        self._engine = engine
        self._shared = isinstance(engine.pool, QueuePool)
        self._lock = threading.Lock()
        self._connection = None
        self._pid = os.getpid()
        # (thread ident, connection) while a thread runs a batch (see batch())
        self._batch = None
        dialect = engine.dialect
        self._dbapi = getattr(dialect, "loaded_dbapi", None) or dialect.dbapi
        name = dialect.identifier_preparer.format_table(table)
        self.lookup = f"SELECT job_state FROM {name} WHERE id = ?"
        self.insert = f"INSERT INTO {name} (id, next_run_time, job_state) VALUES (?, ?, ?)"
        self.update = f"UPDATE {name} SET next_run_time = ?, job_state = ? WHERE id = ?"
        self.delete = f"DELETE FROM {name} WHERE id = ?"
        self.next_run_time = (
            f"SELECT next_run_time FROM {name} WHERE next_run_time IS NOT NULL "
            f"ORDER BY next_run_time LIMIT 1"
        )
        self.due = (
            f"SELECT id, job_state FROM {name} WHERE next_run_time <= ? "
            f"ORDER BY next_run_time"
        )

    def _wrap(self, exc, sql, params):
        return DBAPIError.instance(sql, params, exc, self._dbapi.Error)

    def _run(self, work, sql, params):
        """``work(connection, cursor)`` on a connection; rolled back on a database
        error, which is raised as its ``sqlalchemy.exc`` class."""
        batch = self._batch
        if batch is not None and batch[0] == threading.get_ident():
            return self._on(batch[1], work, sql, params, in_batch=True)

        if not self._shared:
            connection = self._engine.raw_connection()
            try:
                return self._on(connection, work, sql, params)
            finally:
                # Back to the pool, which rolls back anything left open.
                connection.close()

        self._leave_parent_connection()
        with self._lock:
            if self._connection is None:
                self._connection = self._engine.raw_connection()
            try:
                return self._on(self._connection, work, sql, params)
            except IntegrityError:
                raise
            except BaseException:
                # Anything but a rejected row may have left the connection unusable.
                self._release()
                raise

    def _leave_parent_connection(self):
        if self._pid != os.getpid():
            # A forked child must not share its parent's connection (nor its lock).
            self._lock = threading.Lock()
            self._connection = None
            self._pid = os.getpid()

    def _on(self, connection, work, sql, params, in_batch=False):
        try:
            cursor = connection.cursor()
            try:
                return work(connection, cursor)
            finally:
                cursor.close()
        except self._dbapi.Error as exc:
            if in_batch:
                # The batch's transaction is rolled back as a whole when it ends.
                self._batch_failed = True
            else:
                connection.rollback()
            raise self._wrap(exc, sql, params) from exc

    @contextmanager
    def batch(self):
        """
        Until the block ends, this thread's writes share one transaction, committed at
        the end (rolled back if the block raises or one of its statements failed, in
        which case the block's exit raises). Other threads' statements on the kept
        connection wait for it, so that none of them commits the batch halfway.
        """
        if self._shared:
            self._leave_parent_connection()
            self._lock.acquire()
            try:
                if self._connection is None:
                    self._connection = self._engine.raw_connection()
            except BaseException:
                self._lock.release()
                raise
            connection = self._connection
        else:
            connection = self._engine.raw_connection()

        self._batch_failed = False
        self._batch = (threading.get_ident(), connection)
        try:
            try:
                yield
            except BaseException:
                connection.rollback()
                raise
            if self._batch_failed:
                connection.rollback()
                raise BatchFailed("a statement of the batch failed; rolled back")
            try:
                connection.commit()
            except self._dbapi.Error as exc:
                connection.rollback()
                raise self._wrap(exc, "COMMIT", ()) from exc
        finally:
            self._batch = None
            if self._shared:
                self._lock.release()
            else:
                connection.close()

    def _release(self):
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except self._dbapi.Error:
                pass

    def write(self, sql, params):
        """Run one data-changing statement in its own transaction; the row count."""

        def work(connection, cursor):
            cursor.execute(sql, params)
            rowcount = cursor.rowcount
            if self._batch is None or self._batch[1] is not connection:
                connection.commit()
            return rowcount

        return self._run(work, sql, params)

    def read(self, sql, params=()):
        """All rows of one query."""

        def work(connection, cursor):
            cursor.execute(sql, params)
            return cursor.fetchall()

        return self._run(work, sql, params)

    def close(self):
        """Give the kept connection back to the pool."""
        with self._lock:
            self._release()
