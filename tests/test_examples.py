"""The examples run as users would run them, and do what they say."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def test_demo_fires_jobs_and_exits():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("heartbeat  on ThreadPoolExecutor-" in line for line in lines) >= 3
    assert any("even second (cron)" in line for line in lines)
    assert any("listener: once raised RuntimeError" in line for line in lines)
    assert lines[-1] == "Done."


def _run(name, python=sys.executable):
    result = subprocess.run(
        [python, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_blocking_scheduler_returns_after_the_job_shuts_it_down():
    lines = _run("blocking.py")
    assert [line.split("!")[0] for line in lines if line.startswith("Tick")] == [
        "Tick 1",
        "Tick 2",
        "Tick 3",
    ]
    assert lines[-1] == "start() returned after 3 runs; running: False"


def test_background_scheduler_runs_beside_the_main_thread():
    lines = _run("background.py")
    assert "APScheduler" in lines[0].split("threads now: ")[1].split(", ")
    ticks = [line for line in lines if line.startswith("Tick!")]
    assert len(ticks) >= 3
    assert all(" on ThreadPoolExecutor-" in line for line in ticks)
    assert "main thread: still working (2 s)" in lines
    assert lines[-1] == "Scheduler shut down; running: False"


def test_cron_calendar_shows_third_fridays_and_last_days():
    lines = _run("cron_calendar.py")
    assert "    Fri 2026-06-19 03:00 UTC" in lines
    assert "    Fri 2026-01-16 09:30 UTC" in lines  # 3rd fri of January 2026
    assert "    Sat 2026-02-28 18:00 UTC" in lines  # last day of February 2026
    assert "    Sun 2026-03-29 00:00 UTC" in lines  # last sun of March 2026
    jobs = [line for line in lines if line.startswith("job ")]
    assert len(jobs) == 2
    assert any(line.startswith("job third-friday: next run at Fri ") for line in jobs)
    assert lines[-1] == "Done."


def test_cron_calendar_matches_the_reference():
    reference = REPO / ".venv-ref" / "bin" / "python"
    if not reference.exists():
        pytest.skip(".venv-ref is missing (scripts/bootstrap.sh makes it)")
    ours = [line for line in _run("cron_calendar.py") if not line.startswith("job ")]
    theirs = [line for line in _run("cron_calendar.py", str(reference)) if not line.startswith("job ")]
    assert ours == theirs


def test_listeners_hear_job_and_scheduler_events():
    lines = _run("listeners.py")
    assert "my_listener: the job answer worked :) and returned 42" in lines
    assert (
        "my_listener: the job fail crashed :( (ValueError('this job fails on purpose'))" in lines
    )
    heard = [line.split(": ", 1)[1] for line in lines if line.startswith("every_event: ")]
    assert heard[:3] == ["EVENT_EXECUTOR_ADDED", "EVENT_JOBSTORE_ADDED", "EVENT_SCHEDULER_STARTED"]
    for code in ("EVENT_JOB_ADDED", "EVENT_JOB_SUBMITTED", "EVENT_JOB_EXECUTED", "EVENT_JOB_ERROR"):
        assert code in heard
    assert heard[-1] == "EVENT_SCHEDULER_SHUTDOWN"
    assert lines[-1] == "Done."


def test_configure_forms_give_the_same_scheduler():
    lines = _run("configure.py")
    for method in ("method 1", "method 2", "method 3"):
        assert f"{method}: timezone=UTC" in lines
        assert f"{method}: job defaults: coalesce=False max_instances=3" in lines
        assert f"{method}: jobs in store 'other': ['parked']" in lines
        assert f"{method}: job 'where' ran in another process: True" in lines
    assert lines[-1] == "Done."


def test_jobs_in_an_sqlite_file_survive_a_new_scheduler(tmp_path):
    pytest.importorskip("sqlalchemy")
    path = str(tmp_path / "jobs.sqlite")
    # Two processes, as two runs of an application would be.
    first = _run_with_args("persistence_sqlite.py", path)
    assert "jobs in the file: ['ticker']" in first
    assert "ran ticker: tick" in first
    second = _run_with_args("persistence_sqlite.py", path)
    assert "jobs in the file: ['ticker']" in second
    assert "ran ticker: tick" in second
    assert second[-1] == "Done."


def _run_with_args(name, *args):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=EXAMPLES,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()
