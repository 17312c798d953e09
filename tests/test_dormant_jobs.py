"""The memory store keeps jobs nothing else holds in a compact form, and makes them
objects again when they are read. Nothing about a job may change on the way."""

import gc
import pickle
import threading
import time
import weakref
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

HELSINKI = ZoneInfo("Europe/Helsinki")


def noop(*args, **kwargs):
    pass


def other(*args, **kwargs):
    pass


@pytest.fixture
def scheduler():
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def _store(scheduler):
    return scheduler._jobstores["default"]


def _settled(scheduler):
    """The store after looking at the jobs it may put to sleep, as its next change does."""
    store = _store(scheduler)
    store._settle()
    return store


def _attributes(job):
    trigger = job.trigger
    trigger_attributes = {
        name: getattr(trigger, name)
        for name in ("timezone", "start_date", "end_date", "interval", "interval_length", "jitter")
        if hasattr(trigger, name)
    }
    return {
        "id": job.id,
        "name": job.name,
        "func": job.func,
        "func_ref": job.func_ref,
        "args": job.args,
        "kwargs": job.kwargs,
        "executor": job.executor,
        "misfire_grace_time": job.misfire_grace_time,
        "coalesce": job.coalesce,
        "max_instances": job.max_instances,
        "next_run_time": job.next_run_time,
        "next_run_time_zone": getattr(job.next_run_time, "tzinfo", None),
        "next_run_time_fold": getattr(job.next_run_time, "fold", None),
        "trigger_type": type(trigger),
        "trigger": trigger_attributes,
        "trigger_start_zone": getattr(trigger_attributes.get("start_date"), "tzinfo", None),
        "str": str(job),
        "repr": repr(job),
        "state": _state(job),
        "scheduler": job._scheduler,
        "jobstore_alias": job._jobstore_alias,
    }


def _state(job):
    """The job's pickled state, with its trigger's state in place of the trigger (the
    store packs only a trigger the job alone holds)."""
    state = job.__getstate__()
    state["trigger"] = (type(job.trigger), job.trigger.__getstate__())
    return state


def _put_to_sleep(scheduler):
    """Has the store put the jobs nothing else holds to sleep."""
    store = _settled(scheduler)
    assert store._dormant_count() >= 1


def test_a_job_nothing_holds_sleeps_and_wakes_unchanged(scheduler):
    job = scheduler.add_job(noop, "interval", minutes=5, args=(1, "two"), kwargs={"three": 3}, id="a",
                            name="named", misfire_grace_time=30, coalesce=False, max_instances=4)
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    woken = scheduler.get_job("a")
    assert _attributes(woken) == before
    assert _store(scheduler)._dormant_count() == 0
    # The woken object is the stored one while it is held.
    assert scheduler.get_job("a") is woken
    assert woken.next_run_time.tzinfo is before["next_run_time_zone"]


def test_every_way_of_reading_wakes_the_job(scheduler):
    job = scheduler.add_job(noop, "interval", minutes=5, id="a")
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    store = _store(scheduler)
    assert store.get_next_run_time() == before["next_run_time"]
    assert store._dormant_count() == 1
    assert [_attributes(job) for job in scheduler.get_jobs()] == [before]
    _settled(scheduler)
    assert [_attributes(job) for job in store.get_due_jobs(before["next_run_time"])] == [before]
    _settled(scheduler)
    assert _attributes(store.lookup_job("a")) == before


def test_held_and_weakly_referenced_jobs_stay_objects(scheduler):
    held = scheduler.add_job(noop, "interval", minutes=5)
    watched = weakref.ref(scheduler.add_job(noop, "interval", minutes=5, id="watched"))
    store = _settled(scheduler)
    assert store._dormant_count() == 0
    assert scheduler.get_job(held.id) is held
    assert scheduler.get_job("watched") is watched()


def test_a_job_due_within_a_second_stays_an_object(scheduler):
    # It would be woken again right away, and again after each of its runs.
    soon = datetime.now(timezone.utc) + timedelta(seconds=0.5)
    scheduler.add_job(noop, "interval", minutes=5, start_date=soon)
    assert _settled(scheduler)._dormant_count() == 0


def test_a_job_that_runs_once_sleeps_however_soon_it_is_due(scheduler):
    soon = datetime.now(timezone.utc) + timedelta(seconds=0.5)
    job = scheduler.add_job(noop, "date", run_date=soon, id="a")
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    assert _attributes(scheduler.get_job("a")) == before


def test_changes_to_a_woken_job_survive_its_next_sleep(scheduler):
    job = scheduler.add_job(noop, "interval", minutes=5, id="a")
    del job
    _put_to_sleep(scheduler)
    woken = scheduler.get_job("a")
    woken.kwargs["added"] = 1
    del woken
    assert _settled(scheduler)._dormant_count() == 1
    assert scheduler.get_job("a").kwargs == {"added": 1}


def test_a_trigger_held_elsewhere_stays_the_same_object(scheduler):
    trigger = IntervalTrigger(minutes=5, timezone=HELSINKI)
    job = scheduler.add_job(noop, trigger, id="a")
    del job
    _put_to_sleep(scheduler)
    assert scheduler.get_job("a").trigger is trigger


def test_paused_jobs_sleep_and_wake_paused(scheduler):
    job = scheduler.add_job(noop, "interval", minutes=5, id="a", next_run_time=None)
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    assert before["next_run_time"] is None
    assert _attributes(scheduler.get_job("a")) == before


def test_the_second_of_a_repeated_wall_clock_time_keeps_its_fold(scheduler):
    # 03:30 happens twice in Helsinki on 2030-10-27; the second one has fold=1.
    repeated = datetime(2030, 10, 27, 3, 30, tzinfo=HELSINKI, fold=1)
    job = scheduler.add_job(noop, "date", run_date=repeated, id="a")
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    woken = scheduler.get_job("a")
    assert woken.next_run_time.fold == 1
    assert woken.next_run_time.utcoffset() == repeated.utcoffset()
    assert _attributes(woken) == before


def test_naive_and_odd_datetimes_survive(scheduler):
    start = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    job = scheduler.add_job(noop, "interval", seconds=1, start_date=start, id="a")
    before = _attributes(job)
    del job
    _put_to_sleep(scheduler)
    assert _attributes(scheduler.get_job("a")) == before


def test_jobs_alike_and_unlike_each_wake_with_their_own_attributes(scheduler):
    made = []
    shared_kwargs = {"shared": True}
    for index in range(60):
        options = {
            "func": (noop, other)[index % 2],
            "kwargs": shared_kwargs if index % 3 == 0 else {"index": index},
            "args": (index,) if index % 4 == 0 else (),
            "misfire_grace_time": (1, 30, None)[index % 3],
            "executor": "default",
        }
        if index % 5 == 4:
            trigger = CronTrigger(minute="*/7", timezone=HELSINKI)
        else:
            trigger = IntervalTrigger(seconds=(60, 60, 120)[index % 3], timezone=(timezone.utc, HELSINKI)[index % 2],
                                      jitter=(None, 5)[index % 7 == 6])
        made.append(_attributes(scheduler.add_job(trigger=trigger, id=f"job{index:02}", **options)))
    store = _settled(scheduler)
    assert store._dormant_count() == 60
    woken = {job.id: _attributes(job) for job in scheduler.get_jobs()}
    assert [woken[attributes["id"]] for attributes in made] == made


def test_sleeping_jobs_are_changed_and_removed_as_any_other(scheduler):
    for name in "abc":
        scheduler.add_job(noop, "interval", minutes=5, id=name)
    store = _settled(scheduler)
    assert store._dormant_count() == 3
    scheduler.modify_job("a", name="renamed")
    scheduler.remove_job("b")
    assert scheduler.get_job("a").name == "renamed"
    assert scheduler.get_job("b") is None
    assert scheduler.get_job("c").id == "c"
    scheduler.remove_all_jobs()
    assert scheduler.get_jobs() == []
    assert store._dormant_count() == 0


def test_a_woken_job_pickles_as_before(scheduler):
    # Byte for byte: the first run time is the trigger's start date, one object.
    job = scheduler.add_job(noop, "interval", minutes=5, kwargs={"x": [1, 2]}, id="a")
    state = pickle.dumps(job)
    del job
    _put_to_sleep(scheduler)
    assert pickle.dumps(scheduler.get_job("a")) == state


def test_job_subclasses_stay_objects(scheduler):
    class MyJob(Job):
        __slots__ = ()

    job = MyJob(scheduler, func=noop, trigger=IntervalTrigger(minutes=5), executor="default", args=(), kwargs={},
                id="mine", name="mine", misfire_grace_time=1, coalesce=True, max_instances=1,
                next_run_time=datetime.now(timezone.utc) + timedelta(minutes=5))
    job._jobstore_alias = "default"
    _store(scheduler).add_job(job)
    del job
    store = _settled(scheduler)
    assert store._dormant_count() == 0
    assert type(scheduler.get_job("mine")) is MyJob


def test_sleeping_jobs_run_when_due():
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    ran = []
    done = threading.Event()

    def record(index, *, tag):
        ran.append((index, tag))
        if len(ran) == 6:
            done.set()

    scheduler.add_listener(lambda event: None, EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        # More than a second ahead: at rest when they are added.
        start = datetime.now(timezone.utc) + timedelta(seconds=1.5)
        for index in range(3):
            scheduler.add_job(record, "interval", seconds=2, start_date=start, args=(index,),
                              kwargs={"tag": f"t{index}"}, id=f"job{index}")
        store = _settled(scheduler)
        assert store._dormant_count() == 3
        assert done.wait(15)
        assert sorted(ran) == sorted([(index, f"t{index}") for index in range(3)] * 2)
        next_runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        assert all(run > start + timedelta(seconds=3) for run in next_runs.values())
    finally:
        scheduler.shutdown()


def test_jobs_added_before_start_sleep_over_the_passes_after_it():
    scheduler = BackgroundScheduler(timezone=timezone.utc)
    for index in range(20):
        scheduler.add_job(noop, "interval", minutes=5, id=f"job{index}")
    scheduler.start()
    try:
        store = _store(scheduler)
        deadline = time.monotonic() + 10
        while store._dormant_count() < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store._dormant_count() == 20  # by the first pass
        assert sorted(job.id for job in scheduler.get_jobs()) == sorted(f"job{index}" for index in range(20))
    finally:
        scheduler.shutdown()


def test_jobs_woken_by_a_read_go_back_to_sleep(scheduler):
    for index in range(20):
        scheduler.add_job(noop, "interval", minutes=5, id=f"job{index}")
    store = _settled(scheduler)
    assert store._dormant_count() == 20
    assert len(scheduler.get_jobs()) == 20
    assert store._dormant_count() == 0
    gc.collect()
    assert _settled(scheduler)._dormant_count() == 20


def test_a_store_freed_with_sleeping_jobs_lets_their_objects_go():
    class Tracked:
        pass

    scheduler = BackgroundScheduler(timezone=timezone.utc)
    scheduler.start(paused=True)
    argument = Tracked()
    scheduler.add_job(noop, "interval", minutes=5, args=(argument,))
    _settled(scheduler)
    argument = weakref.ref(argument)
    scheduler.shutdown(wait=False)
    scheduler.remove_jobstore("default")
    gc.collect()
    assert argument() is None
