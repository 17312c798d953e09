"""
Shared mode of ``RedisJobStore`` (see ``_shared`` for the design).

Beside the jobs hash and run times sorted set, whose layout stays APScheduler's, it
keeps, under the jobs key's name:

- ``<jobs_key>.schedulers``: a sorted set of live processes scored by lease end;
- ``<jobs_key>.running``: a sorted set of the runs going on, scored by lease end, and
  ``<jobs_key>.runs``, a hash of each run's scheduled time, process and job ID;
- ``<jobs_key>.changes``: the channel on which writes through the API are published.

Lease times come from the server (``TIME`` inside the scripts), never from a host.

Redis has no row locks to claim with, and needs none: a pass reads its due jobs,
works out their new state, and commits them in one Lua script that, job by job,
writes only if the job's run time is still the one the pass read. A process that dies
before its script ran has changed nothing, so its jobs stay due for the others.
"""

import threading
import uuid
from contextlib import contextmanager
from functools import partial

from apscheduler import _runwatch
from apscheduler.jobstores import _shared
from apscheduler.jobstores._pickled import dump_job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.util import datetime_to_utc_timestamp

_WAKEUP_SCAN = 256

# A run's record in the runs hash: "<scheduled time>\n<process>\n<job ID>" (the job
# ID last: it is the only part that may contain a newline).
_LUA_HELPERS = """
-- Each job's runs going on in live processes (see the SQL store's _running_counts).
local function live_run_counts(running, runs, schedulers, me, now)
    local counts = {}
    for _, key in ipairs(redis.call('ZRANGEBYSCORE', running, '(' .. now, '+inf')) do
        local info = redis.call('HGET', runs, key)
        if info then
            local member, job_id = string.match(info, '^[^\\n]*\\n([^\\n]*)\\n(.*)$')
            local lease_end = redis.call('ZSCORE', schedulers, member)
            if member == me or (lease_end and tonumber(lease_end) > now) then
                counts[job_id] = (counts[job_id] or 0) + 1
            end
        end
    end
    return counts
end
local function server_now()
    local t = redis.call('TIME')
    return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS: jobs, run_times, running, runs, schedulers
# ARGV: lease, member, then per job: id, score read, remove ("1"/"0"), new score
#       ("" when paused), new state, max_instances, run key
# Returns per job "run", "busy" or "lost".
_COMMIT_CLAIM = _LUA_HELPERS + """
local now = server_now()
local lease_until = now + tonumber(ARGV[1])
local counts = live_run_counts(KEYS[3], KEYS[4], KEYS[5], ARGV[2], now)
local results = {}
for i = 3, #ARGV, 7 do
    local id = ARGV[i]
    local score = redis.call('ZSCORE', KEYS[2], id)
    if (not score) or tonumber(score) ~= tonumber(ARGV[i + 1]) then
        table.insert(results, 'lost')
    else
        if ARGV[i + 2] == '1' then
            redis.call('HDEL', KEYS[1], id)
            redis.call('ZREM', KEYS[2], id)
        else
            redis.call('HSET', KEYS[1], id, ARGV[i + 4])
            if ARGV[i + 3] == '' then
                redis.call('ZREM', KEYS[2], id)
            else
                redis.call('ZADD', KEYS[2], ARGV[i + 3], id)
            end
        end
        if (counts[id] or 0) >= tonumber(ARGV[i + 5]) then
            table.insert(results, 'busy')
        else
            counts[id] = (counts[id] or 0) + 1
            redis.call('ZADD', KEYS[3], lease_until, ARGV[i + 6])
            redis.call('HSET', KEYS[4], ARGV[i + 6],
                ARGV[i + 1] .. '\\n' .. ARGV[2] .. '\\n' .. id)
            table.insert(results, 'run')
        end
    end
end
return results
"""

# KEYS: schedulers, running, runs, idle
# ARGV: member, lease, takes jobs ("1"/"0"), then this process's run keys
# Returns {live members, idle members, records of expired runs (deleted here)}.
# An idle member (paused or stopping) is alive, so its runs count, but takes no jobs.
_HEARTBEAT = _LUA_HELPERS + """
local now = server_now()
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if ARGV[3] == '1' then
    redis.call('ZREM', KEYS[4], ARGV[1])
else
    redis.call('ZADD', KEYS[4], now + lease, ARGV[1])
end
for i = 4, #ARGV do
    redis.call('ZADD', KEYS[2], 'XX', now + lease, ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - lease)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - lease)
local gone = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
    local info = redis.call('HGET', KEYS[3], key)
    redis.call('ZREM', KEYS[2], key)
    redis.call('HDEL', KEYS[3], key)
    if info then
        table.insert(gone, info)
    end
end
return {
    redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf'),
    redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. now, '+inf'),
    gone,
}
"""

# KEYS: schedulers, idle; returns {live members, idle members}.
_MEMBERS = _LUA_HELPERS + """
local now = server_now()
return {
    redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf'),
    redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf'),
}
"""

# KEYS: jobs, run_times; ARGV: id, state, score ("" when paused), channel, member
_ADD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
    return 0
end
if ARGV[3] ~= '' then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
"""

# KEYS: jobs, run_times
# ARGV: id, state, score ("" when paused), channel, member, score read ("" when
#       paused; only checked when given), check ("1"/"0")
# Returns "missing", "ok", or {"moved", current score or ""}.
_UPDATE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
    return 'missing'
end
if ARGV[7] == '1' then
    local current = redis.call('ZSCORE', KEYS[2], ARGV[1]) or ''
    local read = ARGV[6]
    if (current == '' or read == '') and current ~= read
        or current ~= '' and read ~= '' and tonumber(current) ~= tonumber(read) then
        return {'moved', current}
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then
    redis.call('ZREM', KEYS[2], ARGV[1])
else
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 'ok'
"""

# KEYS: jobs, run_times; ARGV: id, channel, member
_REMOVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
    return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""


def _score_arg(timestamp):
    return "" if timestamp is None else repr(timestamp)


class RedisSharing(_shared.SharingBase):
    def __init__(self, store, options):
        super().__init__(
            store,
            options.lease_seconds,
            options.poll_seconds or _shared.POLL_WITH_NOTIFICATIONS,
        )
        self._redis = store.redis
        prefix = store.jobs_key
        self._members_key = f"{prefix}.schedulers"
        self._idle_key = f"{prefix}.idle"
        self._running_key = f"{prefix}.running"
        self._runs_key = f"{prefix}.runs"
        self._channel = f"{prefix}.changes"
        self._commit_claim = self._redis.register_script(_COMMIT_CLAIM)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)
        self._members_now = self._redis.register_script(_MEMBERS)
        self._add = self._redis.register_script(_ADD)
        self._update = self._redis.register_script(_UPDATE)
        self._remove = self._redis.register_script(_REMOVE)
        self._my_runs = set()  # run keys whose lease this process renews
        self._my_runs_lock = threading.Lock()

    #
    # Lifecycle
    #

    def _leave(self):
        with self._redis.pipeline() as pipe:
            pipe.zrem(self._members_key, self.member)
            pipe.zrem(self._idle_key, self.member)
            pipe.execute()

    #
    # A pass's claim
    #

    @contextmanager
    def claim(self, now):
        timestamp = datetime_to_utc_timestamp(now)
        claim = _shared.PassClaim()
        members = self._read_members()
        due = self._redis.zrangebyscore(
            self._store.run_times_key, 0, timestamp, withscores=True
        )
        overdue = timestamp - self.lease
        scores = {}
        for raw_id, score in due:
            job_id = _text(raw_id)
            if score <= overdue or _shared.owner_of(job_id, members) == self.member:
                scores[job_id] = score
        if scores:
            states = self._redis.hmget(self._store.jobs_key, *scores)
            claim.jobs = self._store._reconstitute_jobs(
                [(job_id, state) for job_id, state in zip(scores, states) if state]
            )
        pending = []
        self._claiming = (threading.get_ident(), claim, scores, pending)
        try:
            yield claim
        finally:
            self._claiming = None
        if pending:
            self._commit(claim, pending)

    def claimed_write(self, job, remove):
        """Queue the advance (or removal) of a claimed job for the claim's commit."""
        _, claim, scores, pending = self._claiming
        read = scores.get(job.id)
        if read is None:
            claim.outcomes[job.id] = _shared.LOST
            raise JobLookupError(job.id)
        if remove:
            pending.append((job.id, read, "1", "", b"", job.max_instances))
        else:
            pending.append(
                (
                    job.id,
                    read,
                    "0",
                    _score_arg(datetime_to_utc_timestamp(job.next_run_time)),
                    dump_job(job, self._store.pickle_protocol),
                    job.max_instances,
                )
            )

    def _commit(self, claim, pending):
        args = [self.lease, self.member]
        keys = []
        for job_id, read, remove, score, state, max_instances in pending:
            key = uuid.uuid4().hex
            keys.append(key)
            args += [job_id, repr(read), remove, score, state, max_instances, key]
        results = self._commit_claim(
            keys=[
                self._store.jobs_key,
                self._store.run_times_key,
                self._running_key,
                self._runs_key,
                self._members_key,
            ],
            args=args,
        )
        for (job_id, *_), key, result in zip(pending, keys, results):
            outcome = _text(result)
            claim.outcomes[job_id] = outcome
            if outcome == _shared.RUN:
                claim.reserved.append((key, job_id))
                with self._my_runs_lock:
                    self._my_runs.add(key)
                _runwatch.watch(job_id, partial(self._keeper.run_ended, key))

    def _scheduled(self):
        return [
            (_text(raw_id), score)
            for raw_id, score in self._redis.zrange(
                self._store.run_times_key, 0, _WAKEUP_SCAN - 1, withscores=True
            )
        ]

    #
    # Writes through the API
    #

    def add_job(self, job):
        added = self._add(
            keys=[self._store.jobs_key, self._store.run_times_key],
            args=[
                job.id,
                dump_job(job, self._store.pickle_protocol),
                _score_arg(datetime_to_utc_timestamp(job.next_run_time)),
                self._channel,
                self.member,
            ],
        )
        if not added:
            raise ConflictingIdError(job.id)

    def update_job(self, job):
        """Writes ``job``, keeping a run time that some process's pass advanced since
        this process read it, if the caller left the time as read (see the SQL
        store's update_job)."""
        read = self._read_times.pop(job.id)
        next_run_time = datetime_to_utc_timestamp(job.next_run_time)
        check = read is not _shared.ReadTimes.MISSING and next_run_time == read
        while True:
            result = self._update(
                keys=[self._store.jobs_key, self._store.run_times_key],
                args=[
                    job.id,
                    dump_job(job, self._store.pickle_protocol),
                    _score_arg(next_run_time),
                    self._channel,
                    self.member,
                    _score_arg(read) if check else "",
                    "1" if check else "0",
                ],
            )
            if _text(result) == "missing":
                raise JobLookupError(job.id)
            if _text(result) == "ok":
                return
            current = _text(result[1])
            next_run_time = float(current) if current else None
            job.next_run_time = _shared.utc_datetime_like(next_run_time, job.next_run_time)
            check = False

    def remove_job(self, job_id):
        removed = self._remove(
            keys=[self._store.jobs_key, self._store.run_times_key],
            args=[job_id, self._channel, self.member],
        )
        if not removed:
            raise JobLookupError(job_id)

    def remove_all_jobs(self):
        with self._redis.pipeline() as pipe:
            pipe.delete(self._store.jobs_key)
            pipe.delete(self._store.run_times_key)
            pipe.publish(self._channel, self.member)
            pipe.execute()

    #
    # The lease keeper's side (its own thread)
    #

    def heartbeat(self):
        with self._my_runs_lock:
            mine = list(self._my_runs)
        active = "1" if _shared.is_running(self._store._scheduler) else "0"
        live, idle, gone = self._heartbeat(
            keys=[self._members_key, self._running_key, self._runs_key, self._idle_key],
            args=[self.member, self.lease, active, *mine],
        )
        self._set_members(live, idle)
        for info in gone:
            run_time, member, job_id = _text(info).split("\n", 2)
            _shared.log_orphaned_run(self._logger, job_id, member, float(run_time))
        return active == "1"

    def delete_run_records(self, keys):
        with self._my_runs_lock:
            self._my_runs.difference_update(keys)
        with self._redis.pipeline() as pipe:
            pipe.zrem(self._running_key, *keys)
            pipe.hdel(self._runs_key, *keys)
            pipe.execute()

    def _read_members(self):
        """The processes that take jobs now, on the server's clock."""
        live, idle = self._members_now(keys=[self._members_key, self._idle_key])
        return self._set_members(live, idle)

    def _set_members(self, live, idle):
        """Keeps (and returns) the members that take jobs: the live ones less the
        idle ones, and this one."""
        takers = {_text(member) for member in live} - {_text(member) for member in idle}
        self._members = frozenset(takers | {self.member})
        return self._members

    def _listen(self, stop, heard):
        """A subscription to the change channel (see ChangeListener)."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self._channel)
            # The server takes commands in the order they come: a change published
            # before it took the subscription was written before the look at the
            # store this asks for.
            heard(None)
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is not None:
                    heard([_text(message["data"])])
        finally:
            try:
                pubsub.close()
            except Exception:
                pass  # the connection is already gone: nothing left to close


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
