"""
A job table written by the real APScheduler 3.11.3 (``.venv-ref``) is read by this
package with every job intact, and the other way round, on SQLite and PostgreSQL.

Both sides run ``_store_compat_jobs.py`` in their own interpreter: one writes the jobs,
then each reads the table back and describes every job (callable and its result,
arguments, trigger and its next fire times, options, next run time).
"""

import json
import os
import subprocess
import sys

import pytest

from _store_helpers import TESTS, database_url, reference_python  # noqa: F401

pytest.importorskip("sqlalchemy")


def run(python, *args):
    env = dict(os.environ, PYTHONPATH=str(TESTS), PYTHONIOENCODING="utf-8")
    proc = subprocess.run(
        [str(python), str(TESTS / "_store_compat_jobs.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("writer", ["reference", "ours"])
def test_table_read_by_the_other_package(database_url, writer):  # noqa: F811
    url, table = database_url
    ours, reference = sys.executable, reference_python()
    writing, reading = (reference, ours) if writer == "reference" else (ours, reference)

    run(writing, "write", url, table)
    written = json.loads(run(writing, "read", url, table))
    read = json.loads(run(reading, "read", url, table))

    assert len(written) == 8
    assert read == written
