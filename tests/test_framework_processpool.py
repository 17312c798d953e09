"""ProcessPoolExecutor: the same events and errors as APScheduler 3.11.3's.

Each scenario of _processpool_scenarios.py runs under our interpreter and under the
one with the real APScheduler (.venv-ref), and both must report the same: a job run in
a worker, a job whose arguments or callable cannot be pickled, a coroutine function
(whose coroutine object cannot be sent back), and a worker killed during a run (the run
is an error, and the next submission gets a fresh pool).
"""

import multiprocessing
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apscheduler.executors.pool import ProcessPoolExecutor

HERE = Path(__file__).resolve().parent
SCENARIOS = ["runs", "unpicklable_args", "lambda", "coroutine", "killed"]


def reference_python():
    default = HERE.parent / ".venv-ref" / "bin" / "python"
    path = Path(os.environ.get("APSCHEDULER_REF_PYTHON", default))
    return path if path.exists() else None


def run_scenario(python, name):
    proc = subprocess.run(
        [str(python), str(HERE / "_processpool_scenarios.py"), name],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    # object addresses differ from run to run
    return re.sub(r" at 0x[0-9a-f]+", " at 0x...", proc.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def outcomes():
    """Every scenario under both interpreters, at the same time (the waits are for
    spawned workers, not for the CPU)."""
    ref = reference_python()
    if ref is None:
        pytest.skip("reference environment .venv-ref not found")
    jobs = [(python, name) for name in SCENARIOS for python in (sys.executable, ref)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda job: run_scenario(*job), jobs))
    return {
        name: (results[2 * i], results[2 * i + 1]) for i, name in enumerate(SCENARIOS)
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_matches_reference(outcomes, name):
    ours, theirs = outcomes[name]
    assert ours == theirs


def test_pool_kwargs_pass_through_and_survive_a_replacement():
    pool_kwargs = {"max_tasks_per_child": 3}
    executor = ProcessPoolExecutor("2", pool_kwargs=pool_kwargs)
    try:
        # as with APScheduler, the caller's dict is completed in place
        assert pool_kwargs["mp_context"].get_start_method() == "spawn"
        assert executor._pool._max_workers == 2
        assert executor._pool._max_tasks_per_child == 3
    finally:
        executor.shutdown()

    context = multiprocessing.get_context("forkserver")
    executor = ProcessPoolExecutor(1, pool_kwargs={"mp_context": context})
    executor.shutdown()
    assert executor._pool._mp_context is context

