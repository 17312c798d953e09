"""
Third-party job stores written in Python keep working: django-apscheduler's
DjangoJobStore (a BaseJobStore subclass using _scheduler, _alias, _logger,
_reconstitute_job, _fix_paused_jobs_sorting and Job.__new__ plus __setstate__) runs
jobs, records their executions and restores them, with Django on SQLite.
"""

import json
import os
import subprocess
import sys

import pytest

from _store_helpers import TESTS

pytest.importorskip("django")
pytest.importorskip("django_apscheduler")


def test_django_job_store(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(TESTS / "_store_django_app.py"),
         str(tmp_path / "django.sqlite")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)

    assert report["ran"] is True
    assert report["jobs"] == [
        ["ticker", "tick", True, "default"],
        ["tomorrow", "renamed", True, "default"],
        ["paused", "tick", False, "default"],
    ]
    assert report["stored_ids"] == ["paused", "ticker", "tomorrow"]
    assert report["executions"] == [["ticker", "Executed"]]
    assert report["restored"][:2] == ["renamed", ["date"]]
    assert report["restored"][2].startswith("date[")
    assert report["after_remove"] == ["paused", "tomorrow"]
