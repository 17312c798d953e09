"""ThreadPoolExecutor on the native pool: threads, events, log lines, errors and
shutdown, compared with APScheduler 3.11.3 where its behaviour is the contract."""

import gc
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from concurrent.futures.thread import BrokenThreadPool
from pathlib import Path

import pytest

import _executor_helpers as helpers
from _executor_helpers import FakeJob, five, now, started, wait_until
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.executors.base import BaseExecutor, MaxInstancesReachedError
from apscheduler.executors.pool import (
    BasePoolExecutor,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def reference_python():
    override = os.environ.get("APSCHEDULER_REF_PYTHON")
    candidate = Path(override) if override else REPO / ".venv-ref" / "bin" / "python"
    if candidate.exists():
        return candidate
    if os.environ.get("CI"):
        pytest.fail(f"reference interpreter {candidate} missing on CI")
    pytest.skip(f"reference interpreter {candidate} not found (run scripts/bootstrap.sh)")


def clean_env():
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}


def run_isolated(python, code, *args, timeout=60):
    """Runs ``code`` in a fresh interpreter (-I: only its own apscheduler can be
    imported) with this directory as the first argument."""
    return subprocess.run(
        [str(python), "-I", "-c", code, str(HERE), *args],
        capture_output=True, text=True, timeout=timeout, cwd="/", env=clean_env(),
    )


SCENARIO_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
import _executor_helpers
_executor_helpers.reference_main()
"""


def scenario_outcome(python, name):
    proc = run_isolated(python, SCENARIO_SCRIPT, name)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", sorted(helpers.SCENARIOS))
def test_scenario_matches_reference(name):
    """Each scenario runs in a fresh process on both sides (thread and pool numbers
    start from 0 there)."""
    theirs = scenario_outcome(reference_python(), name)
    ours = scenario_outcome(sys.executable, name)
    assert ours == theirs


def test_scenario_threads_facts():
    """What the reference comparison above guarantees, spelled out."""
    out = scenario_outcome(sys.executable, "threads")
    assert out["while_blocked"] == [f"ThreadPoolExecutor-1_{n}" for n in range(3)]
    assert {tuple(entry) for entry in out["blocked_jobs_ran_on"]} == {
        (f"ThreadPoolExecutor-1_{n}", False, "Thread") for n in range(3)
    }
    assert out["after_shutdown"] == []
    assert out["from_daemon_thread"] == [["ThreadPoolExecutor-2_0", True, "Thread"]]
    assert out["prefixed"] == [["jobs_0", False, "Thread"]]
    # A pool with a prefix of its own takes no number.
    assert out["one_worker"] == [["ThreadPoolExecutor-3_0", False, "Thread"]]


# ---------------------------------------------------------------------------
# The executor's interface
# ---------------------------------------------------------------------------


def test_plugin_classes_and_defaults():
    executor = ThreadPoolExecutor()
    assert isinstance(executor, BasePoolExecutor)
    assert isinstance(executor, BaseExecutor)
    assert executor._pool._max_workers == 10
    assert executor._pool._threads == set()  # nothing started before a job comes
    assert executor._pool._thread_name_prefix.startswith("ThreadPoolExecutor-")
    executor.shutdown()
    with pytest.raises(TypeError):
        BasePoolExecutor(None)

    processes = ProcessPoolExecutor()
    assert processes._pool._max_workers == 10
    assert processes.pool_kwargs["mp_context"].get_start_method() == "spawn"
    processes.shutdown()


def test_pool_kwargs_dict_is_not_required_and_accepted():
    executor = ThreadPoolExecutor("4", pool_kwargs={"thread_name_prefix": "p"})
    assert executor._pool._max_workers == 4
    assert executor._pool._thread_name_prefix == "p"
    executor.shutdown()


def test_submit_before_start_is_refused():
    executor = ThreadPoolExecutor()
    with pytest.raises(AssertionError, match="has not been started yet"):
        executor.submit_job(FakeJob("x", five), [now()])
    executor.shutdown()


def test_workers_are_real_threads_and_loggers_use_the_alias(caplog):
    executor, scheduler = started(alias="workers")
    facts = []

    def look():
        thread = threading.current_thread()
        facts.append((
            type(thread) is threading.Thread,
            thread.ident == threading.get_ident(),
            thread in threading.enumerate(),
            thread.name,
        ))

    with caplog.at_level(logging.INFO, logger="apscheduler.executors.workers"):
        executor.submit_job(FakeJob("look", look), [helpers.RUN_TIME])
        scheduler.wait_for(1)
    executor.shutdown()
    assert facts[0][:3] == (True, True, True)
    assert facts[0][3].startswith("ThreadPoolExecutor-")
    assert [r.name for r in caplog.records] == ["apscheduler.executors.workers"] * 2


def test_max_instances_counts_runs_until_reported():
    executor, scheduler = started(3)
    gate = threading.Event()
    job = FakeJob("limited", gate.wait, (helpers.WAIT,), max_instances=2)
    executor.submit_job(job, [now()])
    executor.submit_job(job, [now()])
    with pytest.raises(MaxInstancesReachedError) as info:
        executor.submit_job(job, [now()])
    assert str(info.value) == (
        'Job "limited" has already reached its maximum number of instances (2)'
    )
    assert executor._instances == {"limited": 2}
    gate.set()
    events = scheduler.wait_for(2)
    wait_until(lambda: not executor._instances)
    assert [event.retval for event in events] == [True, True]
    executor.submit_job(job, [now()])
    scheduler.wait_for(3)
    executor.shutdown()


def test_a_raising_job_does_not_end_its_worker():
    executor, scheduler = started(1)
    threads = []

    def fail(exc):
        threads.append(threading.current_thread())
        raise exc

    failures = [ValueError("v"), KeyboardInterrupt(), SystemExit(2), GeneratorExit()]
    for number, exc in enumerate(failures):
        executor.submit_job(FakeJob(f"fail{number}", fail, (exc,)), [now()])
    executor.submit_job(FakeJob("after", five), [now()])
    events = scheduler.wait_for(5)
    executor.shutdown()
    assert [event.code for event in events] == [EVENT_JOB_ERROR] * 4 + [EVENT_JOB_EXECUTED]
    assert [type(event.exception) for event in events[:4]] == [type(e) for e in failures]
    assert all(isinstance(event.traceback, str) for event in events[:4])
    assert events[4].retval == 5
    assert len(set(threads)) == 1
    assert len(executor._pool._threads) == 1


def test_patched_run_job_is_read_at_submission(monkeypatch):
    calls = []

    def fake_run_job(job, jobstore_alias, run_times, logger_name):
        calls.append((job.id, jobstore_alias, run_times, logger_name))
        return ["event"]

    executor, scheduler = started(alias="patched")
    monkeypatch.setattr("apscheduler.executors.pool.run_job", fake_run_job)
    executor.submit_job(FakeJob("p", five), ["then"])
    assert scheduler.wait_for(1) == ["event"]
    executor.shutdown()
    assert calls == [("p", "default", ["then"], "apscheduler.executors.patched")]


def test_run_job_error_gets_the_exception_and_its_traceback(monkeypatch):
    def broken(job, jobstore_alias, run_times, logger_name):
        raise OSError("dummy")

    reported = []
    done = threading.Event()
    executor, _ = started()
    monkeypatch.setattr("apscheduler.executors.pool.run_job", broken)
    monkeypatch.setattr(
        executor, "_run_job_error",
        lambda job_id, exc, tb: (reported.append((job_id, exc, tb)), done.set()),
    )
    executor.submit_job(FakeJob("abc", five), [])
    assert done.wait(helpers.WAIT)
    executor.shutdown()
    job_id, exc, tb = reported[0]
    assert (job_id, type(exc), str(exc)) == ("abc", OSError, "dummy")
    assert tb is exc.__traceback__
    assert tb.tb_frame.f_code.co_name == "broken"


def test_failing_report_is_logged_and_the_worker_goes_on(caplog):
    executor, scheduler = started(1)
    original = executor._run_job_success
    calls = []

    def run_job_success(job_id, events):
        calls.append(job_id)
        if job_id == "first":
            raise SystemExit("from a listener")
        original(job_id, events)

    executor._run_job_success = run_job_success
    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        executor.submit_job(FakeJob("first", five), [now()])
        executor.submit_job(FakeJob("second", five), [now()])
        scheduler.wait_for(1)
    executor.shutdown()
    assert calls == ["first", "second"]
    [record] = caplog.records
    assert record.name == "concurrent.futures"
    assert record.getMessage().startswith("exception calling callback for ")
    assert record.exc_info[0] is SystemExit


def test_coroutine_function_is_called_like_any_function():
    """As in APScheduler 3.11.3, the thread pool does not run coroutines: the job's
    result is the coroutine object."""
    executor, scheduler = started()
    executor.submit_job(FakeJob("coro", helpers.coroutine_job), [now()])
    [event] = scheduler.wait_for(1)
    executor.shutdown()
    assert event.code == EVENT_JOB_EXECUTED
    assert event.retval.__class__.__name__ == "coroutine"
    event.retval.close()


# ---------------------------------------------------------------------------
# Threads: reuse, many submitters, lifetime
# ---------------------------------------------------------------------------


def test_workers_are_reused_not_started_per_job():
    executor, scheduler = started(10)
    seen = []
    for number in range(300):
        executor.submit_job(
            FakeJob(f"seq{number}", helpers.record_thread, (seen,)), [now()]
        )
        scheduler.wait_for(number + 1)
    executor.shutdown()
    names = {name for name, _, _ in seen}
    assert len(seen) == 300
    # A report is dispatched just before its worker counts as idle again, so the
    # next submission may start a second or third worker; never one per job.
    assert 1 <= len(names) <= 3
    assert names == {thread.name for thread in executor._pool._threads}


def test_a_burst_never_starts_more_than_max_workers():
    executor, scheduler = started(4)
    gate = threading.Event()
    for number in range(50):
        executor.submit_job(FakeJob(f"b{number}", gate.wait, (helpers.WAIT,)), [now()])
    wait_until(lambda: len(executor._pool._threads) == 4)
    gate.set()
    scheduler.wait_for(50)
    executor.shutdown()
    assert sorted(t.name for t in executor._pool._threads) == [
        f"{executor._pool._thread_name_prefix}_{n}" for n in range(4)
    ]


def test_many_jobs_from_many_threads():
    executor, scheduler = started()
    per_thread, submitters = 400, 8
    job = FakeJob("shared", five, max_instances=per_thread * submitters)

    def submit():
        for _ in range(per_thread):
            executor.submit_job(job, [now()])

    threads = [threading.Thread(target=submit) for _ in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = scheduler.wait_for(per_thread * submitters, timeout=60)
    executor.shutdown()
    assert len(events) == per_thread * submitters
    assert {event.retval for event in events} == {5}
    assert not executor._instances
    assert len(executor._pool._threads) <= 10


def test_shutdown_waits_for_running_and_queued_jobs():
    executor, scheduler = started(1)
    for number in range(3):
        executor.submit_job(FakeJob(f"slow{number}", time.sleep, (0.1,)), [now()])
    executor.shutdown(wait=True)
    assert len(scheduler.events) == 3
    assert not any(thread.is_alive() for thread in executor._pool._threads)
    with pytest.raises(RuntimeError, match="^cannot schedule new futures after shutdown$"):
        executor.submit_job(FakeJob("late", five), [now()])
    assert helpers.idle(executor)


def test_shutdown_without_wait_returns_at_once_and_jobs_still_run():
    executor, scheduler = started(1)
    gate = threading.Event()
    executor.submit_job(FakeJob("blocked", gate.wait, (helpers.WAIT,)), [now()])
    executor.submit_job(FakeJob("queued", five), [now()])
    started_at = time.monotonic()
    executor.shutdown(wait=False)
    assert time.monotonic() - started_at < 0.5
    gate.set()
    scheduler.wait_for(2)
    [thread] = executor._pool._threads
    thread.join(helpers.WAIT)
    assert not thread.is_alive()


def test_shutdown_with_wait_from_inside_a_job_does_not_wait_for_itself():
    executor, scheduler = started(3)
    gate = threading.Event()
    results = []

    def stop_executor():
        executor.shutdown(wait=True)
        results.append(sorted(t.is_alive() for t in executor._pool._threads))
        return "stopped"

    executor.submit_job(FakeJob("other", gate.wait, (helpers.WAIT,)), [now()])
    executor.submit_job(FakeJob("stopper", stop_executor), [now()])
    time.sleep(0.05)
    assert not results  # waits for the other job, not for itself
    gate.set()
    events = scheduler.wait_for(2)
    assert {event.job_id: event.code for event in events} == {
        "other": EVENT_JOB_EXECUTED, "stopper": EVENT_JOB_EXECUTED,
    }
    assert results == [[False, True]]  # only the calling worker was still alive
    executor.shutdown(wait=True)


def test_two_jobs_shutting_down_their_executor_at_once_do_not_deadlock():
    executor, scheduler = started(2)
    barrier = threading.Barrier(2, timeout=helpers.WAIT)

    def stop_executor():
        barrier.wait()
        executor.shutdown(wait=True)

    for number in range(2):
        executor.submit_job(FakeJob(f"stopper{number}", stop_executor), [now()])
    events = scheduler.wait_for(2)
    assert [event.code for event in events] == [EVENT_JOB_EXECUTED] * 2
    executor.shutdown(wait=True)
    assert not any(thread.is_alive() for thread in executor._pool._threads)


def test_waiting_main_thread_waits_for_a_job_that_is_itself_shutting_down():
    executor, scheduler = started(2)
    gate, inside = threading.Event(), threading.Event()

    def stop_executor():
        inside.set()
        gate.wait(helpers.WAIT)
        executor.shutdown(wait=True)

    executor.submit_job(FakeJob("stopper", stop_executor), [now()])
    inside.wait(helpers.WAIT)
    threading.Timer(0.1, gate.set).start()
    executor.shutdown(wait=True)
    assert len(scheduler.events) == 1
    assert not any(thread.is_alive() for thread in executor._pool._threads)


def test_workers_end_when_the_executor_is_garbage_collected():
    executor, scheduler = started(2)
    executor.submit_job(FakeJob("one", five), [now()])
    scheduler.wait_for(1)
    wait_until(lambda: not executor._instances)
    threads = list(executor._pool._threads)
    ref = weakref.ref(executor)
    del executor
    gc.collect()
    assert ref() is None
    for thread in threads:
        thread.join(helpers.WAIT)
        assert not thread.is_alive()


def test_idle_workers_let_other_threads_run():
    """Idle workers wait with the GIL released: a CPU-bound Python thread keeps its
    speed with ten idle workers around."""

    def spin():
        count, end = 0, time.perf_counter() + 0.2
        while time.perf_counter() < end:
            count += 1
        return count

    alone = spin()
    executor, scheduler = started(10)
    gate = threading.Event()
    for number in range(10):
        executor.submit_job(FakeJob(f"w{number}", gate.wait, (0.01,)), [now()])
    scheduler.wait_for(10)
    with_workers = spin()
    executor.shutdown()
    assert with_workers > alone * 0.5


def test_initializer_failure_breaks_the_pool():
    def fail():
        raise RuntimeError("no init")

    executor, scheduler = started(1, pool_kwargs={"initializer": fail})
    reported = threading.Event()
    executor._run_job_error = lambda job_id, exc, tb: reported.set()
    executor.submit_job(FakeJob("never", five), [now()])
    assert reported.wait(helpers.WAIT)
    with pytest.raises(BrokenThreadPool):
        executor.submit_job(FakeJob("refused", five), [now()])
    executor.shutdown()
    assert scheduler.events == []


# ---------------------------------------------------------------------------
# Interpreter exit and processes
# ---------------------------------------------------------------------------

EXIT_SCRIPT = textwrap.dedent("""
    import sys, threading, time
    sys.path.insert(0, sys.argv[1])
    from _executor_helpers import FakeJob, started, now

    def slow(label):
        time.sleep(0.2)
        print(label, threading.current_thread().name, flush=True)

    executor, scheduler = started()
    executor.submit_job(FakeJob("a", slow, ("done",)), [now()])
    for number in range(3):
        executor.submit_job(FakeJob(f"q{number}", slow, (f"queued{number}",)), [now()])
    # no shutdown(): at exit, the queued jobs run and the workers are waited for
    print("exiting", flush=True)
""")


def test_interpreter_exit_runs_queued_jobs_and_does_not_hang():
    theirs = run_isolated(reference_python(), EXIT_SCRIPT, timeout=30)
    ours = run_isolated(sys.executable, EXIT_SCRIPT, timeout=30)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stderr == theirs.stderr == ""
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())


def test_process_pool_runs_jobs_in_another_process():
    scheduler = helpers.StubScheduler()
    executor = ProcessPoolExecutor(1)
    executor.start(scheduler, "processes")
    executor.submit_job(FakeJob("pid", os.getpid), [now()])
    [event] = scheduler.wait_for(1, timeout=60)
    executor.shutdown()
    assert event.code == EVENT_JOB_EXECUTED
    assert isinstance(event.retval, int) and event.retval != os.getpid()


def test_broken_process_pool_is_replaced(caplog):
    scheduler = helpers.StubScheduler()
    executor = ProcessPoolExecutor(1)
    executor.start(scheduler, "processes")
    executor.submit_job(FakeJob("pid", os.getpid), [now()])
    [first] = scheduler.wait_for(1, timeout=60)
    os.kill(first.retval, signal.SIGTERM)
    try:
        os.waitpid(first.retval, 0)
    except ChildProcessError:
        # concurrent.futures' management thread reaped the worker first.
        pass
    broken_pool = executor._pool
    wait_until(lambda: broken_pool._broken, timeout=30)
    with caplog.at_level(logging.WARNING, logger="apscheduler.executors.processes"):
        executor.submit_job(FakeJob("pid", os.getpid), [now()])
    second = scheduler.wait_for(2, timeout=60)[1]
    executor.shutdown()
    assert executor._pool is not broken_pool
    assert executor._pool._max_workers == 1
    assert second.retval not in (first.retval, os.getpid())
    assert [r.getMessage() for r in caplog.records] == [
        "Process pool is broken; replacing pool with a fresh instance"
    ]


def test_subclass_with_a_concurrent_futures_pool_of_its_own():
    import concurrent.futures

    class Custom(ThreadPoolExecutor):
        def __init__(self):
            super().__init__()
            self._pool.shutdown()
            self._pool = concurrent.futures.ThreadPoolExecutor(2)

    executor = Custom()
    scheduler = helpers.StubScheduler()
    executor.start(scheduler, "custom")
    executor.submit_job(FakeJob("five", five), [now()])
    [event] = scheduler.wait_for(1)
    executor.shutdown()
    assert event.retval == 5


def test_running_instances_are_counted_for_each_job_and_forgotten_when_done():
    # The pool counts a job's running instances in _instances (a defaultdict(int)),
    # as the library's executor does: one key per running job, gone once it ends.
    import threading
    from datetime import datetime, timezone

    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.schedulers.background import BackgroundScheduler

    release = threading.Event()
    started = threading.Semaphore(0)
    done = threading.Semaphore(0)

    def wait():
        started.release()
        release.wait(10)

    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.add_listener(lambda event: done.release(), EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        now = datetime.now(timezone.utc)
        ids = [scheduler.add_job(wait, "date", run_date=now, id="job%d" % n).id for n in range(3)]
        for _ in ids:
            assert started.acquire(timeout=10)
        executor = scheduler._lookup_executor("default")

        def counts_become(expected):
            # A run may start before the submitting thread has counted it, as with
            # the reference (it counts after handing the run over).
            deadline = time.monotonic() + 5
            while dict(executor._instances) != expected and time.monotonic() < deadline:
                time.sleep(0.01)
            return dict(executor._instances)

        assert counts_become({job_id: 1 for job_id in ids}) == {job_id: 1 for job_id in ids}
        release.set()
        for _ in ids:
            assert done.acquire(timeout=10)
        assert counts_become({}) == {}
    finally:
        release.set()
        scheduler.shutdown()


def _burst_scheduler(max_workers):
    from datetime import timezone

    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers)}, timezone=timezone.utc
    )
    scheduler.start(paused=True)
    return scheduler


def _add_burst(scheduler, count, func, args=()):
    from datetime import datetime, timedelta, timezone

    run_date = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    for number in range(count):
        scheduler.add_job(func, "date", run_date=run_date, args=args, id=f"burst{number}")


def test_a_burst_starts_the_pools_workers_once_and_runs_every_job():
    # Runs due together are queued first and the workers they ask for started after,
    # as one batch: the same threads as when each was started at its submission.
    scheduler = _burst_scheduler(4)
    seen = []
    try:
        _add_burst(scheduler, 200, lambda: seen.append(threading.current_thread().name))
        scheduler.resume()
        wait_until(lambda: len(seen) == 200)
        executor = scheduler._lookup_executor("default")
        pool = executor._pool
        wait_until(lambda: not executor._instances and len(pool._threads) == 4)
        names = sorted(thread.name for thread in pool._threads)
    finally:
        scheduler.shutdown()
    assert names == [f"{pool._thread_name_prefix}_{n}" for n in range(4)]
    assert set(seen) <= set(names)
    assert len(seen) == 200


def test_a_worker_that_cannot_start_fails_its_submission_and_the_job_still_runs(monkeypatch, caplog):
    # As with concurrent.futures, whose submit() raises after queueing the job: the
    # submission is reported as failed, and the job runs on another worker.
    original_start = threading.Thread.start
    refused = []

    def start(thread):
        if thread.name.endswith("_2") and not refused:
            refused.append(thread.name)
            raise RuntimeError("can't start new thread")
        return original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    scheduler = _burst_scheduler(4)
    seen = []
    try:
        _add_burst(scheduler, 40, seen.append, args=(1,))
        with caplog.at_level(logging.ERROR, logger="apscheduler.scheduler"):
            scheduler.resume()
            wait_until(lambda: len(seen) == 40)
        executor = scheduler._lookup_executor("default")
        wait_until(lambda: not executor._instances)
        # The workers are started once the burst is queued: its jobs may all have
        # run before the last of them is registered.
        wait_until(lambda: len(executor._pool._threads) == 3)
        names = sorted(thread.name.rsplit("_", 1)[1] for thread in executor._pool._threads)
    finally:
        scheduler.shutdown()
    assert refused
    assert len(seen) == 40
    failures = [record for record in caplog.records if record.getMessage().startswith("Error submitting job")]
    assert len(failures) == 1
    assert "can't start new thread" in failures[0].exc_text
    assert names == ["0", "1", "3"]


def test_an_interrupted_start_of_workers_gives_back_the_slots_of_those_not_started(monkeypatch):
    # A KeyboardInterrupt while a batch's workers are being started leaves the rest
    # of them to later submissions, which start them.
    executor, scheduler = started(4)
    original_start = threading.Thread.start
    interrupted = []

    def start(thread):
        if thread.name.endswith("_1") and not interrupted:
            interrupted.append(thread.name)
            raise KeyboardInterrupt
        return original_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    gate = threading.Event()
    runs = [(FakeJob(f"k{number}", gate.wait, (helpers.WAIT,)), executor, [now()], "default") for number in range(4)]
    with pytest.raises(KeyboardInterrupt):
        executor._submit_batch(runs)
    assert interrupted
    assert executor._pool._queue.started == len(executor._pool._threads) == 1
    # The four jobs were queued; later submissions start the missing workers.
    later = [(FakeJob(f"l{number}", gate.wait, (helpers.WAIT,)), executor, [now()], "default") for number in range(3)]
    assert executor._submit_batch(later) == [None, None, None]
    wait_until(lambda: len(executor._pool._threads) == 4)
    gate.set()
    scheduler.wait_for(7)
    executor.shutdown()
