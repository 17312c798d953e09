"""Checks the package's stubs against the runtime with mypy's stubtest.

Usage: python run_stubtest.py [--against-reference DIR] [--extra-path DIR]

Without options the runtime is the installed package (the interpreter's own
site-packages, stubs included). With --against-reference DIR the runtime is
APScheduler 3.11.3's source in DIR (the unpacked sdist's src/) and the stubs come
from this checkout's python/ folder, which shows that the stubs describe the
reference's public API as well, also for modules that are still being rebuilt here.

Modules whose framework or database client is not installed cannot be imported, so
stubtest cannot compare them; they are allowed only while their import fails.
--extra-path DIR puts a folder with those libraries (tests/typing_usage/frameworks.txt)
on the runtime's path so that they are compared too.
Entries in stubtest-allowlist-pending.txt that have become unnecessary are
reported as notes, not errors.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Public modules that need a third-party package to import.
OPTIONAL_MODULES = [
    "apscheduler.schedulers.gevent",
    "apscheduler.schedulers.tornado",
    "apscheduler.schedulers.twisted",
    "apscheduler.schedulers.qt",
    "apscheduler.executors.gevent",
    "apscheduler.executors.tornado",
    "apscheduler.executors.twisted",
    "apscheduler.jobstores.sqlalchemy",
    "apscheduler.jobstores.mongodb",
    "apscheduler.jobstores.redis",
    "apscheduler.jobstores.rethinkdb",
    "apscheduler.jobstores.zookeeper",
    "apscheduler.jobstores.etcd",
]

PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        print(name)
"""


def entries(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against-reference", metavar="DIR", type=Path)
    parser.add_argument("--extra-path", metavar="DIR", type=Path)
    options = parser.parse_args()

    env = dict(os.environ)
    runtime_path = []
    allowlists = [HERE / "stubtest-allowlist.txt"]
    pending = set(entries(HERE / "stubtest-allowlist-pending.txt"))
    if options.against_reference:
        runtime_path.append(str(options.against_reference.resolve()))
        env["MYPYPATH"] = str(REPO / "python")
        allowlists.append(HERE / "stubtest-allowlist-reference.txt")
    else:
        env.pop("MYPYPATH", None)
        allowlists.append(HERE / "stubtest-allowlist-pending.txt")
    if options.extra_path:
        runtime_path.append(str(options.extra_path.resolve()))
    if runtime_path:
        env["PYTHONPATH"] = os.pathsep.join(runtime_path)
    else:
        env.pop("PYTHONPATH", None)

    # Run from an empty folder so that only the intended copy of the package is seen.
    with tempfile.TemporaryDirectory() as workdir:
        missing = subprocess.run(
            [sys.executable, "-c", PROBE, *OPTIONAL_MODULES],
            cwd=workdir, env=env, capture_output=True, text=True, check=True,
        ).stdout.split()
        generated = Path(workdir) / "unimportable.txt"
        generated.write_text("".join(f"{name}\n" for name in missing))
        allowlists.append(generated)

        command = [
            sys.executable, "-m", "mypy.stubtest",
            "--mypy-config-file", str(HERE / "stubtest-mypy.ini"),
        ]
        for allowlist in allowlists:
            command += ["--allowlist", str(allowlist)]
        command.append("apscheduler")
        result = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True
        )

    errors = []
    notes = []
    for line in result.stdout.splitlines():
        if line.startswith("note: unused allowlist entry "):
            entry = line.removeprefix("note: unused allowlist entry ").strip()
            (notes if entry in pending else errors).append(line)
        elif line.startswith("error: "):
            errors.append(line)
    for name in missing:
        print(f"stubtest: not compared (cannot be imported here): {name}")
    for line in notes:
        print(f"stubtest: {line.removeprefix('note: ')} (stubtest-allowlist-pending.txt; "
              "the module now matches, delete the entry)")
    if result.returncode != 0 and not errors:
        # Only pending entries were unused; anything else that failed is shown whole.
        if "unused allowlist entry" not in result.stdout:
            errors.append("stubtest failed")
    if errors:
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        print(f"stubtest: FAILED ({len(errors)} problem(s))")
        return 1
    where = options.against_reference or "the installed package"
    print(f"stubtest: stubs match {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
