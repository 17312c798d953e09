//! What `apscheduler.executors.base.run_job` does, done by a pool worker without
//! entering Python for anything but the job's callable, its logger and its events.
//!
//! The thread pool uses this path when `run_job` is the library's own (not patched)
//! and the executors' clock is the real one; otherwise workers call the Python
//! function. The rare branches (a missed run, a job that raised) are delegated to the
//! same Python helpers `run_job` uses, so their log lines and events are the same.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use super::version_tags::remembered_yes;
use super::common::{self, call_method};
use super::slots::{job_attr, JobSlot};
use super::zones;

/// `logging.INFO`: both messages of a successful run are logged at this level.
pub(crate) const INFO: i32 = 20;

/// `JobExecutionEvent(EVENT_JOB_EXECUTED, job_id, jobstore, run_time, retval=retval)`,
/// with the attributes its `__init__` sets, set directly: the constructor chain
/// through the event base classes costs more than the rest of a run.
pub(crate) fn executed_event<'py>(
    helpers: &Helpers,
    job_id: &Bound<'py, PyAny>,
    jobstore: &Bound<'py, PyAny>,
    run_time: &Bound<'py, PyAny>,
    retval: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = job_id.py();
    let class = helpers.execution_event.bind(py);
    let event = super::common::new_instance(class)?;
    // A copy of a dict with every key in place already: setting the four values that
    // differ then only replaces them, where building it grew it key by key.
    let attributes = helpers.executed_attributes.bind(py).copy()?;
    attributes.set_item(intern!(py, "job_id"), job_id)?;
    attributes.set_item(intern!(py, "jobstore"), jobstore)?;
    attributes.set_item(intern!(py, "scheduled_run_time"), run_time)?;
    attributes.set_item(intern!(py, "retval"), retval)?;
    event.setattr(intern!(py, "__dict__"), attributes)?;
    Ok(event)
}

/// One submission: `run_job(job, jobstore_alias, run_times, logger)`, the job being
/// the work item's.
pub struct NativeRun {
    pub jobstore_alias: Py<PyAny>,
    pub run_times: Py<PyAny>,
    pub logger: Py<PyAny>,
}

pub(crate) struct Helpers {
    call_job: Py<PyAny>,
    pub(crate) await_job: Py<PyAny>,
    pub(crate) missed_event: Py<PyAny>,
    pub(crate) error_event: Py<PyAny>,
    execution_event: Py<PyAny>,
    /// The attributes of an `EVENT_JOB_EXECUTED` event, in the order its `__init__`
    /// sets them, the four that differ from run to run set to `None`.
    executed_attributes: Py<PyDict>,
}

pub(crate) fn helpers(py: Python<'_>) -> PyResult<&Helpers> {
    static HELPERS: PyOnceLock<Helpers> = PyOnceLock::new();
    HELPERS.get_or_try_init(py, || {
        let base = py.import("apscheduler.executors.base")?;
        let events = py.import("apscheduler.events")?;
        Ok(Helpers {
            call_job: base.getattr("_call_job")?.unbind(),
            await_job: base.getattr("_await_job")?.unbind(),
            missed_event: base.getattr("_missed_event")?.unbind(),
            error_event: base.getattr("_error_event")?.unbind(),
            execution_event: events.getattr("JobExecutionEvent")?.unbind(),
            executed_attributes: {
                let attributes = PyDict::new(py);
                attributes.set_item("code", events.getattr("EVENT_JOB_EXECUTED")?)?;
                for name in ["alias", "job_id", "jobstore", "scheduled_run_time", "retval", "exception", "traceback"] {
                    attributes.set_item(name, py.None())?;
                }
                attributes.unbind()
            },
        })
    })
}

/// `logger.isEnabledFor(logging.INFO)`. For a logger whose `isEnabledFor` is the
/// standard library's, the answer it would give from its cache is read without the
/// call (`disabled`, then `_cache[INFO]`); anything else asks the method. A "no" (the
/// usual answer: loggers start at WARNING) is remembered until the logger's class, its
/// attributes or its cache change (`version_tags`); `setLevel` and `logging.disable`
/// clear every logger's cache.
pub(crate) fn logs_info(logger: &Bound<'_, PyAny>) -> PyResult<bool> {
    static STANDARD: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = logger.py();
    let standard = STANDARD.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("logging")?.getattr("Logger")?.getattr("isEnabledFor")?.unbind())
    })?;
    let attributes = common::instance_dict(logger);
    let cache = match &attributes {
        Some(attributes) => super::dict_lookups::get(attributes, intern!(py, "_cache"))?.and_then(|cache| cache.cast_into::<PyDict>().ok()),
        None => None,
    };
    let question = (standard.as_ptr() as usize, 0);
    let mut asked = None;
    // Only a "no" read from the logger's own cache is remembered: a replaced method's
    // answer may depend on anything.
    let silent = remembered_yes(question, &logger.get_type(), [attributes.as_ref(), cache.as_ref()], || {
        let (enabled, read_from_cache) = ask_logs_info(logger, standard, attributes.as_ref(), cache.as_ref())?;
        asked = Some(enabled);
        Ok(!enabled && read_from_cache)
    })?;
    Ok(!silent && asked.unwrap_or(true))
}

/// The answer of `logs_info`, and whether it was read from the logger's attributes
/// and cache rather than asked of its method.
fn ask_logs_info(
    logger: &Bound<'_, PyAny>,
    standard: &Py<PyAny>,
    attributes: Option<&Bound<'_, PyDict>>,
    cache: Option<&Bound<'_, PyDict>>,
) -> PyResult<(bool, bool)> {
    let py = logger.py();
    let method = intern!(py, "isEnabledFor");
    let own = logger.get_type().getattr(method).is_ok_and(|found| found.is(standard.bind(py)));
    // An instance attribute of that name would be called instead: only a logger whose
    // __dict__ does not have one is read directly.
    if let (true, Some(attributes)) = (own, attributes) {
        if !attributes.contains(method)? {
            if let Some(disabled) = attributes.get_item(intern!(py, "disabled"))? {
                if disabled.is_truthy()? {
                    return Ok((false, true));
                }
                if let Some(enabled) = cache.map(|cache| cache.get_item(INFO)).transpose()?.flatten() {
                    return Ok((enabled.is_truthy()?, true));
                }
            }
        }
    }
    Ok((call_method(logger, method, Some(&INFO.into_pyobject(logger.py())?.into_any()))?.is_truthy()?, false))
}

/// Whether the run is certainly within the grace time. Anything else (late, or a
/// value this cannot judge) is left to the Python helper, which decides and logs.
pub(crate) fn surely_in_time(run_time: &Bound<'_, PyAny>, grace: &Bound<'_, PyAny>) -> bool {
    let Ok(grace) = grace.extract::<f64>() else { return false };
    let Ok(scheduled) = zones::utc_micros(run_time) else { return false };
    // A microsecond of margin for the rounding of timedelta(seconds=grace).
    ((zones::now_utc_micros() - scheduled) as f64) < grace * 1e6 - 1.0
}

/// An event of a run, as `run_job` returns it. The event of a run that returned is
/// built only when it is reported: when no listener is there to receive it, it is not
/// built at all.
pub enum RunEvent<'py> {
    Built(Bound<'py, PyAny>),
    Executed { run_time: Bound<'py, PyAny>, retval: Bound<'py, PyAny> },
}

/// The events as `run_job` would have returned them.
pub fn build_events<'py>(py: Python<'py>, job_id: &Bound<'py, PyAny>, jobstore_alias: &Bound<'py, PyAny>, events: Vec<RunEvent<'py>>) -> PyResult<Bound<'py, PyList>> {
    let helpers = helpers(py)?;
    let built = PyList::empty(py);
    for event in events {
        match event {
            RunEvent::Built(event) => built.append(event)?,
            RunEvent::Executed { run_time, retval } => built.append(executed_event(helpers, job_id, jobstore_alias, &run_time, &retval)?)?,
        }
    }
    Ok(built)
}

impl NativeRun {
    /// Runs the job once per run time and returns the events, as `run_job` does.
    pub fn run<'py>(&self, py: Python<'py>, job: &Bound<'py, PyAny>) -> PyResult<Vec<RunEvent<'py>>> {
        let helpers = helpers(py)?;
        let alias = self.jobstore_alias.bind(py);
        let logger = self.logger.bind(py);
        let mut events = Vec::new();
        let logs_info: bool = logs_info(logger)?;

        for run_time in self.run_times.bind(py).try_iter()? {
            let run_time = run_time?;
            let grace = job_attr(job, JobSlot::MisfireGraceTime)?;
            if !grace.is_none() && !surely_in_time(&run_time, &grace) {
                let missed = helpers.missed_event.bind(py).call1((job, alias, &run_time, logger))?;
                if !missed.is_none() {
                    events.push(RunEvent::Built(missed));
                    continue;
                }
            }

            if logs_info {
                logger.call_method1(intern!(py, "info"), ("Running job \"%s\" (scheduled at %s)", job, &run_time))?;
            }
            match helpers.call_job.bind(py).call1((job,)) {
                Ok(retval) => {
                    if logs_info {
                        logger.call_method1(intern!(py, "info"), ("Job \"%s\" executed successfully", job))?;
                    }
                    events.push(RunEvent::Executed { run_time, retval });
                }
                Err(error) => {
                    let exception = error.into_value(py);
                    let event = helpers.error_event.bind(py).call1((job, alias, &run_time, logger, exception))?;
                    events.push(RunEvent::Built(event));
                }
            }
        }
        Ok(events)
    }
}

/// The job and the run times of a pass's run, `(job, executor, run_times, jobstore_alias)`:
/// read as tuple items directly, or by indexing whatever sequence it is.
pub fn run_parts<'py>(run: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    use pyo3::types::PyTupleMethods;
    match run.cast::<pyo3::types::PyTuple>() {
        Ok(tuple) => Ok((tuple.get_item(0)?, tuple.get_item(2)?)),
        Err(_) => Ok((run.get_item(0)?, run.get_item(2)?)),
    }
}
