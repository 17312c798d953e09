"""The package ships type information that matches it and that user code can rely on.

scripts/typecheck.sh does the work (stubtest, then mypy --strict on usage files);
these tests run it and check that the installed distribution carries the files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DIST_NAME = "apscheduler-rs"


def _installed_files() -> set[str]:
    files = metadata.files(DIST_NAME) or []
    return {str(path).replace(os.sep, "/") for path in files}


def test_wheel_ships_py_typed_and_a_stub_per_public_module():
    installed = _installed_files()
    assert "apscheduler/py.typed" in installed

    modules = {name for name in installed if name.startswith("apscheduler/") and name.endswith(".py")}
    # Private helpers (a leading underscore in any part) are not public API.
    public = {
        name for name in modules
        if not any(part.startswith("_") and part != "__init__.py" for part in name.split("/"))
    }
    assert public, "no public modules found in the installed distribution"
    missing = sorted(name for name in public if name + "i" not in installed)
    assert not missing, f"public modules without a stub: {missing}"


def test_distribution_declares_itself_typed():
    classifiers = metadata.metadata(DIST_NAME).get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers


def test_typecheck_script_passes():
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "typecheck.sh")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "stubs match the installed package" in output
    assert output.rstrip().endswith("typecheck: ok"), output
