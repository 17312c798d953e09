"""Flask-APScheduler 1.13 works unchanged on top of this package.

Flask-APScheduler is installed without its dependencies (its APScheduler requirement
would bring in the reference) into .cache/, next to Flask and python-dateutil from
scripts/requirements-dev.txt, and imports our apscheduler. The test drives it as an
application would: jobs from the Flask config, then every REST endpoint through
Flask's test client. Job listings go through its trigger_to_dict(), which reads
CronTrigger.fields, IntervalTrigger.interval and DateTrigger.run_date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import apscheduler
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

REPO = Path(__file__).resolve().parent.parent
FLASK_APSCHEDULER = "flask-apscheduler==1.13.1"
TARGET = REPO / ".cache" / "flask-apscheduler-1.13.1"

flask = pytest.importorskip("flask", reason="Flask comes from scripts/requirements-dev.txt")

# Calls made by the jobs, as (job argument, thread name).
calls: list[tuple[str, str]] = []


def record(text: str = "") -> str:
    calls.append((text, threading.current_thread().name))
    return text


def _install_flask_apscheduler() -> Path:
    if (TARGET / "flask_apscheduler" / "__init__.py").exists():
        return TARGET
    staging = TARGET.with_name(TARGET.name + f".tmp-{os.getpid()}")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--no-deps", "--no-compile", "--target", str(staging), FLASK_APSCHEDULER],
        check=True,
        timeout=120,
    )
    try:
        staging.rename(TARGET)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return TARGET


@pytest.fixture(scope="module")
def flask_apscheduler():
    path = str(_install_flask_apscheduler())
    sys.path.insert(0, path)
    try:
        import flask_apscheduler

        yield flask_apscheduler
    finally:
        sys.path.remove(path)


@pytest.fixture
def app_and_scheduler(flask_apscheduler):
    soon = datetime.now(timezone.utc) + timedelta(seconds=0.3)
    app = flask.Flask(__name__)
    app.config.update(
        SCHEDULER_API_ENABLED=True,
        SCHEDULER_TIMEZONE="UTC",
        SCHEDULER_EXECUTORS={"default": {"type": "threadpool", "max_workers": 3}},
        SCHEDULER_JOB_DEFAULTS={"coalesce": False, "max_instances": 2},
        SCHEDULER_JOBS=[
            {
                "id": "cron",
                "func": f"{__name__}:record",
                "args": ["cron"],
                "trigger": "cron",
                "day": "3rd fri",
                "hour": "0-3",
                "minute": "*/15",
            },
            {
                "id": "interval",
                "func": f"{__name__}:record",
                "trigger": "interval",
                "hours": 1,
                "minutes": 30,
                "start_date": "2030-01-01T00:00:00+00:00",
            },
            {
                # the older form: the trigger as a dict with a "type"
                "id": "old-style",
                "func": f"{__name__}:record",
                "trigger": {"type": "cron", "second": 5},
            },
            {
                "id": "soon",
                "func": f"{__name__}:record",
                "kwargs": {"text": "soon"},
                "trigger": "date",
                "run_date": soon.isoformat(),
            },
        ],
    )
    scheduler = flask_apscheduler.APScheduler()
    scheduler.init_app(app)
    yield app, scheduler
    if scheduler.running:
        scheduler.shutdown()


def test_it_runs_on_this_package(flask_apscheduler):
    assert flask_apscheduler.scheduler.BackgroundScheduler is BackgroundScheduler
    # our distribution, not the reference's
    from importlib import metadata

    assert metadata.version("apscheduler-rs")
    package = Path(apscheduler.__file__).parent
    assert any(path.name.startswith("_core.") for path in package.iterdir())


def test_config_jobs_and_rest_api(app_and_scheduler):
    app, scheduler = app_and_scheduler
    client = app.test_client()
    ran = threading.Event()
    events = []

    def listener(event):
        events.append(event)
        if event.job_id == "soon":
            ran.set()

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    calls.clear()

    # Jobs from the config are pending until the scheduler starts.
    assert {job.id for job in scheduler.get_jobs()} == {"cron", "interval", "old-style", "soon"}
    assert client.get("/scheduler").get_json()["running"] is False
    assert client.post("/scheduler/start").status_code == 204
    assert client.get("/scheduler").get_json()["running"] is True
    assert client.post("/scheduler/start").status_code == 400  # already running

    # The date job from the config runs on our thread pool. (The config's cron jobs
    # may fire too while the test runs, so only this job's calls are looked at.)
    assert ran.wait(10), "the config's date job did not run"
    soon_calls = [thread for text, thread in calls if text == "soon"]
    assert len(soon_calls) == 1 and soon_calls[0].startswith("ThreadPoolExecutor-")
    soon_events = [event for event in events if event.job_id == "soon"]
    assert [(event.retval, event.exception) for event in soon_events] == [("soon", None)]

    # Listing: trigger_to_dict() reads CronTrigger.fields and the other triggers.
    listed = {job["id"]: job for job in client.get("/scheduler/jobs").get_json()}
    assert set(listed) == {"cron", "interval", "old-style"}  # the date job is done
    cron = listed["cron"]
    assert cron["trigger"] == "cron"
    assert {key: cron[key] for key in ("day", "hour", "minute")} == {
        "day": "3rd fri", "hour": "0-3", "minute": "*/15",
    }
    assert not {"year", "month", "week", "day_of_week", "second"} & set(cron)
    assert cron["func"] == f"{__name__}:record" and cron["args"] == ["cron"]
    assert cron["max_instances"] == 2 and cron["misfire_grace_time"] == 1
    assert datetime.fromisoformat(cron["next_run_time"]).tzinfo is not None
    interval = listed["interval"]
    assert interval["trigger"] == "interval"
    assert (interval["hours"], interval["minutes"]) == (1, 30)
    assert interval["start_date"] == "2030-01-01T00:00:00+00:00"
    assert interval["next_run_time"] == "2030-01-01T00:00:00+00:00"
    assert listed["old-style"]["second"] == "5"

    # Add a job through the API, then a duplicate.
    new_job = {
        "id": "added",
        "func": f"{__name__}:record",
        "args": ["added"],
        "trigger": "interval",
        "minutes": 10,
    }
    response = client.post("/scheduler/jobs", json=new_job)
    assert response.status_code == 200, response.get_data(as_text=True)
    added = response.get_json()
    assert (added["id"], added["name"], added["trigger"], added["minutes"]) == (
        "added", "added", "interval", 10,
    )
    assert client.post("/scheduler/jobs", json=new_job).status_code == 409
    assert client.get("/scheduler/jobs/added").get_json()["id"] == "added"

    # Pause and resume it.
    paused = client.post("/scheduler/jobs/added/pause").get_json()
    assert paused["next_run_time"] is None
    assert scheduler.get_job("added").next_run_time is None
    resumed = client.post("/scheduler/jobs/added/resume").get_json()
    assert resumed["next_run_time"] is not None

    # Run it now, in the request (Flask-APScheduler calls job.func itself).
    calls.clear()
    assert client.post("/scheduler/jobs/added/run").status_code == 200
    assert [text for text, _ in calls if text == "added"] == ["added"]

    # Change its trigger to cron through PATCH.
    patched = client.patch("/scheduler/jobs/added", json={"trigger": "cron", "hour": "*/2"})
    assert patched.status_code == 200, patched.get_data(as_text=True)
    assert patched.get_json()["trigger"] == "cron" and patched.get_json()["hour"] == "*/2"

    # Delete it; then it is gone.
    assert client.delete("/scheduler/jobs/added").status_code == 204
    assert client.delete("/scheduler/jobs/added").status_code == 404
    assert client.get("/scheduler/jobs/added").status_code == 404
    assert client.post("/scheduler/jobs/added/pause").status_code == 404

    # The scheduler itself: pause, resume, shut down.
    assert client.post("/scheduler/pause").status_code == 204
    assert scheduler.state == 2  # STATE_PAUSED
    assert client.post("/scheduler/resume").status_code == 204
    assert scheduler.state == 1  # STATE_RUNNING
    assert client.post("/scheduler/shutdown", json={"wait": True}).status_code == 204
    assert client.get("/scheduler").get_json()["running"] is False
    response = client.post("/scheduler/shutdown")
    assert response.status_code == 400
    assert response.get_json()["error_message"] == "Scheduler is not running"


def test_task_decorator_and_direct_calls(app_and_scheduler):
    app, scheduler = app_and_scheduler

    @scheduler.task("interval", id="decorated", seconds=30)
    def decorated():
        return "decorated"

    scheduler.start(paused=True)
    job = scheduler.get_job("decorated")
    assert job is not None and job.func is decorated
    scheduler.modify_job("decorated", trigger="cron", minute="*/5")
    assert str(scheduler.get_job("decorated").trigger) == "cron[minute='*/5']"
    scheduler.pause_job("decorated")
    assert scheduler.get_job("decorated").next_run_time is None
    scheduler.resume_job("decorated")
    scheduler.remove_job("decorated")
    assert scheduler.get_job("decorated") is None
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []
    scheduler.resume()
    scheduler.pause()
    scheduler.shutdown(wait=False)
    assert not scheduler.running
