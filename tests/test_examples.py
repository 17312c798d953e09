"""The examples run as users would run them, and do what they say."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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
