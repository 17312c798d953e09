from apscheduler.jobstores.base import BaseJobStore

# Fail at import time, with a hint, when the library is missing.
try:
    from sqlalchemy import (  # noqa: F401
        Column,
        Float,
        LargeBinary,
        MetaData,
        Table,
        Unicode,
        and_,
        create_engine,
        select,
    )
    from sqlalchemy.exc import IntegrityError  # noqa: F401
    from sqlalchemy.sql.expression import null  # noqa: F401
except ImportError as exc:  # pragma: nocover
    raise ImportError("SQLAlchemyJobStore requires SQLAlchemy installed") from exc


class SQLAlchemyJobStore(BaseJobStore):
    """
    Stores jobs in a database table using SQLAlchemy.
    The table will be created if it doesn't exist in the database.

    Plugin alias: ``sqlalchemy``

    Its engine arrives with the scheduler core.
    """
