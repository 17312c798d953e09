"""
Callbacks for "a run of this job has ended in this process".

A job store shared by several processes counts each job's running instances across
all of them (so that ``max_instances`` holds there too). It learns that a run has
ended here from the executor: every executor releases the job's instance when a run
returns, raises or is given up (``BaseExecutor._release_instance``, or its native
equivalent), and that release calls :func:`released`.

The registry is empty unless such a store is in use; the executors check that first,
so the common case costs one dictionary truth test per run.
"""

import threading
from collections import deque

#: job ID -> callbacks of the runs of that job in flight, oldest first
watchers = {}
_lock = threading.Lock()


def watch(job_id, callback):
    """Call ``callback()`` once, when an instance of ``job_id`` is next released."""
    with _lock:
        watchers.setdefault(job_id, deque()).append(callback)


def released(job_id):
    """An instance of ``job_id`` has ended: call the oldest callback waiting for it."""
    with _lock:
        pending = watchers.get(job_id)
        if not pending:
            return
        callback = pending.popleft()
        if not pending:
            del watchers[job_id]
    # Outside the lock: the callback may take its own locks.
    callback()

