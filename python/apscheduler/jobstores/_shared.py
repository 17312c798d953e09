"""
What the job stores that several scheduler processes may share have in common.

In shared mode (``shared=True`` on ``SQLAlchemyJobStore`` and ``RedisJobStore``) any
number of processes, on one host or several, run a scheduler against the same store.
The scheduler's pass does not read and rewrite due jobs as it does for a store of its
own; it *claims* them (``_claim_due_jobs``):

- A claim advances a due job to its next run time (or removes it) only if the job is
  still where the pass read it: the write is conditional on the next run time read
  (compare-and-set), inside a row lock where the database has one. Of two processes
  that read the same due job, one writes and runs it; the other's write matches
  nothing and it drops the run. That is what makes each run happen once.
- Due jobs are spread over the live processes: each process claims the jobs that
  rendezvous hashing of the job ID over the live members assigns to it, and any job
  that has stayed due for longer than the lease (its owner died, or is paused).
- Each process keeps a membership entry alive with a heartbeat, stamped with the
  database server's clock; an entry whose lease ran out no longer counts.
- Each run that goes ahead is recorded with a lease, which the process renews while
  the run lasts and deletes when it ends (``apscheduler._runwatch``). Counting a job's
  live records gives its running instances across all processes, against
  ``max_instances``. A record whose lease ran out belongs to a process that died:
  it is logged and deleted, and that run is not run again.
- Writes made through the scheduler's API publish a notification (PostgreSQL
  ``NOTIFY``, Redis ``PUBLISH``) that wakes the other processes at once; each also
  looks at the store every ``poll_seconds`` in case one was missed.

This module holds the backend-neutral parts: the options, who owns which job, the
record of one pass's claims and the background thread that keeps the leases.
"""

import os
import queue
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from hashlib import blake2b

from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.jobstores.base import JobLookupError
from apscheduler.util import asbool, datetime_to_utc_timestamp, utc_timestamp_to_datetime

#: what became of a claimed job's run
RUN = "run"  # the job was advanced and its run reserved: submit it
BUSY = "busy"  # advanced, but max_instances runs are going on across the processes
LOST = "lost"  # another process had already taken it: drop the run

DEFAULT_LEASE_SECONDS = 10.0
#: how often a process that gets notifications looks at the store anyway
POLL_WITH_NOTIFICATIONS = 10.0


class SharingOptions:
    """The shared-mode options of a store, checked as the store's constructor gets
    them (from code, or as strings from a configuration file)."""

    def __init__(self, shared, lease_seconds, poll_seconds):
        self.enabled = asbool(shared)
        self.lease_seconds = float(lease_seconds)
        if not self.lease_seconds > 0:
            raise ValueError("lease_seconds must be a positive number")
        self.poll_seconds = None if poll_seconds is None else float(poll_seconds)
        if self.poll_seconds is not None and not self.poll_seconds > 0:
            raise ValueError("poll_seconds must be a positive number")


def new_member_id():
    """An ID for this process's scheduler, unique across hosts and restarts, that
    says where it runs (it appears in the logs of the other processes)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_of(job_id, members):
    """
    The member that should run ``job_id``: rendezvous hashing, so that every process
    with the same view of the members agrees, and a member joining or leaving moves
    only its own share of the jobs. BLAKE2b is stable across processes (unlike
    ``hash()``, which Python salts per process) and, unlike a CRC, mixes the member
    and the job ID well enough that each member gets an even share.
    """
    key = b"\0" + job_id.encode("utf-8", "surrogatepass")
    return max(members, key=lambda member: (_score(member, key), member))


def _score(member, key):
    return blake2b(member.encode() + key, digest_size=8).digest()


class PassClaim:
    """The due jobs a pass claimed from one shared store, and the outcome of each."""

    def __init__(self):
        #: the claimed jobs, by next run time
        self.jobs = []
        #: job ID -> RUN, BUSY or LOST, for each job the pass advanced or removed
        self.outcomes = {}
        #: (run record key, job ID) of each run reserved by this pass
        self.reserved = []
        #: set when a failure undid the claim's earlier writes: it must not commit
        self.failed = False


class ClaimConflict(Exception):
    """A claim's transaction failed as a whole (a deadlock between processes, say)
    and was rolled back: the pass may claim again at once."""


class InstancesBusyElsewhere:
    """
    Stands in for the executor of a run that the other processes' running instances
    hold back: submitting to it fails as a full executor does, so the scheduler logs
    and reports it as it does a run over ``max_instances`` in one process.
    """

    def submit_job(self, job, run_times):
        raise MaxInstancesReachedError(job)


INSTANCES_BUSY_ELSEWHERE = InstancesBusyElsewhere()


def wakeup_timestamp(scheduled, member, members, lease, latest):
    """
    When a process should next claim, from ``(job ID, next run time)`` pairs in run
    time order: its own jobs at their time, the others' a lease later (when it would
    take them over), and ``latest`` at the latest.
    """
    best = latest
    for job_id, next_run_time in scheduled:
        if next_run_time >= best:
            break
        if owner_of(job_id, members) != member:
            next_run_time += lease
        best = min(best, next_run_time)
    return best


class ReadTimes:
    """
    The next run time each job had when this process last read it through the API,
    so that writing the job back can tell "the caller kept the time it read" from "the
    caller set a time" (see the stores' update_job).
    """

    LIMIT = 10_000
    MISSING = object()

    def __init__(self):
        self._times = {}

    def remember(self, job_id, timestamp):
        if len(self._times) >= self.LIMIT:
            self._times.clear()
        self._times[job_id] = timestamp

    def pop(self, job_id):
        return self._times.pop(job_id, self.MISSING)


class SharingBase:
    """
    What the shared mode of every backend does the same way: membership and leases
    through a :class:`LeaseKeeper`, wake-ups through a :class:`ChangeListener`, the
    bookkeeping of a pass's claim, and the next wake-up time. A backend supplies
    ``claim()``, ``claimed_write()``, ``heartbeat()``, ``delete_run_records()``,
    ``_scheduled()`` (the first ``(job ID, next run time)`` pairs in time order),
    ``_leave()`` and, if ``_notifies``, ``_listen()``.
    """

    #: whether the backend tells the other processes about changes (see _listen)
    _notifies = True

    def __init__(self, store, lease_seconds, poll_seconds):
        self._store = store
        self.lease = lease_seconds
        self._poll = poll_seconds
        self.member = None
        self._members = frozenset()
        self._read_times = ReadTimes()
        # (thread ident, PassClaim, backend state...) while a pass claims
        self._claiming = None
        self._keeper = None
        self._listener = None
        self._logger = store._logger

    def start(self):
        self._logger = self._store._logger
        self._prepare()
        self.member = new_member_id()
        self._members = frozenset((self.member,))
        self._keeper = LeaseKeeper(self, self.lease, self._logger)
        self._keeper.start()
        if self._notifies:
            self._listener = ChangeListener(self)
            self._listener.start()

    def _prepare(self):
        """What the backend needs before the first heartbeat (tables, say)."""

    def shutdown(self):
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._keeper is not None:
            self._keeper.stop()
            self._keeper = None
        if self.member is not None:
            # Leaving at once lets the others take this process's jobs now rather
            # than when its lease runs out.
            try:
                self._leave()
            except Exception as exc:
                self._logger.warning("Could not leave the shared job store: %s", exc)

    @property
    def in_claim(self):
        claiming = self._claiming
        return claiming is not None and claiming[0] == threading.get_ident()

    def claimed_remove(self, job_id):
        claim = self._claiming[1]
        job = next((job for job in claim.jobs if job.id == job_id), None)
        if job is None:
            raise JobLookupError(job_id)
        self.claimed_write(job, remove=True)

    def remember_read(self, job):
        self._read_times.remember(job.id, datetime_to_utc_timestamp(job.next_run_time))

    def next_wakeup_time(self, now):
        """When this process next has something to claim: its own jobs' next run
        times, the others' plus the lease, and at the latest ``poll_seconds`` away."""
        best = wakeup_timestamp(
            self._scheduled(),
            self.member,
            self._members | {self.member},
            self.lease,
            datetime_to_utc_timestamp(now) + self._poll,
        )
        return utc_timestamp_to_datetime(best)


class ChangeListener:
    """
    A thread that waits for the other processes' notifications of changes; any
    batch of them wakes this process's scheduler. The backend's
    ``_listen(stop, heard)`` blocks until ``stop`` is set, calling ``heard(senders)``
    with the member IDs of each batch, and ``heard(None)`` once it listens; it raises
    when its connection fails (the thread waits a second and listens again) and
    returns early when it cannot listen at all.

    A change published before the subscription took effect (at start, or while the
    connection was being made again) is never delivered, so ``heard(None)`` wakes
    the scheduler for one look at the store: without it, such a change would wait
    for the next poll, ``poll_seconds`` later.
    """

    def __init__(self, sharing):
        self._sharing = sharing
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="APScheduler-shared-store-listener", daemon=True
        )

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            try:
                self._sharing._listen(self._stop, self._heard)
                return
            except Exception as exc:
                self._sharing._logger.warning("Listening for job changes failed: %s", exc)
                self._stop.wait(1)

    def _heard(self, senders):
        sharing = self._sharing
        if senders is None or any(sender != sharing.member for sender in senders):
            scheduler = sharing._store._scheduler
            if is_running(scheduler):
                scheduler.wakeup()


def utc_datetime_like(timestamp, like):
    """``timestamp`` as an aware datetime in the time zone of ``like`` (UTC if
    ``like`` is None)."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.astimezone(like.tzinfo) if like is not None else moment


class LeaseKeeper:
    """
    The background thread of a shared store. It renews this process's membership and
    the leases of its running records every quarter lease, deletes the records of
    runs that ended here (promptly, as ``max_instances`` waits on them), and clears
    what dead processes left behind. The backend supplies ``heartbeat()`` and
    ``delete_run_records(keys)``; a failure is logged and retried at the next beat.
    """

    def __init__(self, backend, lease_seconds, logger):
        self._backend = backend
        self._interval = max(lease_seconds / 4, 0.05)
        self._logger = logger
        self._ended = queue.Queue()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="APScheduler-shared-store", daemon=True
        )
        self._thread.start()

    def run_ended(self, key):
        """Called from the thread where a run ended; the record goes soon after."""
        self._ended.put(key)

    def stop(self):
        """Stops the thread, deleting the records of runs that ended meanwhile."""
        self._stop.set()
        self._ended.put(None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self._delete_ended(self._drain(None))

    def _run(self):
        next_beat = 0.0
        while not self._stop.is_set():
            try:
                first = self._ended.get(timeout=max(next_beat - time.monotonic(), 0))
            except queue.Empty:
                first = None
            self._delete_ended(self._drain(first))
            if time.monotonic() >= next_beat and not self._stop.is_set():
                interval = self._interval
                try:
                    if not self._backend.heartbeat():
                        # Not taking jobs yet (the scheduler is starting) or any more
                        # (paused): beat often, to be counted in as soon as it runs.
                        interval = min(interval, 0.1)
                except Exception as exc:
                    self._logger.warning("Could not renew this scheduler's lease: %s", exc)
                next_beat = time.monotonic() + interval

    def _drain(self, first):
        keys = [] if first is None else [first]
        while True:
            try:
                key = self._ended.get_nowait()
            except queue.Empty:
                return keys
            if key is not None:
                keys.append(key)

    def _delete_ended(self, keys):
        if not keys:
            return
        try:
            self._backend.delete_run_records(keys)
        except Exception as exc:
            # Left to expire with the lease, which is no longer renewed for them.
            self._logger.warning("Could not delete the records of ended runs: %s", exc)


def log_orphaned_run(logger, job_id, member, run_time):
    logger.warning(
        'Run of job "%s" scheduled at %s was claimed by scheduler %s, whose lease '
        "expired before it recorded the run's end (the run may not have taken "
        "place); it is not run again",
        job_id,
        utc_datetime_like(run_time, None) if run_time is not None else "an unknown time",
        member,
    )


def is_running(scheduler):
    """Whether ``scheduler`` processes jobs now (running, not paused)."""
    from apscheduler.schedulers.base import STATE_RUNNING

    return scheduler is not None and scheduler.state == STATE_RUNNING

