"""The built abi3 wheel works on other CPython versions than the one that built it.

scripts/abi3_smoke.sh installs target/wheels-dev/*.whl (made by scripts/build.sh)
into virtual environments of the oldest and newest other CPython >= 3.9 it finds and
runs scripts/abi3_smoke.py and part of our test suite there.
"""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NO_INTERPRETER = 77


@pytest.mark.timeout(420)
def test_wheel_works_on_other_cpython_versions():
    if not list((REPO / "target" / "wheels-dev").glob("*-abi3-*.whl")):
        pytest.skip("no wheel in target/wheels-dev (scripts/build.sh makes it)")
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "abi3_smoke.sh")],
        capture_output=True,
        text=True,
        timeout=400,
    )
    if result.returncode == NO_INTERPRETER:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "abi3_smoke: ok on CPython" in result.stdout
