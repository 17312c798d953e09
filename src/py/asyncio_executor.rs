//! The native part of `apscheduler.executors.asyncio.AsyncIOExecutor`: a pass's
//! coroutine runs started as Tasks (`submit_coroutine_runs`), and the finished runs
//! reported a batch at a time (`CoroutineReports`).
//!
//! The reference gives each Task a done callback, which the loop calls in a callback
//! of its own (a `Handle`) after the Task has finished. Here a finished run queues
//! itself, and the first run queued schedules one callback that reports every run
//! queued by then, in the order they finished: each report is still made after its
//! Task has finished, outside any Task, with the same calls in the same order
//! (`_pending_futures.discard`, `_run_job_success`), at the place in the loop's queue
//! where the first run's done callback would have been.

// Differs from APScheduler: one loop callback reports the runs that finished by then,
// instead of one done callback per Task, and a Task's coroutine is a `CoroutineRun`
// (README, "Differences from APScheduler").

use parking_lot::Mutex;
use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use super::coroutine_run::PyCoroutineRun;
use super::report::{with_lock_without_convoy, Reporter};
use super::run::run_parts;

/// The finished runs of one executor on one loop, waiting for their report.
#[pyclass(frozen, module = "apscheduler._core", name = "CoroutineReports")]
pub struct PyCoroutineReports {
    // Only pushed to and taken from with the GIL held and no Python code running
    // meanwhile; the runs taken are released after the lock is let go.
    queue: Mutex<Vec<Py<PyCoroutineRun>>>,
    event_loop: Py<PyAny>,
}

impl PyCoroutineReports {
    /// Queues a finished run; the first of a batch schedules the report.
    pub fn push(slf: &Bound<'_, Self>, run: Py<PyCoroutineRun>) -> PyResult<()> {
        let py = slf.py();
        let first = {
            let mut queue = slf.get().queue.lock();
            queue.push(run);
            queue.len() == 1
        };
        if first {
            let scheduled = slf
                .getattr(intern!(py, "flush"))
                .and_then(|flush| slf.get().event_loop.bind(py).call_method1(intern!(py, "call_soon"), (flush,)));
            if let Err(error) = scheduled {
                // Nothing will report the run: it is taken back, for its Task to be
                // reported as a failed one.
                let taken = slf.get().queue.lock().pop();
                drop(taken);
                return Err(error);
            }
        }
        Ok(())
    }
}

/// `_release_failed_frames(events)` of the Python path.
fn release_failed_frames(events: &Bound<'_, PyList>) -> PyResult<()> {
    static RELEASE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = events.py();
    let release = RELEASE.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("apscheduler.executors.asyncio")?.getattr("_release_failed_frames")?.unbind())
    })?;
    release.bind(py).call1((events,))?;
    Ok(())
}

/// What `AsyncIOExecutor._job_done(job.id, task)` does for a run that returned, up to
/// `_run_job_success`: the Task leaves the pending set, and the tracebacks of failed
/// runs let their frames go. Returns the executor, the job id and the events.
fn take_report<'py>(run: &Bound<'py, PyCoroutineRun>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyList>)> {
    let py = run.py();
    let (executor, job, events, task) = run.borrow_mut().take_report(py);
    let failed = run.borrow().failed;
    let executor = executor.into_bound(py);
    let events = events.into_bound(py);
    if let Some(task) = task {
        executor.getattr(intern!(py, "_pending_futures"))?.call_method1(intern!(py, "discard"), (task,))?;
    }
    if failed {
        release_failed_frames(&events)?;
    }
    let job_id = job.bind(py).getattr(intern!(py, "id"))?;
    Ok((executor, job_id, events))
}

/// `_job_done` for one run.
fn report<'py>(run: &Bound<'py, PyCoroutineRun>, reporter: &mut Option<Reporter<'py>>) -> PyResult<()> {
    let (executor, job_id, events) = take_report(run)?;
    let reporter = reporter_for(reporter, &executor)?;
    reporter.report_success(&job_id, events.into_any())
}

/// The batch's reporter for `executor`: the one it has if it reports for that
/// executor, a new one otherwise.
fn reporter_for<'a, 'py>(reporter: &'a mut Option<Reporter<'py>>, executor: &Bound<'py, PyAny>) -> PyResult<&'a mut Reporter<'py>> {
    let current = match reporter.take() {
        Some(known) if known.executor().is(executor) => known,
        _ => Reporter::new(executor)?,
    };
    Ok(reporter.insert(current))
}

/// `_job_done` for a batch of one executor's runs when it is quiet (no listener, the
/// library's methods; see `Reporter::is_quiet`), with one lock round trip for the
/// batch. Returns `false`, having done nothing, if it is not.
fn report_quietly<'py>(event_loop: &Bound<'py, PyAny>, runs: &[Bound<'py, PyCoroutineRun>], reporter: &mut Option<Reporter<'py>>) -> PyResult<bool> {
    let Some(first) = runs.first() else { return Ok(true) };
    let py = first.py();
    let executor = first.borrow().executor.clone_ref(py).into_bound(py);
    if !runs.iter().all(|run| run.borrow().executor.bind(py).is(&executor)) || !reporter_for(reporter, &executor)?.is_quiet()? {
        return Ok(false);
    }
    let mut job_ids = Vec::with_capacity(runs.len());
    for run in runs {
        match take_report(run) {
            Ok((_, job_id, _)) => job_ids.push(job_id),
            Err(error) if error.is_instance_of::<PyException>(py) => to_exception_handler(event_loop, run, error)?,
            Err(error) => return Err(error),
        }
    }
    reporter_for(reporter, &executor)?.release_all(&job_ids)?;
    Ok(true)
}

/// Where the loop sends an exception raised by a callback: its exception handler.
fn to_exception_handler(event_loop: &Bound<'_, PyAny>, run: &Bound<'_, PyCoroutineRun>, error: PyErr) -> PyResult<()> {
    let py = event_loop.py();
    let context = PyDict::new(py);
    context.set_item(intern!(py, "message"), format!("Exception in callback {}", run.repr()?))?;
    context.set_item(intern!(py, "exception"), error.into_value(py))?;
    event_loop.call_method1(intern!(py, "call_exception_handler"), (context,))?;
    Ok(())
}

#[pymethods]
impl PyCoroutineReports {
    #[new]
    fn new(event_loop: Py<PyAny>) -> Self {
        PyCoroutineReports { queue: Mutex::new(Vec::new()), event_loop }
    }

    /// Reports every run queued so far. An exception from one report goes to the
    /// loop's exception handler, as one from a done callback does, and the others are
    /// still reported; a `BaseException` (`KeyboardInterrupt`) leaves the loop as it
    /// would from a done callback, the runs not yet reported being left for another
    /// callback.
    fn flush(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let runs: Vec<_> = std::mem::take(&mut *slf.get().queue.lock()).into_iter().map(|run| run.into_bound(py)).collect();
        let event_loop = slf.get().event_loop.bind(py);
        let mut reporter = None;
        if report_quietly(event_loop, &runs, &mut reporter)? {
            return Ok(());
        }
        let mut runs = runs.into_iter();
        while let Some(run) = runs.next() {
            match report(&run, &mut reporter) {
                Ok(()) => {}
                Err(error) if error.is_instance_of::<PyException>(py) => {
                    reporter = None;
                    to_exception_handler(event_loop, &run, error)?;
                }
                Err(error) => {
                    let rest: Vec<_> = runs.map(Bound::unbind).collect();
                    if !rest.is_empty() {
                        let first = {
                            let mut queue = slf.get().queue.lock();
                            let first = queue.is_empty();
                            queue.splice(0..0, rest);
                            first
                        };
                        if first {
                            let flush = slf.getattr(intern!(py, "flush"))?;
                            event_loop.call_method1(intern!(py, "call_soon"), (flush,))?;
                        }
                    }
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Runs waiting for their report.
    #[getter]
    fn queued(&self) -> usize {
        self.queue.lock().len()
    }
}

/// The Python objects `submit_coroutine_runs` needs.
struct Names {
    function_type: Py<PyAny>,
    max_instances_error: Py<PyAny>,
}

fn names(py: Python<'_>) -> PyResult<&Names> {
    static NAMES: PyOnceLock<Names> = PyOnceLock::new();
    NAMES.get_or_try_init(py, || {
        Ok(Names {
            function_type: py.import("types")?.getattr("FunctionType")?.unbind(),
            max_instances_error: py.import("apscheduler.executors.base")?.getattr("MaxInstancesReachedError")?.unbind(),
        })
    })
}

/// `CO_COROUTINE` of `code.co_flags`.
const CO_COROUTINE: i64 = 0x80;

/// `iscoroutinefunction_partial(func)`, answered natively for a plain `async def`
/// function and by `fallback` (that Python function) for anything else.
fn is_coroutine_function(func: &Bound<'_, PyAny>, fallback: &Bound<'_, PyAny>, names: &Names) -> PyResult<bool> {
    let py = func.py();
    if func.get_type().is(names.function_type.bind(py)) {
        let flags: i64 = func.getattr(intern!(py, "__code__"))?.getattr(intern!(py, "co_flags"))?.extract()?;
        if flags & CO_COROUTINE != 0 {
            return Ok(true);
        }
    }
    fallback.call1((func,))?.is_truthy()
}

/// The executor's state that every submission of a batch uses.
struct Submitter<'py> {
    executor: Bound<'py, PyAny>,
    event_loop: Bound<'py, PyAny>,
    /// `asyncio.Task`, when `loop.create_task(coro)` would only call
    /// `Task(coro, loop=loop)`; `None` to call `loop.create_task`.
    task_type: Option<(Bound<'py, PyAny>, Bound<'py, PyDict>)>,
    reports: Bound<'py, PyCoroutineReports>,
    logger: Bound<'py, PyAny>,
    instances: Bound<'py, PyAny>,
    pending: Bound<'py, PyAny>,
}

impl<'py> Submitter<'py> {
    /// `submit_job(job, run_times)` for a coroutine job, the executor's lock held: the
    /// max_instances check and count around `_launch`'s work.
    fn submit(&self, job: &Bound<'py, PyAny>, run_times: &Bound<'py, PyList>, names: &Names) -> PyResult<()> {
        let py = job.py();
        let job_id = job.getattr(intern!(py, "id"))?;
        let count = self.instances.get_item(&job_id)?;
        if count.ge(job.getattr(intern!(py, "max_instances"))?)? {
            return Err(PyErr::from_value(names.max_instances_error.bind(py).call1((job,))?));
        }
        let run = PyCoroutineRun::new(
            self.executor.clone().unbind(),
            job.clone().unbind(),
            job.getattr(intern!(py, "_jobstore_alias"))?.unbind(),
            run_times.clone().unbind(),
            self.logger.clone().unbind(),
            PyList::empty(py).unbind(),
            self.reports.clone().unbind(),
        );
        let run = Bound::new(py, run)?;
        let task = match &self.task_type {
            Some((task_type, loop_kwargs)) => task_type.call((&run,), Some(loop_kwargs))?,
            None => self.event_loop.call_method1(intern!(py, "create_task"), (&run,))?,
        };
        run.borrow_mut().task = Some(task.clone().unbind());
        self.pending.call_method1(intern!(py, "add"), (&task,))?;
        self.instances.set_item(&job_id, count.add(1)?)
    }
}

/// What `_submit_runs` asks of `AsyncIOExecutor._submit_batch`: `submit_job(job,
/// run_times)` for each `(job, executor, run_times, jobstore_alias)` of `runs`, in
/// order, with each coroutine job started as a Task running a `CoroutineRun`; other
/// jobs go through `executor.submit_job`. Returns, for each, `None` or the exception
/// `submit_job` raised. Called on the loop's thread, the loop running.
///
/// `task_type` is `asyncio.Task` when the loop's `create_task` is asyncio's own and
/// would call it with no more than `loop=loop` (no task factory, no debug mode), else
/// `None`. The executor's lock is taken once for the batch rather than per run: it
/// is reentrant, and the only other code that takes it (submissions from other
/// threads, reports) would wait for the loop's thread either way.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn submit_coroutine_runs<'py>(
    executor: &Bound<'py, PyAny>,
    runs: &Bound<'py, PyList>,
    event_loop: &Bound<'py, PyAny>,
    task_type: Option<Bound<'py, PyAny>>,
    reports: &Bound<'py, PyCoroutineReports>,
    logger: &Bound<'py, PyAny>,
    is_coroutine: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let py = executor.py();
    let names = names(py)?;
    let task_type = match task_type {
        Some(task_type) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "loop"), event_loop)?;
            Some((task_type, kwargs))
        }
        None => None,
    };
    let lock = executor.getattr(intern!(py, "_lock"))?;
    let submitter = Submitter {
        executor: executor.clone(),
        event_loop: event_loop.clone(),
        task_type,
        reports: reports.clone(),
        logger: logger.clone(),
        instances: executor.getattr(intern!(py, "_instances"))?,
        pending: executor.getattr(intern!(py, "_pending_futures"))?,
    };
    let outcomes = PyList::empty(py);
    with_lock_without_convoy(&lock, || -> PyResult<()> {
        for run in runs.iter() {
            let (job, run_times) = run_parts(&run)?;
            let submitted = (|| -> PyResult<()> {
                match run_times.cast::<PyList>() {
                    Ok(list) if is_coroutine_function(&job.getattr(intern!(py, "func"))?, is_coroutine, names)? => submitter.submit(&job, list, names),
                    _ => executor.call_method1(intern!(py, "submit_job"), (&job, &run_times)).map(drop),
                }
            })();
            match submitted {
                Ok(()) => outcomes.append(py.None())?,
                // As the Python loop of _submit_batch: BaseException, since a job run
                // right away may raise anything and the other runs must still go.
                Err(error) => outcomes.append(error.into_value(py))?,
            }
        }
        Ok(())
    })?;
    Ok(outcomes)
}
