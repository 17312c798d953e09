"""One measurement of ``bench_asyncio.py``, run under the interpreter being measured.

    python benches/_asyncio_workload.py SCENARIO --jobs N

Prints one JSON object. Scenarios:

- ``burst``: N coroutine jobs due at once (added to a paused AsyncIOScheduler, then
  ``resume()``): the time until every one has run;
- ``add_running``: N coroutine jobs due at once, added one after another by a
  coroutine to a running scheduler: the time from the first add_job() until every one
  has run;
- ``bare_tasks``: no scheduler at all: N trivial coroutines, each run as its own Task
  with a done callback, as the executor runs coroutine jobs. The floor of the CPU time
  per run of any scheduler that gives each job its own Task.

Throughout, a probe coroutine resumes after every loop iteration
(``await asyncio.sleep(0)``) and records how long each iteration kept it waiting:
wall clock, and the CPU time of the loop's thread (which leaves out the time the
machine gave to other processes). The garbage collector is off during the
measurement, as in the other benchmarks.
"""

import argparse
import asyncio
import gc
import json
import time
from datetime import datetime, timezone


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


async def bare_tasks(count):
    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    done = [0]

    async def job():
        pass

    def job_done(task):
        done[0] += 1
        if done[0] == count:
            finished.set_result(None)

    cpu_start = time.process_time()
    start = time.perf_counter()
    for _ in range(count):
        loop.create_task(job()).add_done_callback(job_done)
    await finished
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {
        "scenario": "bare_tasks",
        "jobs": count,
        "seconds": elapsed,
        "rate": count / elapsed,
        "cpu_us_per_run": cpu / count * 1e6,
        "stall_max_ms": 0.0,
    }


async def measure(scenario, count):
    if scenario == "bare_tasks":
        return await bare_tasks(count)

    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    ran = [0]

    async def job():
        ran[0] += 1
        if ran[0] == count:
            finished.set()

    scheduler = AsyncIOScheduler(
        timezone=timezone.utc, job_defaults={"misfire_grace_time": None}
    )
    scheduler.start(paused=True)
    # warm-up: the first add_job() by alias loads the trigger plug-ins
    scheduler.remove_job(scheduler.add_job(job, "date").id)

    now = datetime.now(timezone.utc)
    if scenario == "burst":
        # every job is in the store before processing resumes
        for _ in range(count):
            scheduler.add_job(job, "date", run_date=now)

    stop = False
    wall_gaps = []
    cpu_gaps = []

    async def probe():
        wall, cpu = time.perf_counter(), time.thread_time()
        while not stop:
            await asyncio.sleep(0)
            new_wall, new_cpu = time.perf_counter(), time.thread_time()
            wall_gaps.append(new_wall - wall)
            cpu_gaps.append(new_cpu - cpu)
            wall, cpu = new_wall, new_cpu

    probe_task = loop.create_task(probe())
    await asyncio.sleep(0.01)
    cpu_start = time.process_time()
    start = time.perf_counter()
    scheduler.resume()
    if scenario == "add_running":
        for _ in range(count):
            scheduler.add_job(job, "date", run_date=now)
    await asyncio.wait_for(finished.wait(), 600)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    stop = True
    await probe_task
    scheduler.shutdown()
    wall_gaps.sort()
    cpu_gaps.sort()
    return {
        "scenario": scenario,
        "jobs": count,
        "seconds": elapsed,
        "rate": count / elapsed,
        "cpu_us_per_run": cpu / count * 1e6,
        "iterations": len(wall_gaps),
        "stall_max_ms": wall_gaps[-1] * 1e3 if wall_gaps else 0.0,
        "stall_p99_ms": percentile(wall_gaps, 0.99) * 1e3,
        "stall_cpu_max_ms": cpu_gaps[-1] * 1e3 if cpu_gaps else 0.0,
        "stall_cpu_p99_ms": percentile(cpu_gaps, 0.99) * 1e3,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=("burst", "add_running", "bare_tasks"))
    parser.add_argument("--jobs", type=int, default=20_000)
    args = parser.parse_args()
    gc.collect()
    gc.disable()
    result = asyncio.run(measure(args.scenario, args.jobs))
    import apscheduler

    result["apscheduler"] = apscheduler.__file__
    print(json.dumps(result))


if __name__ == "__main__":
    main()
