"""MemoryJobStore: the reference's ordering and errors, checked against a plain model,
and re-entrant calls from the job objects it holds."""

import gc
import random
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


class FakeJob:
    """What a job store reads of a job: its id and next run time."""

    def __init__(self, id, next_run_time):
        self.id = id
        self.next_run_time = next_run_time

    def __repr__(self):
        return f"FakeJob({self.id!r}, {self.next_run_time})"


def model_order(jobs):
    """The reference's order: run time ascending, then id, paused jobs last."""
    return sorted(
        jobs.values(),
        key=lambda job: (
            job.next_run_time is None,
            job.next_run_time.timestamp() if job.next_run_time else 0,
            job.id,
        ),
    )


def test_is_a_job_store_plugin():
    store = MemoryJobStore()
    assert isinstance(store, BaseJobStore)
    store.start(None, "memory")
    assert store._alias == "memory"
    assert repr(store) == "<MemoryJobStore>"
    assert store.get_next_run_time() is None
    assert store.get_all_jobs() == []


def test_errors_carry_the_reference_messages():
    store = MemoryJobStore()
    store.add_job(FakeJob("a", EPOCH))
    with pytest.raises(ConflictingIdError, match=r"Job identifier \(a\) conflicts"):
        store.add_job(FakeJob("a", EPOCH))
    with pytest.raises(JobLookupError, match="No job by the id of b was found"):
        store.update_job(FakeJob("b", EPOCH))
    with pytest.raises(JobLookupError, match="No job by the id of b was found"):
        store.remove_job("b")
    assert store.lookup_job("b") is None


@pytest.mark.parametrize("seed", range(5))
def test_random_operations_match_the_model(seed):
    rng = random.Random(seed)
    store = MemoryJobStore()
    model = {}
    zones = [timezone.utc, BERLIN, timezone(timedelta(hours=-7))]
    for _ in range(600):
        op = rng.random()
        job_id = f"job{rng.randrange(40)}"
        when = None
        if rng.random() > 0.15:
            # Few distinct instants, so that ties are broken by id.
            when = (EPOCH + timedelta(minutes=rng.randrange(30))).astimezone(rng.choice(zones))
        if op < 0.45:
            if job_id in model:
                with pytest.raises(ConflictingIdError):
                    store.add_job(FakeJob(job_id, when))
            else:
                model[job_id] = FakeJob(job_id, when)
                store.add_job(model[job_id])
        elif op < 0.75:
            if job_id in model:
                model[job_id] = FakeJob(job_id, when)
                store.update_job(model[job_id])
            else:
                with pytest.raises(JobLookupError):
                    store.update_job(FakeJob(job_id, when))
        elif op < 0.95:
            if job_id in model:
                del model[job_id]
                store.remove_job(job_id)
            else:
                with pytest.raises(JobLookupError):
                    store.remove_job(job_id)
        else:
            store.remove_all_jobs()
            model.clear()

        expected = model_order(model)
        assert store.get_all_jobs() == expected
        assert store.lookup_job(job_id) is model.get(job_id)
        now = EPOCH + timedelta(minutes=rng.randrange(30), seconds=rng.choice([0, 30]))
        due = [job for job in expected if job.next_run_time and job.next_run_time <= now]
        assert store.get_due_jobs(now) == due
        first = expected[0].next_run_time if expected else None
        assert store.get_next_run_time() == first


def test_job_attributes_may_call_back_into_the_store():
    store = MemoryJobStore()

    class Reentrant(FakeJob):
        @property
        def next_run_time(self):
            # The store reads this attribute outside its lock.
            store.get_all_jobs()
            return EPOCH

        @next_run_time.setter
        def next_run_time(self, value):
            pass

    store.add_job(Reentrant("a", None))
    store.update_job(Reentrant("a", None))
    assert [job.id for job in store.get_all_jobs()] == ["a"]


def test_released_jobs_may_call_back_into_the_store():
    store = MemoryJobStore()
    seen = []

    class CallsBack(FakeJob):
        def __del__(self):
            # Runs when the store drops its reference: the lock must be released by then.
            seen.append(len(store.get_all_jobs()))

    store.add_job(CallsBack("a", EPOCH))
    store.add_job(CallsBack("b", EPOCH))
    store.remove_job("a")
    store.update_job(FakeJob("b", EPOCH))
    store.add_job(CallsBack("c", EPOCH))
    store.remove_all_jobs()
    assert seen == [1, 1, 0]


def test_shutdown_empties_the_store():
    store = MemoryJobStore()
    store.add_job(FakeJob("a", EPOCH))
    store.shutdown()
    assert store.get_all_jobs() == []


# --- Datetimes read in place, ids in their compact form -----------------------------


class _Moment(datetime):
    """A datetime subclass: read through its Python methods, not in place."""


def _edge_datetimes():
    india = timezone(timedelta(hours=5, minutes=30))
    return [
        datetime(1, 1, 2, tzinfo=timezone.utc),
        datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=timezone.utc),
        datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN),  # fold 0 of the repeated hour
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
        datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=BERLIN),
        datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=india),
        _Moment(2026, 6, 1, 6, 30, 0, 2, tzinfo=timezone.utc),
        datetime(2026, 6, 1, 6, 30, 0, 3),  # naive: counted as UTC, as the reference does
    ]


def test_jobs_sort_by_the_instant_of_every_kind_of_datetime():
    store = MemoryJobStore()
    moments = _edge_datetimes()
    for index, moment in enumerate(moments):
        store.add_job(FakeJob("job%d" % index, moment))

    def instant(moment):
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()

    expected = sorted(range(len(moments)), key=lambda index: (instant(moments[index]), "job%d" % index))
    assert [job.id for job in store.get_all_jobs()] == ["job%d" % index for index in expected]
    for index, moment in enumerate(moments):
        due = {job.id for job in store.get_due_jobs(moment)}
        assert due == {"job%d" % other for other in range(len(moments)) if instant(moments[other]) <= instant(moment)}


def test_library_made_and_other_ids_share_one_order():
    store = MemoryJobStore()
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = ["0" * 31 + "a", "f" * 32, "1", "0", "zz", "F" * 32, "0" * 31 + "a0"]
    for job_id in ids:
        store.add_job(FakeJob(job_id, when))
    assert [job.id for job in store.get_all_jobs()] == sorted(ids)
    for job_id in ids:
        assert store.lookup_job(job_id).id == job_id
    with pytest.raises(ConflictingIdError):
        store.add_job(FakeJob("f" * 32, when))
    store.remove_job("f" * 32)
    assert store.lookup_job("f" * 32) is None
    assert store.lookup_job("F" * 32).id == "F" * 32


# Stored jobs are out of the garbage collector's sight (every collection of the oldest
# generation would walk them all); once the store lets one go, a reference cycle
# through it must be collectable again.


class _Owner:
    """Something a job refers to that refers back to the job: a reference cycle."""


def _job_in_a_cycle(scheduler, **trigger_args):
    owner = _Owner()
    job = scheduler.add_job(noop, kwargs={"owner": owner}, **trigger_args)
    owner.job = job
    return weakref.ref(owner), job


def noop(**kwargs):
    pass


@pytest.fixture
def started_scheduler():
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_stored_jobs_are_hidden_from_the_collector(started_scheduler):
    job = started_scheduler.add_job(noop, "interval", seconds=60)
    assert not gc.is_tracked(job)
    assert not gc.is_tracked(started_scheduler.get_job(job.id))


def test_jobs_that_run_once_stay_in_sight(started_scheduler):
    # They are let go after their run: tracked again then, they would be walked by
    # every young collection.
    job = started_scheduler.add_job(noop, "date", run_date=datetime(2100, 1, 1, tzinfo=timezone.utc))
    assert gc.is_tracked(job)


@pytest.mark.parametrize("release", ["remove_job", "remove_all_jobs", "replace", "store_removed"])
def test_cycles_through_released_jobs_are_collected(started_scheduler, release):
    owner, job = _job_in_a_cycle(started_scheduler, trigger="interval", seconds=60, id="cyclic")
    if release == "remove_job":
        started_scheduler.remove_job("cyclic")
    elif release == "remove_all_jobs":
        started_scheduler.remove_all_jobs()
    elif release == "replace":
        started_scheduler.add_job(noop, "interval", seconds=60, id="cyclic", replace_existing=True)
    else:
        started_scheduler.remove_jobstore("default")
    assert gc.is_tracked(job)
    del job
    gc.collect()
    assert owner() is None


def test_cycles_through_a_freed_store_are_collected():
    store = MemoryJobStore()
    from apscheduler.job import Job

    owner = _Owner()
    job = Job(SimpleNamespace(timezone=timezone.utc), id="cyclic", func=noop, trigger=IntervalTrigger(hours=1, start_date=EPOCH),
              kwargs={"owner": owner},
              args=(), executor="default", misfire_grace_time=1, coalesce=True,
              max_instances=1, name="cyclic", next_run_time=EPOCH)
    owner.job = job
    store.add_job(job)
    assert not gc.is_tracked(job)
    del store
    assert gc.is_tracked(job)
    owner = weakref.ref(owner)
    del job
    gc.collect()
    assert owner() is None


def test_updating_a_job_with_itself_keeps_it_hidden(started_scheduler):
    job = started_scheduler.add_job(noop, "interval", seconds=60)
    started_scheduler.modify_job(job.id, name="renamed")
    assert not gc.is_tracked(job)


def test_cycles_through_finished_jobs_are_collected():
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    done = threading.Event()
    scheduler.add_listener(lambda event: done.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        # Runs once: its next run would come after its end date.
        start = datetime.now(timezone.utc) + timedelta(seconds=0.3)
        owner, job = _job_in_a_cycle(scheduler, trigger="interval", seconds=60, start_date=start,
                                     end_date=start + timedelta(seconds=1))
        assert not gc.is_tracked(job)
        assert done.wait(10)
        deadline = time.monotonic() + 10
        while scheduler.get_jobs() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not scheduler.get_jobs()
        assert gc.is_tracked(job)
        del job
        # The scheduler's thread may still be finishing the pass that submitted the
        # run (its list of runs holds the job) when the run's event arrives.
        deadline = time.monotonic() + 10
        while True:
            gc.collect()
            if owner() is None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert owner() is None
    finally:
        scheduler.shutdown()
