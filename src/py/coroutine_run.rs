//! What `apscheduler.executors.base.run_coroutine_job` does, as the coroutine of the
//! asyncio Task that the library's `AsyncIOExecutor` starts for a coroutine job.
//!
//! A `CoroutineRun` is a coroutine in the sense of `collections.abc.Coroutine`
//! (`send`, `throw`, `close`, `__await__`), so `loop.create_task` takes it and the job
//! still runs as a Task of its own: `asyncio.current_task()` in the job is that Task,
//! and cancelling it reaches the job as with the reference. The job's coroutine is
//! awaited through `executors.base._await_job`, a one-line Python coroutine, so that a
//! failed job's traceback starts at the same line as under `run_coroutine_job`; the
//! missed-run and error branches call the same Python helpers `run_coroutine_job`
//! uses, so their log lines and events are identical.
//!
//! When the runs are over, the run is queued on its executor's `CoroutineReports`,
//! which reports a whole batch from one loop callback (`asyncio_executor.rs`): what the
//! reference's done callback does per Task, after the Task has finished and outside
//! it. Any other way the coroutine ends (an exception before the job started, such as
//! a cancellation; a failure of the logging) hands the Task to the executor's Python
//! done callback, `AsyncIOExecutor._job_done`, as the Python path does.

use pyo3::exceptions::{PyGeneratorExit, PyRuntimeError, PyStopIteration};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use super::asyncio_executor::PyCoroutineReports;
use super::run::{executed_event, helpers, logs_info, surely_in_time};

enum Stage {
    /// Not resumed yet: an exception thrown in now ends it before any run, as it ends
    /// a coroutine that has not started.
    Created,
    /// About to start the run of `run_times[index]`.
    Next(usize),
    /// The run of `run_times[index]` underway: `inner` is the coroutine `_await_job(job)`.
    Awaiting { index: usize, inner: Py<PyAny> },
    /// Returned (or ended by an exception).
    Finished,
}

/// The arguments of a `throw()`: an exception instance, or the old
/// `(type, value, traceback)` form.
struct Thrown<'py>(Bound<'py, PyTuple>);

impl<'py> Thrown<'py> {
    /// The exception the coroutine raises when `throw()` reaches it before it started.
    fn into_err(self) -> PyErr {
        let args = self.0;
        let py = args.py();
        let raised = (|| -> PyResult<PyErr> {
            let first = args.get_item(0)?;
            if first.is_instance_of::<pyo3::exceptions::PyBaseException>() {
                return Ok(PyErr::from_value(first));
            }
            let value = args.get_item(1).ok().filter(|value| !value.is_none());
            let exception = match value {
                Some(value) if value.is_instance(&first)? => value,
                Some(value) => first.call1((value,))?,
                None => first.call0()?,
            };
            Ok(PyErr::from_value(exception))
        })();
        let _ = py;
        raised.unwrap_or_else(|error| error)
    }
}

/// How one resumption of the coroutine ended.
enum Step<'py> {
    Yield(Bound<'py, PyAny>),
    Return,
}

#[pyclass(module = "apscheduler._core", name = "CoroutineRun")]
pub struct PyCoroutineRun {
    pub(crate) executor: Py<PyAny>,
    job: Py<PyAny>,
    jobstore_alias: Py<PyAny>,
    run_times: Py<PyList>,
    logger: Py<PyAny>,
    events: Py<PyList>,
    /// Where the finished run is reported.
    reports: Py<PyCoroutineReports>,
    /// The Task running this coroutine; set by the submission, let go at the report.
    pub(crate) task: Option<Py<PyAny>>,
    stage: Stage,
    /// Whether an error event is among `events` (its frames are cleared at the report).
    pub(crate) failed: bool,
}

impl PyCoroutineRun {
    pub fn new(
        executor: Py<PyAny>,
        job: Py<PyAny>,
        jobstore_alias: Py<PyAny>,
        run_times: Py<PyList>,
        logger: Py<PyAny>,
        events: Py<PyList>,
        reports: Py<PyCoroutineReports>,
    ) -> Self {
        PyCoroutineRun { executor, job, jobstore_alias, run_times, logger, events, reports, task: None, stage: Stage::Created, failed: false }
    }

    /// What the report needs, taken out of the run: the executor, the job, the events
    /// and the Task. The run keeps no reference to them afterwards.
    pub(crate) fn take_report(&mut self, py: Python<'_>) -> (Py<PyAny>, Py<PyAny>, Py<PyList>, Option<Py<PyAny>>) {
        (self.executor.clone_ref(py), self.job.clone_ref(py), self.events.clone_ref(py), self.task.take())
    }

    /// Runs until the job awaits something (`Yield`) or every run is over (`Return`).
    fn resume<'py>(&mut self, py: Python<'py>, mut thrown: Option<Thrown<'py>>) -> PyResult<Step<'py>> {
        loop {
            match std::mem::replace(&mut self.stage, Stage::Finished) {
                Stage::Created => {
                    if let Some(thrown) = thrown.take() {
                        return Err(thrown.into_err());
                    }
                    self.stage = Stage::Next(0);
                }
                Stage::Next(index) => {
                    let run_times = self.run_times.bind(py);
                    if index >= run_times.len() {
                        return Ok(Step::Return);
                    }
                    let run_time = run_times.get_item(index)?;
                    self.stage = match self.start_run(py, &run_time)? {
                        Some(inner) => Stage::Awaiting { index, inner },
                        None => Stage::Next(index + 1),
                    };
                }
                Stage::Awaiting { index, inner } => {
                    let outcome = match thrown.take() {
                        // send(), not next(): PyIter_Next would drop the value the
                        // StopIteration carries (the job's return value).
                        None => inner.bind(py).call_method1(intern!(py, "send"), (py.None(),)),
                        Some(Thrown(args)) => inner.bind(py).call_method1(intern!(py, "throw"), args),
                    };
                    let run_time = self.run_times.bind(py).get_item(index)?;
                    match outcome {
                        Ok(yielded) => {
                            self.stage = Stage::Awaiting { index, inner };
                            return Ok(Step::Yield(yielded));
                        }
                        Err(error) if error.is_instance_of::<PyStopIteration>(py) => {
                            let retval = error.value(py).getattr(intern!(py, "value"))?;
                            self.executed(py, &run_time, &retval)?;
                        }
                        // BaseException on purpose, as run_coroutine_job catches it: a
                        // cancelled job is an error of that run.
                        Err(error) => self.errored(py, &run_time, error)?,
                    }
                    self.stage = Stage::Next(index + 1);
                }
                Stage::Finished => {
                    if let Some(thrown) = thrown {
                        return Err(thrown.into_err());
                    }
                    return Err(PyRuntimeError::new_err("cannot reuse already awaited coroutine"));
                }
            }
        }
    }

    /// The missed-run check and the "Running job" line; then the job's awaitable, or
    /// `None` when the run was missed.
    fn start_run<'py>(&mut self, py: Python<'py>, run_time: &Bound<'py, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        let helpers = helpers(py)?;
        let job = self.job.bind(py);
        let logger = self.logger.bind(py);
        let grace = job.getattr(intern!(py, "misfire_grace_time"))?;
        if !grace.is_none() && !surely_in_time(run_time, &grace) {
            let missed = helpers.missed_event.bind(py).call1((job, &self.jobstore_alias, run_time, logger))?;
            if !missed.is_none() {
                self.events.bind(py).append(missed)?;
                return Ok(None);
            }
        }
        if logs_info(logger)? {
            logger.call_method1(intern!(py, "info"), ("Running job \"%s\" (scheduled at %s)", job, run_time))?;
        }
        Ok(Some(helpers.await_job.bind(py).call1((job,))?.unbind()))
    }

    fn executed<'py>(&mut self, py: Python<'py>, run_time: &Bound<'py, PyAny>, retval: &Bound<'py, PyAny>) -> PyResult<()> {
        let job = self.job.bind(py);
        let logger = self.logger.bind(py);
        let job_id = job.getattr(intern!(py, "id"))?;
        let event = executed_event(helpers(py)?, &job_id, self.jobstore_alias.bind(py), run_time, retval)?;
        self.events.bind(py).append(event)?;
        if logs_info(logger)? {
            logger.call_method1(intern!(py, "info"), ("Job \"%s\" executed successfully", job))?;
        }
        Ok(())
    }

    fn errored<'py>(&mut self, py: Python<'py>, run_time: &Bound<'py, PyAny>, error: PyErr) -> PyResult<()> {
        let exception = error.into_value(py);
        let event = helpers(py)?.error_event.bind(py).call1((&self.job, &self.jobstore_alias, run_time, &self.logger, exception))?;
        self.events.bind(py).append(event)?;
        self.failed = true;
        Ok(())
    }
}

/// `asyncio.current_task`, for the rare paths that need the Task from inside it.
fn current_task(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static CURRENT_TASK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let function = CURRENT_TASK.get_or_try_init(py, || -> PyResult<_> { Ok(py.import("asyncio")?.getattr("current_task")?.unbind()) })?;
    function.bind(py).call0()
}

/// One resumption from `send`, `__next__` or `throw`, with what follows its end: a
/// finished run is queued for its report and returns its events (as
/// `run_coroutine_job` returns them); a run ended by an exception leaves its Task to
/// the executor's Python done callback.
fn step(slf: &Bound<'_, PyCoroutineRun>, thrown: Option<Thrown<'_>>) -> PyResult<Option<Py<PyAny>>> {
    let py = slf.py();
    let (outcome, reports, events, was_finished) = {
        let mut run = slf.try_borrow_mut().map_err(|_| pyo3::exceptions::PyValueError::new_err("coroutine already executing"))?;
        let was_finished = matches!(run.stage, Stage::Finished);
        let outcome = run.resume(py, thrown);
        (outcome, run.reports.clone_ref(py), run.events.clone_ref(py), was_finished)
    };
    match outcome {
        Ok(Step::Yield(yielded)) => Ok(Some(yielded.unbind())),
        Ok(Step::Return) => match PyCoroutineReports::push(reports.bind(py), slf.clone().unbind()) {
            Ok(()) => Err(PyStopIteration::new_err((events,))),
            Err(error) => {
                hand_to_python(slf)?;
                Err(error)
            }
        },
        // A coroutine resumed after its end only raises: its Task ended before.
        Err(error) if was_finished => Err(error),
        Err(error) => {
            hand_to_python(slf)?;
            Err(error)
        }
    }
}

/// The Task ends with an exception: the executor's Python done callback reports it
/// (`_run_job_error`), as it does every Task of the Python path.
fn hand_to_python(slf: &Bound<'_, PyCoroutineRun>) -> PyResult<()> {
    let py = slf.py();
    let (executor, job, task) = {
        let mut run = slf.borrow_mut();
        let task = run.task.take();
        (run.executor.clone_ref(py), run.job.clone_ref(py), task)
    };
    let task = match task {
        Some(task) => task.into_bound(py),
        None => current_task(py)?,
    };
    if task.is_none() {
        return Ok(());
    }
    let job_id = job.bind(py).getattr(intern!(py, "id"))?;
    let done = py.import(intern!(py, "functools"))?.getattr(intern!(py, "partial"))?.call1((executor.bind(py).getattr(intern!(py, "_job_done"))?, job_id))?;
    task.call_method1(intern!(py, "add_done_callback"), (done,))?;
    Ok(())
}

#[pymethods]
impl PyCoroutineRun {
    fn send(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        if !value.is_none() {
            let started = !matches!(slf.borrow().stage, Stage::Created);
            if !started {
                return Err(pyo3::exceptions::PyTypeError::new_err("can't send non-None value to a just-started coroutine"));
            }
        }
        step(slf, None)
    }

    fn __next__(slf: &Bound<'_, Self>) -> PyResult<Option<Py<PyAny>>> {
        step(slf, None)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*args))]
    fn throw(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>) -> PyResult<Option<Py<PyAny>>> {
        if args.is_empty() || args.len() > 3 {
            return Err(pyo3::exceptions::PyTypeError::new_err("throw expected at least 1 argument, got 0"));
        }
        step(slf, Some(Thrown(args.clone())))
    }

    /// As a coroutine's `close()`: `GeneratorExit` is thrown into the run underway,
    /// which `run_coroutine_job` would catch as the job's error.
    fn close(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let underway = matches!(slf.borrow().stage, Stage::Awaiting { .. });
        if !underway {
            slf.borrow_mut().stage = Stage::Finished;
            return Ok(());
        }
        let exit = PyTuple::new(py, [PyGeneratorExit::new_err(()).into_value(py)])?;
        match step(slf, Some(Thrown(exit))) {
            Ok(Some(_)) => Err(PyRuntimeError::new_err("coroutine ignored GeneratorExit")),
            Ok(None) => Ok(()),
            Err(error) if error.is_instance_of::<PyStopIteration>(py) || error.is_instance_of::<PyGeneratorExit>(py) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The name asyncio shows for the Task's coroutine (`repr(task)`).
    #[getter]
    fn __qualname__(&self) -> &'static str {
        "run_coroutine_job"
    }

    #[getter]
    fn __name__(&self) -> &'static str {
        "run_coroutine_job"
    }

    #[getter]
    fn cr_running(&self) -> bool {
        false
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.executor)?;
        visit.call(&self.job)?;
        visit.call(&self.jobstore_alias)?;
        visit.call(&self.run_times)?;
        visit.call(&self.logger)?;
        visit.call(&self.events)?;
        visit.call(&self.reports)?;
        if let Some(task) = &self.task {
            visit.call(task)?;
        }
        if let Stage::Awaiting { inner, .. } = &self.stage {
            visit.call(inner)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        // The Task refers to this run as its coroutine: a Task that never ran (its
        // loop closed first) and this run form a cycle the collector breaks here.
        self.task = None;
        self.stage = Stage::Finished;
    }
}
