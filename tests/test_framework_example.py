"""examples/asyncio_starlette.py runs as users would run it and does what it says."""

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "asyncio_starlette.py"
WAIT = 10

pytest.importorskip("starlette")


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("asyncio_starlette", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_prints_ticks_and_the_fired_reminder():
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ticks = [int(line.split()[1]) for line in lines if line.startswith("status:")]
    assert len(ticks) == 4 and ticks[-1] > ticks[0] >= 0
    assert "reminders fired: ['stretch']" in lines
    assert "scheduler running after shutdown: False" in lines
    assert lines[-1] == "Done."


def test_lifespan_runs_the_scheduler_on_the_app_loop(example):
    from starlette.testclient import TestClient

    with TestClient(example.app) as client:
        scheduler = example.app.state.scheduler
        assert scheduler.running
        status = client.get("/status").json()
        assert [job["id"] for job in status["jobs"]] == ["tick"]

        response = client.post("/reminders", json={"text": "now", "seconds": 0})
        assert response.status_code == 201
        deadline = time.monotonic() + WAIT
        while not client.get("/reminders").json():
            assert time.monotonic() < deadline, "the reminder never fired"
            time.sleep(0.01)
        assert [r["text"] for r in client.get("/reminders").json()] == ["now"]
        # the one-off job is gone once it has run
        assert [job["id"] for job in client.get("/status").json()["jobs"]] == ["tick"]

    assert not scheduler.running
