"""Database servers and the reference interpreter for the tests/test_store_*.py files.

The servers are the ones scripts/services.sh starts on loopback; a test whose server
is not reachable skips, naming the address it tried.
"""

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

POSTGRES_URL = os.environ.get(
    "APSCHEDULER_TEST_POSTGRES_URL",
    "postgresql+psycopg2://postgres@127.0.0.1:54320/postgres",
)


def reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def require_postgres():
    """The PostgreSQL URL, or a skip when that server is not running."""
    pytest.importorskip("psycopg2")
    parts = urlsplit(POSTGRES_URL)
    if not reachable(parts.hostname, parts.port or 5432):
        pytest.skip(f"no PostgreSQL server at {parts.hostname}:{parts.port}")
    return POSTGRES_URL


def reference_python():
    """The interpreter with the real APScheduler 3.11.3, or a skip."""
    override = os.environ.get("APSCHEDULER_REF_PYTHON")
    python = Path(override) if override else REPO / ".venv-ref" / "bin" / "python"
    if not python.exists():
        pytest.skip("reference environment .venv-ref not found (run scripts/bootstrap.sh)")
    return python


def unique_table():
    """A table name no other test uses, so that tests can share one database."""
    return f"apscheduler_test_{uuid.uuid4().hex[:12]}"


def drop_table(url, table):
    from sqlalchemy import MetaData, Table, create_engine

    engine = create_engine(url)
    try:
        Table(table, MetaData()).drop(engine, checkfirst=True)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A database URL and a fresh table name on it; the table is dropped after."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    else:
        url = require_postgres()
    table = unique_table()
    yield url, table
    drop_table(url, table)
