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
"""

from sqlalchemy.exc import DBAPIError


def supports(engine):
    """True for engines this module can drive (SQLite through the sqlite3 module)."""
    dialect = engine.dialect
    return (
        dialect.name == "sqlite"
        and dialect.driver == "pysqlite"
        and dialect.paramstyle == "qmark"
    )


class SQLiteStatements:
    """The job table's statements as SQL text, run on pooled DBAPI connections."""

    def __init__(self, engine, table):
        self._engine = engine
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

    def write(self, sql, params):
        """Run one data-changing statement in its own transaction; the row count."""
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                rowcount = cursor.rowcount
            finally:
                cursor.close()
            connection.commit()
            return rowcount
        except self._dbapi.Error as exc:
            connection.rollback()
            raise self._wrap(exc, sql, params) from exc
        finally:
            # Back to the pool, which rolls back anything left open.
            connection.close()

    def read(self, sql, params=()):
        """All rows of one query."""
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall()
            finally:
                cursor.close()
        except self._dbapi.Error as exc:
            raise self._wrap(exc, sql, params) from exc
        finally:
            connection.close()
