"""
Jobs as the persistent stores keep them: the dictionary of ``Job.__getstate__()``,
pickled. The layout is APScheduler 3.x's, so stores written by either package can be
read by the other.
"""

import pickle

from apscheduler.job import Job
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime


def dump_job(job, protocol):
    """The bytes a store keeps for ``job``; raises ``ValueError`` for a job whose
    callable has no textual reference (a lambda, a closure)."""
    return pickle.dumps(job.__getstate__(), protocol)


def restore_job(store, state):
    """
    A ``Job`` rebuilt from its ``__getstate__()`` dictionary, attached to the store's
    scheduler and alias. Raises whatever ``__setstate__`` raises, for instance when
    the callable can no longer be imported.
    """
    # Job.__new__ plus __setstate__, as APScheduler does: a Job subclass's or a
    # plug-in's __init__ is never run for a restored job.
    job = Job.__new__(Job)
    job.__setstate__(state)
    job._scheduler = store._scheduler
    job._jobstore_alias = store._alias
    return job


def log_unrestorable(store, job_id):
    """Log the exception being handled as the reason ``job_id`` is dropped."""
    store._logger.exception('Unable to restore job "%s" -- removing it', job_id)


# The stores that read every record to answer a query (ZooKeeper, etcd) keep each job
# as a record with its "next_run_time" (a UTC timestamp, None when paused) and the
# restored "job", in run time order.


def due_jobs_of(records, now):
    """The jobs of ``records`` due at ``now``, in the records' order."""
    timestamp = datetime_to_utc_timestamp(now)
    return [
        record["job"]
        for record in records
        if record["next_run_time"] is not None and record["next_run_time"] <= timestamp
    ]


def next_run_time_of(records):
    """The earliest next run time of ``records`` (``None`` if all are paused)."""
    run_times = [
        record["next_run_time"]
        for record in records
        if record["next_run_time"] is not None
    ]
    return utc_timestamp_to_datetime(min(run_times)) if run_times else None
