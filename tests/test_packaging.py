"""The installed distribution looks like APScheduler 3.11.3 from the outside.

Checks the public module tree, the version and the plugin entry points.  Where a
module needs a third-party framework that is not installed, it must fail with the
same ImportError as the reference (the real APScheduler in .venv-ref).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import apscheduler

REPO = Path(__file__).resolve().parent.parent
DIST_NAME = "apscheduler-rs"

# Each public module whose import needs a third-party framework, with the name its
# ImportError mentions when the framework is missing.
NEEDS_FRAMEWORK = {
    "apscheduler.schedulers.gevent": "gevent",
    "apscheduler.schedulers.tornado": "tornado",
    "apscheduler.schedulers.twisted": "twisted",
    "apscheduler.schedulers.qt": "pyside",
    "apscheduler.executors.gevent": "gevent",
    "apscheduler.executors.tornado": "tornado",
    "apscheduler.executors.twisted": "twisted",
    "apscheduler.jobstores.sqlalchemy": "sqlalchemy",
    "apscheduler.jobstores.mongodb": "pymongo",
    "apscheduler.jobstores.redis": "redis",
    "apscheduler.jobstores.rethinkdb": "rethinkdb",
    "apscheduler.jobstores.zookeeper": "kazoo",
    "apscheduler.jobstores.etcd": "etcd3",
}

PUBLIC_MODULES = [
    "apscheduler",
    "apscheduler.events",
    "apscheduler.job",
    "apscheduler.util",
    "apscheduler.schedulers",
    "apscheduler.schedulers.base",
    "apscheduler.schedulers.blocking",
    "apscheduler.schedulers.background",
    "apscheduler.schedulers.asyncio",
    "apscheduler.schedulers.gevent",
    "apscheduler.schedulers.tornado",
    "apscheduler.schedulers.twisted",
    "apscheduler.schedulers.qt",
    "apscheduler.executors",
    "apscheduler.executors.base",
    "apscheduler.executors.pool",
    "apscheduler.executors.asyncio",
    "apscheduler.executors.debug",
    "apscheduler.executors.gevent",
    "apscheduler.executors.tornado",
    "apscheduler.executors.twisted",
    "apscheduler.jobstores",
    "apscheduler.jobstores.base",
    "apscheduler.jobstores.memory",
    "apscheduler.jobstores.sqlalchemy",
    "apscheduler.jobstores.mongodb",
    "apscheduler.jobstores.redis",
    "apscheduler.jobstores.rethinkdb",
    "apscheduler.jobstores.zookeeper",
    "apscheduler.jobstores.etcd",
    "apscheduler.triggers",
    "apscheduler.triggers.base",
    "apscheduler.triggers.date",
    "apscheduler.triggers.interval",
    "apscheduler.triggers.calendarinterval",
    "apscheduler.triggers.combining",
    "apscheduler.triggers.cron",
    "apscheduler.triggers.cron.expressions",
    "apscheduler.triggers.cron.fields",
]

# The entry points APScheduler 3.11.3 declares (its pyproject.toml).
REFERENCE_ENTRY_POINTS = {
    "apscheduler.triggers": {
        "calendarinterval": "apscheduler.triggers.calendarinterval:CalendarIntervalTrigger",
        "date": "apscheduler.triggers.date:DateTrigger",
        "interval": "apscheduler.triggers.interval:IntervalTrigger",
        "cron": "apscheduler.triggers.cron:CronTrigger",
        "and": "apscheduler.triggers.combining:AndTrigger",
        "or": "apscheduler.triggers.combining:OrTrigger",
    },
    "apscheduler.executors": {
        "debug": "apscheduler.executors.debug:DebugExecutor",
        "threadpool": "apscheduler.executors.pool:ThreadPoolExecutor",
        "processpool": "apscheduler.executors.pool:ProcessPoolExecutor",
        "asyncio": "apscheduler.executors.asyncio:AsyncIOExecutor",
        "gevent": "apscheduler.executors.gevent:GeventExecutor",
        "tornado": "apscheduler.executors.tornado:TornadoExecutor",
        "twisted": "apscheduler.executors.twisted:TwistedExecutor",
    },
    "apscheduler.jobstores": {
        "memory": "apscheduler.jobstores.memory:MemoryJobStore",
        "sqlalchemy": "apscheduler.jobstores.sqlalchemy:SQLAlchemyJobStore",
        "mongodb": "apscheduler.jobstores.mongodb:MongoDBJobStore",
        "rethinkdb": "apscheduler.jobstores.rethinkdb:RethinkDBJobStore",
        "redis": "apscheduler.jobstores.redis:RedisJobStore",
        "zookeeper": "apscheduler.jobstores.zookeeper:ZooKeeperJobStore",
        "etcd": "apscheduler.jobstores.etcd:EtcdJobStore",
    },
}

# Imports every module in a fresh interpreter and prints, as JSON, either null (it
# imported) or [exception type, message] for each.  Runs with -I so that neither the
# working directory nor PYTHONPATH can shadow the installed package.
PROBE = """
import importlib, json, sys
outcomes = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        outcomes[name] = [type(exc).__name__, str(exc)]
    else:
        outcomes[name] = None
print(json.dumps(outcomes))
"""


def probe_imports(python: str, cwd: Path) -> dict[str, list[str] | None]:
    proc = subprocess.run(
        [python, "-I", "-c", PROBE, *PUBLIC_MODULES],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def reference_python() -> Path | None:
    default = REPO / ".venv-ref" / "bin" / "python"
    path = Path(os.environ.get("APSCHEDULER_REF_PYTHON", default))
    return path if path.exists() else None


@pytest.fixture(scope="module")
def our_imports(tmp_path_factory) -> dict[str, list[str] | None]:
    return probe_imports(sys.executable, tmp_path_factory.mktemp("probe"))


@pytest.fixture(scope="module")
def reference_imports(tmp_path_factory) -> dict[str, list[str] | None]:
    python = reference_python()
    if python is None:
        pytest.skip("reference environment .venv-ref not found (run scripts/bootstrap.sh)")
    outcomes = probe_imports(str(python), tmp_path_factory.mktemp("probe-ref"))
    assert outcomes["apscheduler"] is None, "the reference apscheduler does not import"
    return outcomes


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_module_imports(module, our_imports):
    outcome = our_imports[module]
    if outcome is None:
        return
    exc_type, message = outcome
    framework = NEEDS_FRAMEWORK.get(module)
    assert framework is not None, f"{module} failed to import: {exc_type}: {message}"
    assert exc_type in ("ImportError", "ModuleNotFoundError"), f"{exc_type}: {message}"
    assert framework in message.lower(), (
        f"{module} raised an ImportError that does not name {framework}: {message}"
    )


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_import_outcome_matches_reference(module, our_imports, reference_imports):
    assert our_imports[module] == reference_imports[module]


def test_imported_package_is_the_installed_distribution():
    dist = metadata.distribution(DIST_NAME)
    installed = [Path(dist.locate_file(f)).resolve() for f in dist.files or ()]
    init = Path(apscheduler.__file__).resolve()
    # an editable install lists a .pth file instead of the package's modules
    if not any(f.suffix == ".pth" for f in installed):
        assert init in installed, f"apscheduler imported from {init}, not from {DIST_NAME}"


def test_version_info():
    assert isinstance(apscheduler.version_info, tuple)
    assert apscheduler.version_info[0] == 3


def read_entry_points(dist: metadata.Distribution) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    for ep in dist.entry_points:
        if ep.group.startswith("apscheduler."):
            groups.setdefault(ep.group, {})[ep.name] = ep.value
    return groups


def test_entry_points_match_reference():
    assert read_entry_points(metadata.distribution(DIST_NAME)) == REFERENCE_ENTRY_POINTS


def test_reference_entry_points_are_the_expected_ones():
    python = reference_python()
    if python is None:
        pytest.skip("reference environment .venv-ref not found (run scripts/bootstrap.sh)")
    code = (
        "import json; from importlib import metadata\n"
        "eps = metadata.distribution('APScheduler').entry_points\n"
        "print(json.dumps([[e.group, e.name, e.value] for e in eps]))\n"
    )
    proc = subprocess.run(
        [str(python), "-I", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    groups: dict[str, dict[str, str]] = {}
    for group, name, value in json.loads(proc.stdout):
        if group.startswith("apscheduler."):
            groups.setdefault(group, {})[name] = value
    assert groups == REFERENCE_ENTRY_POINTS


@pytest.mark.parametrize(
    "group, name",
    [(group, name) for group, eps in REFERENCE_ENTRY_POINTS.items() for name in eps],
)
def test_entry_point_loads(group, name, our_imports):
    ep = next(
        ep
        for ep in metadata.distribution(DIST_NAME).entry_points
        if ep.group == group and ep.name == name
    )
    outcome = our_imports[ep.module]
    if outcome is not None:
        if ep.module in NEEDS_FRAMEWORK:
            pytest.skip(f"{ep.module} needs a framework that is not installed")
        pytest.fail(f"{ep.module} failed to import: {outcome[0]}: {outcome[1]}")
    obj = ep.load()
    assert obj.__name__ == ep.attr
    assert obj.__module__ == ep.module
