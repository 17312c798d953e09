//! The native part of `apscheduler.executors.pool.ThreadPoolExecutor`: its job queue
//! (`ThreadPool`) and the loop its worker threads run (`ThreadPoolWorker.run`).
//!
//! The Python side starts each worker as a `threading.Thread` whose target is
//! `ThreadPoolWorker.run`, so the thread has the name and daemon flag users expect and
//! keeps its Python thread state for its whole life; attaching a plain Rust thread to
//! Python for every job would cost a thread state per call (`PERF-NOTES.md`). The loop
//! waits for work with the GIL released and takes it only to run a job and report.

use std::num::NonZeroUsize;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::exceptions::PyException;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule, PyString, PyTuple};

use super::dict_lookups;
use super::report::{acquire_without_convoy, plain_object, release_lock, with_lock_without_convoy, PlainObject, Reporter};
use super::run::{build_events, run_parts, NativeRun, RunEvent};
use super::slots::{job_attr, JobSlot};
use crate::executor::{Closed, Submitted, Worker, WorkerPool};

/// One submitted job, whose outcome a worker reports to `executor` for `job`, as the
/// reference's future callback does.
// Differs from APScheduler: the report always comes from the worker. The reference's
// comes from the submitting thread when the job ends before the callback is attached.
struct WorkItem {
    executor: Py<PyAny>,
    job: Py<PyAny>,
    work: Work,
}

enum Work {
    /// `func(*args)`: `run_job` or a replacement of it, returning the events.
    Call { func: Py<PyAny>, args: Py<PyTuple> },
    /// What the library's own `run_job` does, natively.
    Run(NativeRun),
}

/// What running a work item returned: the events of `run_job` (or its replacement),
/// or those of the native run, some not built yet.
enum Outcome<'py> {
    Events(Bound<'py, PyAny>),
    Native { jobstore_alias: Bound<'py, PyAny>, events: Vec<RunEvent<'py>> },
}

impl WorkItem {
    fn call<'py>(&self, py: Python<'py>) -> PyResult<Outcome<'py>> {
        match &self.work {
            Work::Call { func, args } => Ok(Outcome::Events(func.bind(py).call1(args.bind(py))?)),
            Work::Run(run) => Ok(Outcome::Native {
                jobstore_alias: run.jobstore_alias.bind(py).clone(),
                events: run.run(py, self.job.bind(py))?,
            }),
        }
    }

    fn report<'py>(&self, py: Python<'py>, outcome: PyResult<Outcome<'py>>) {
        let job = self.job.bind(py);
        let executor = self.executor.bind(py);
        let reported = match outcome {
            Ok(Outcome::Events(events)) => super::report::report_success(executor, job, events),
            Ok(Outcome::Native { jobstore_alias, events }) => self.report_native(py, &jobstore_alias, events),
            Err(error) => report_error(executor, job, error),
        };
        if let Err(error) = reported {
            log_callback_error(job, error);
        }
    }

    /// `_run_job_success(job.id, events)` for a native run. When no listener wants
    /// them (and the report methods are the library's), the events of runs that
    /// returned would reach nobody, and are not built.
    fn report_native<'py>(&self, py: Python<'py>, jobstore_alias: &Bound<'py, PyAny>, events: Vec<RunEvent<'py>>) -> PyResult<()> {
        let job_id = job_attr(self.job.bind(py), JobSlot::Id)?;
        let mut reporter = Reporter::new(self.executor.bind(py))?;
        let only_executed = events.iter().all(|event| matches!(event, RunEvent::Executed { .. }));
        let events = if only_executed && reporter.executed_unheard()? {
            PyList::empty(py)
        } else {
            build_events(py, &job_id, jobstore_alias, events)?
        };
        reporter.report_success(&job_id, events.into_any())
    }
}

fn report_error<'py>(executor: &Bound<'py, PyAny>, job: &Bound<'py, PyAny>, error: PyErr) -> PyResult<()> {
    let py = executor.py();
    let traceback = error.traceback(py);
    let exception = error.into_value(py).into_bound(py);
    let job_id = job_attr(job, JobSlot::Id)?;
    // The reference's callback tests `if exc:`; an exception object that is false goes
    // down the success branch, where reading the result raises it again.
    if !exception.is_truthy()? {
        return Err(PyErr::from_value(exception.into_any()));
    }
    executor.call_method1(intern!(py, "_run_job_error"), (job_id, exception, traceback))?;
    Ok(())
}

/// An exception from `_run_job_success` / `_run_job_error` (or from reading `job.id`)
/// goes where concurrent.futures sends an exception raised by a future's callback: to
/// the `concurrent.futures` logger. The worker goes on with the next job.
// Differs from APScheduler: the message names the job, as there is no future to name,
// and a BaseException (`SystemExit` from a listener) is logged too instead of ending
// the worker thread.
fn log_callback_error(job: &Bound<'_, PyAny>, error: PyErr) {
    let py = job.py();
    let exception = error.value(py).clone();
    let logged = (|| -> PyResult<()> {
        let logger = py.import(intern!(py, "logging"))?.call_method1(intern!(py, "getLogger"), ("concurrent.futures",))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item(intern!(py, "exc_info"), &exception)?;
        logger.call_method(intern!(py, "error"), ("exception calling callback for %r", job), Some(&kwargs))?;
        Ok(())
    })();
    if let Err(logging_error) = logged {
        logging_error.write_unraisable(py, Some(job));
    }
}

/// How many runs `submit_runs` submits under one hold of the executor's lock.
const SUBMIT_CHUNK: usize = 32;

/// An executor's `_instances`: the number of running instances by job id. For the
/// library's `defaultdict(int)`, a missing id is read as 0 without the call to `int()`
/// and the insertion of a 0 that `__missing__` makes, which the count then replaces.
struct Instances<'py> {
    counts: Bound<'py, PyAny>,
    plain: Option<Bound<'py, PyDict>>,
}

impl<'py> Instances<'py> {
    fn of(counts: Bound<'py, PyAny>, names: &SubmissionNames) -> PyResult<Instances<'py>> {
        let py = counts.py();
        let plain = counts.get_type().is(names.defaultdict.bind(py))
            && counts.getattr(intern!(py, "default_factory"))?.is(names.int.bind(py));
        let plain = if plain { counts.cast::<PyDict>().ok().cloned() } else { None };
        Ok(Instances { counts, plain })
    }

    /// `counts[job_id]`.
    fn count(&self, job_id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match &self.plain {
            Some(counts) => Ok(match super::dict_lookups::plain_get(counts, job_id)? {
                Some(count) => count,
                None => 0i32.into_pyobject(counts.py())?.into_any(),
            }),
            None => self.counts.get_item(job_id),
        }
    }

    /// `counts[job_id] = count`.
    fn set(&self, job_id: &Bound<'py, PyAny>, count: Bound<'py, PyAny>) -> PyResult<()> {
        self.counts.set_item(job_id, count)
    }
}

/// The Python objects `submit_runs` needs.
struct SubmissionNames {
    max_instances_error: Py<PyAny>,
    broken_pool: Py<PyAny>,
    threadpool_module: Py<PyAny>,
    /// `collections.defaultdict` and `int`: an executor's `_instances` as the library
    /// makes it.
    defaultdict: Py<PyAny>,
    int: Py<PyAny>,
}

fn submission_names(py: Python<'_>) -> PyResult<&SubmissionNames> {
    static NAMES: PyOnceLock<SubmissionNames> = PyOnceLock::new();
    NAMES.get_or_try_init(py, || {
        Ok(SubmissionNames {
            max_instances_error: py.import("apscheduler.executors.base")?.getattr("MaxInstancesReachedError")?.unbind(),
            broken_pool: py.import("concurrent.futures.thread")?.getattr("BrokenThreadPool")?.unbind(),
            threadpool_module: py.import("apscheduler.executors._threadpool")?.unbind().into_any(),
            defaultdict: py.import("collections")?.getattr("defaultdict")?.unbind(),
            int: py.import("builtins")?.getattr("int")?.unbind(),
        })
    })
}

/// The queue of a `ThreadPoolExecutor`, and the count of its workers.
#[pyclass(frozen, module = "apscheduler._core", name = "ThreadPool")]
pub struct PyThreadPool {
    // Fork safety: the pool's own lock (around its sender) is only taken with the GIL
    // held and never across Python code, so it is free at a fork (`os.fork()` runs with
    // the GIL). The channel is not: workers wait on it with the GIL released, so a
    // forked child replaces the whole queue and abandons this one (`abandon`).
    pool: WorkerPool<WorkItem>,
}

/// The state `submit()` checks before queueing: the pool's `_broken` and `_shutdown`,
/// read from its `__dict__` when its class keeps them there (see
/// `report::PlainObject`), and the module's `_exiting`, read from the module's
/// namespace unless the module is of a class of its own.
struct PoolFlags<'py> {
    py: Python<'py>,
    pool: Option<PlainObject<'py>>,
}

impl<'py> PoolFlags<'py> {
    fn of(pool: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = pool.py();
        Ok(PoolFlags { py, pool: plain_object(pool, &[], &[intern!(py, "_broken"), intern!(py, "_shutdown")])? })
    }

    /// `pool.<name>`, `name` one of the two above.
    fn get(&self, pool: &Bound<'py, PyAny>, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
        match &self.pool {
            Some(plain) => plain.get(name),
            None => pool.getattr(name),
        }
    }

    /// `_threadpool._exiting`.
    fn exiting(&self, names: &SubmissionNames) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let module = names.threadpool_module.bind(py);
        let name = intern!(py, "_exiting");
        if let Ok(module) = module.cast_exact::<PyModule>() {
            if let Some(value) = dict_lookups::get(&module.dict(), name.as_any())? {
                return Ok(value);
            }
        }
        module.getattr(name)
    }
}

/// `pool._start_worker(index)` for each worker a chunk asked for. A run whose
/// worker could not be started gets the error as its outcome, as the reference's
/// `submit()` raises it after queueing the job; the job stays queued for the next
/// worker, and keeps its count, which that run's report takes back. If something
/// other than an `Exception` (a `KeyboardInterrupt`) ends the starts, the slots of
/// the workers not started are given back with `not_started`, so that later
/// submissions start them.
fn start_workers<'py>(pool: &Bound<'py, PyAny>, starts: &[(usize, usize)], outcomes: &Bound<'py, PyList>, not_started: impl Fn()) -> PyResult<()> {
    let py = pool.py();
    for (position, &(place, index)) in starts.iter().enumerate() {
        match pool.call_method1(intern!(py, "_start_worker"), (index,)) {
            Ok(_) => {}
            Err(error) if error.is_instance_of::<PyException>(py) => {
                // A batch that ended early has no outcome there to replace.
                if place < outcomes.len() {
                    outcomes.set_item(place, error.into_value(py))?;
                }
            }
            Err(error) => {
                // `_start_worker` gave back the slot of the one it was starting.
                starts[position + 1..].iter().for_each(|_| not_started());
                return Err(error);
            }
        }
    }
    Ok(())
}

impl PyThreadPool {
    /// One job of `submit_runs`, with the executor's lock held.
    #[allow(clippy::too_many_arguments)]
    fn submit_counted<'py>(
        &self,
        py: Python<'py>,
        pool: &Bound<'py, PyAny>,
        executor: &Bound<'py, PyAny>,
        instances: &Instances<'py>,
        job: &Bound<'py, PyAny>,
        run_times: &Bound<'py, PyAny>,
        logger: &Bound<'py, PyAny>,
        names: &SubmissionNames,
        flags: &PoolFlags<'py>,
        deferred_starts: Option<&mut Vec<usize>>,
    ) -> PyResult<()> {
        let job_id = job_attr(job, JobSlot::Id)?;
        let count = instances.count(&job_id)?;
        if count.ge(job_attr(job, JobSlot::MaxInstances)?)? {
            return Err(PyErr::from_value(names.max_instances_error.bind(py).call1((job,))?));
        }
        let queue_run = || -> PyResult<Option<usize>> {
            let broken = flags.get(pool, intern!(py, "_broken"))?;
            if broken.is_truthy()? {
                return Err(PyErr::from_value(names.broken_pool.bind(py).call1((broken,))?));
            }
            if flags.get(pool, intern!(py, "_shutdown"))?.is_truthy()? {
                return Err(PyRuntimeError::new_err("cannot schedule new futures after shutdown"));
            }
            if flags.exiting(names)?.is_truthy()? {
                return Err(PyRuntimeError::new_err("cannot schedule new futures after interpreter shutdown"));
            }
            let run = NativeRun {
                jobstore_alias: job_attr(job, JobSlot::JobstoreAlias)?.unbind(),
                run_times: run_times.clone().unbind(),
                logger: logger.clone().unbind(),
            };
            self.queue(WorkItem { executor: executor.clone().unbind(), job: job.clone().unbind(), work: Work::Run(run) })
        };
        if let Some(deferred_starts) = deferred_starts {
            // The caller holds the pool's lock, and starts the worker once the
            // chunk is queued (see `submit_runs`).
            deferred_starts.extend(queue_run()?);
        } else if self.pool.started() >= self.pool.max_workers() {
            // Every worker runs, so queueing starts none, and the pool's lock is not
            // needed. The state is read and the run queued without letting go of the
            // GIL, so this happens wholly before or wholly after any step of
            // `shutdown()` or `_initializer_failed()`, which change that state one
            // step at a time with the GIL held: a run queued before them is run
            // before `shutdown(wait=True)` returns, or drained and reported as broken,
            // as when it is queued under the lock.
            if let Some(index) = queue_run()? {
                // A worker that failed to start gave its slot back meanwhile.
                with_lock_without_convoy(&pool.getattr(intern!(py, "_shutdown_lock"))?, || pool.call_method1(intern!(py, "_start_worker"), (index,)).map(drop))?;
            }
        } else {
            with_lock_without_convoy(&pool.getattr(intern!(py, "_shutdown_lock"))?, || match queue_run()? {
                Some(index) => pool.call_method1(intern!(py, "_start_worker"), (index,)).map(drop),
                None => Ok(()),
            })?;
        }
        instances.set(&job_id, count.add(1)?)
    }

    fn queue(&self, item: WorkItem) -> PyResult<Option<usize>> {
        match self.pool.submit(item) {
            Ok(Submitted::Queued) => Ok(None),
            Ok(Submitted::StartWorker(index)) => Ok(Some(index)),
            Err(Closed(item)) => {
                drop(item);
                Err(PyRuntimeError::new_err("cannot schedule new futures after shutdown"))
            }
        }
    }
}

#[pymethods]
impl PyThreadPool {
    #[new]
    fn new(max_workers: usize) -> PyResult<Self> {
        let max_workers = NonZeroUsize::new(max_workers).ok_or_else(|| PyValueError::new_err("max_workers must be greater than 0"))?;
        Ok(PyThreadPool { pool: WorkerPool::new(max_workers) })
    }

    #[getter]
    fn max_workers(&self) -> usize {
        self.pool.max_workers()
    }

    /// Queues `func(*args)`, whose outcome is reported to `executor._run_job_success` or
    /// `executor._run_job_error` for `job`. Returns the index of a worker the caller must
    /// start now (as concurrent.futures would), or `None`.
    fn submit(&self, executor: Py<PyAny>, func: Py<PyAny>, job: Py<PyAny>, args: Py<PyTuple>) -> PyResult<Option<usize>> {
        self.queue(WorkItem { executor, job, work: Work::Call { func, args } })
    }

    /// Queues what `run_job(job, jobstore_alias, run_times, logger.name)` does, run
    /// natively by the worker; otherwise as `submit`.
    fn submit_run(
        &self,
        executor: Py<PyAny>,
        job: Py<PyAny>,
        jobstore_alias: Py<PyAny>,
        run_times: Py<PyAny>,
        logger: Py<PyAny>,
    ) -> PyResult<Option<usize>> {
        let run = NativeRun { jobstore_alias, run_times, logger };
        self.queue(WorkItem { executor, job, work: Work::Run(run) })
    }

    /// What `ThreadPoolExecutor._submit_batch` does when the worker runs `run_job`'s
    /// work natively: for each `(job, executor, run_times, jobstore_alias)` of `runs`,
    /// `executor.submit_job(job, run_times)` with its `max_instances` check and count
    /// under the executor's lock, and the submission under `pool`'s lock (`pool` is
    /// the Python `ThreadPoolExecutor` this queue belongs to). Returns, for each,
    /// `None` or the exception `submit_job` would have raised.
    fn submit_runs<'py>(
        &self,
        py: Python<'py>,
        pool: &Bound<'py, PyAny>,
        executor: &Bound<'py, PyAny>,
        runs: &Bound<'py, PyList>,
        logger: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let names = submission_names(py)?;
        // Read once; a failure to read them is every run's outcome, as submit_job
        // would fail for each.
        let (lock, instances) = match (executor.getattr(intern!(py, "_lock")), executor.getattr(intern!(py, "_instances"))) {
            (Ok(lock), Ok(instances)) => (lock, instances),
            (Err(error), _) | (_, Err(error)) => {
                let outcomes = PyList::empty(py);
                let error = error.into_value(py);
                for _ in runs.iter() {
                    outcomes.append(&error)?;
                }
                return Ok(outcomes);
            }
        };
        let instances = Instances::of(instances, names)?;
        let flags = PoolFlags::of(pool)?;
        let outcomes = PyList::empty(py);
        // The lock is taken once for up to SUBMIT_CHUNK runs: each acquire() and
        // release() is a Python call, which cost as much as the rest of a submission.
        // No Python code of the caller's runs in between, and the chunk is short, so a
        // worker reporting a run waits for the lock no longer than for the GIL.
        let mut pending = runs.iter();
        loop {
            // While workers are still to be started, the chunk is the rest of the
            // batch (see below): no started worker could report meanwhile anyway, as
            // this holds the GIL until the chunk is queued.
            let starting = self.pool.started() < self.pool.max_workers();
            let chunk: Vec<Bound<'py, PyAny>> = pending.by_ref().take(if starting { usize::MAX } else { SUBMIT_CHUNK }).collect();
            if chunk.is_empty() {
                break;
            }
            if let Err(error) = acquire_without_convoy(&lock) {
                // A lock that cannot be taken (an executor never started has none)
                // fails each run, as submit_job would.
                if !error.is_instance_of::<PyException>(py) {
                    return Err(error);
                }
                let error = error.into_value(py);
                for _ in &chunk {
                    outcomes.append(&error)?;
                }
                continue;
            }
            // Differs from APScheduler: while workers are still to be started, the
            // chunk is queued under the pool's lock and the workers it asks for are
            // started after it, still under that lock (so that shutdown() finds them
            // started), but after the executor's lock is let go. Starting a thread
            // waits for it to run, about 0.3 ms here: started one by one between
            // submissions, the ten workers of a pool delayed a burst's runs by 3 ms,
            // while those started after the whole burst is queued run its jobs
            // during the next one's start.
            let shutdown_lock = if starting {
                match pool.getattr(intern!(py, "_shutdown_lock")).and_then(|shutdown_lock| {
                    acquire_without_convoy(&shutdown_lock)?;
                    Ok(shutdown_lock)
                }) {
                    Ok(shutdown_lock) => Some(shutdown_lock),
                    Err(error) => {
                        release_lock(&lock)?;
                        return Err(error);
                    }
                }
            } else {
                None
            };
            // (the outcome's place, the worker to start)
            let mut starts: Vec<(usize, usize)> = Vec::new();
            let submitted = (|| -> PyResult<()> {
                for run in &chunk {
                    let (job, run_times) = run_parts(run)?;
                    let mut asked = Vec::new();
                    let deferred = shutdown_lock.is_some().then_some(&mut asked);
                    let submitted = self.submit_counted(py, pool, executor, &instances, &job, &run_times, logger, names, &flags, deferred);
                    // A worker asked for is started whatever happens next: its run is
                    // queued. Its place is that of the outcome appended below.
                    starts.extend(asked.into_iter().map(|index| (outcomes.len(), index)));
                    match submitted {
                        Ok(()) => outcomes.append(py.None())?,
                        // What submit_job raises is reported per job, as the Python
                        // loop does; anything else (KeyboardInterrupt) ends the batch.
                        Err(error) if error.is_instance_of::<PyException>(py) => outcomes.append(error.into_value(py))?,
                        Err(error) => return Err(error),
                    }
                }
                Ok(())
            })();
            let released = release_lock(&lock);
            let started = start_workers(pool, &starts, &outcomes, || self.pool.worker_not_started());
            if let Some(shutdown_lock) = &shutdown_lock {
                release_lock(shutdown_lock)?;
            }
            released?;
            submitted?;
            started?;
        }
        Ok(outcomes)
    }

    /// A handle whose `run` is the target of a new worker thread.
    fn worker(&self) -> PyThreadPoolWorker {
        PyThreadPoolWorker { worker: self.pool.worker() }
    }

    /// Called when the thread `submit` asked for could not be started.
    fn worker_not_started(&self) {
        self.pool.worker_not_started();
    }

    /// Refuses further jobs; the workers run the queued ones, then end. Returns `False`
    /// if it was already closed.
    fn close(&self) -> bool {
        self.pool.close()
    }

    #[getter]
    fn closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// Called in a forked child, whose copy of this queue belongs to the parent: the
    /// child's pool replaces it and must never use it again (see
    /// `WorkerPool::abandon`). A worker still running in the child, the one whose job
    /// forked, then ends once that job returns, without reporting it: the run is the
    /// parent's, and the parent reports it.
    fn abandon(&self) {
        self.pool.abandon();
    }

    /// Removes the jobs no worker has taken yet, as `(executor, job)` pairs.
    fn drain(&self) -> Vec<(Py<PyAny>, Py<PyAny>)> {
        self.pool.drain().into_iter().map(|item| (item.executor, item.job)).collect()
    }

    /// Jobs waiting for a worker.
    #[getter]
    fn queued(&self) -> usize {
        self.pool.queued()
    }

    /// Workers started so far.
    #[getter]
    fn started(&self) -> usize {
        self.pool.started()
    }
}

/// One worker's end of a `ThreadPool`. It does not keep the pool open, so workers end
/// when their executor is shut down or garbage-collected, as concurrent.futures'
/// workers do.
#[pyclass(frozen, module = "apscheduler._core", name = "ThreadPoolWorker")]
pub struct PyThreadPoolWorker {
    worker: Worker<WorkItem>,
}

#[pymethods]
impl PyThreadPoolWorker {
    /// Runs jobs until the pool is closed and empty. Nothing a job or a report raises
    /// ends the loop. In a forked child (the pool abandoned), the loop ends as soon as
    /// the job or report that forked returns.
    fn run(&self, py: Python<'_>) {
        // A queued job is taken without letting go of the GIL: releasing it between
        // jobs would hand it to another thread each time (and wake it), which costs
        // more than the job. The interpreter still switches threads at its usual
        // interval while a job runs.
        while !self.worker.abandoned() {
            let Some(item) = self.worker.try_next().or_else(|| py.detach(|| self.worker.next())) else {
                return;
            };
            let outcome = item.call(py);
            if self.worker.abandoned() {
                // The job forked and this is the child: the run and its report are the
                // parent's (the child's executor no longer counts it).
                return;
            }
            item.report(py, outcome);
            // The job's objects are released before the worker counts as idle, as
            // concurrent.futures does, and while attached.
            drop(item);
            self.worker.finished();
        }
    }
}
