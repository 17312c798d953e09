//! The log lines and events of jobs entering and leaving their stores in bulk: what
//! `BaseScheduler._job_added` and `_job_removed` do for each job of a batch. With no
//! listener for the event and the scheduler's own method, whether the log line is
//! wanted is asked once per batch instead of once per job; otherwise the method is
//! called for each job, as the Python code would.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

use super::report::{self, are_library_methods, is_library_method, listeners_in_may_want, listeners_may_want, PlainObject};
use super::run::logs_info;

/// `STATE_RUNNING`.
const STATE_RUNNING: i64 = 1;
/// `EVENT_JOB_ADDED` and `EVENT_JOB_REMOVED`.
const EVENT_JOB_ADDED: i64 = 1 << 9;
const EVENT_JOB_REMOVED: i64 = 1 << 10;
/// The reference's log lines.
const ADDED_MESSAGE: &str = "Added job \"%s\" to job store \"%s\"";
const REMOVED_MESSAGE: &str = "Removed job %s";

/// `BaseScheduler`'s methods the reports depend on.
struct LibraryMethods {
    job_added: Py<PyAny>,
    job_removed: Py<PyAny>,
    listened_codes: Py<PyAny>,
}

fn library_methods(py: Python<'_>) -> PyResult<&LibraryMethods> {
    static METHODS: PyOnceLock<LibraryMethods> = PyOnceLock::new();
    METHODS.get_or_try_init(py, || -> PyResult<_> {
        let base = py.import("apscheduler.schedulers.base")?.getattr("BaseScheduler")?;
        Ok(LibraryMethods {
            job_added: base.getattr("_job_added")?.unbind(),
            job_removed: base.getattr("_job_removed")?.unbind(),
            listened_codes: base.getattr("_listened_codes")?.unbind(),
        })
    })
}

/// Whether `_job_added` is called for each job: when it is not the library's, or
/// when some listener may want `EVENT_JOB_ADDED`, as its `_dispatch_event` and
/// `_listened_codes` would tell (see `report::listeners_may_want`).
fn job_added_called(scheduler: &Bound<'_, PyAny>, methods: &LibraryMethods) -> PyResult<bool> {
    let py = scheduler.py();
    let dispatch_event = &report::library_methods(py)?.dispatch_event;
    let own = are_library_methods(
        scheduler,
        &[
            (intern!(py, "_job_added"), &methods.job_added),
            (intern!(py, "_dispatch_event"), dispatch_event),
            (intern!(py, "_listened_codes"), &methods.listened_codes),
        ],
    )?;
    Ok(!own || listeners_may_want(scheduler, EVENT_JOB_ADDED)?)
}

/// The scheduler's logger, when it logs at INFO level.
fn info_logger<'py>(scheduler: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let logger = scheduler.getattr(intern!(scheduler.py(), "_logger"))?;
    Ok(logs_info(&logger)?.then_some(logger))
}

/// `_job_added(job, jobstore, _listened_codes())` for one job, by the add path, which
/// found `_job_added`, `_dispatch_event` and `_listened_codes` to be the library's.
pub fn report_job_added<'py>(scheduler: &PlainObject<'py>, job: &Bound<'py, PyAny>, jobstore: &Bound<'py, PyAny>) -> PyResult<()> {
    let py = scheduler.object().py();
    let listeners = scheduler.get(intern!(py, "_listeners"))?;
    if listeners_in_may_want(&listeners, EVENT_JOB_ADDED)? {
        let listened = scheduler.object().call_method0(intern!(py, "_listened_codes"))?;
        scheduler.object().call_method1(intern!(py, "_job_added"), (job, jobstore, &listened))?;
        return Ok(());
    }
    let logger = scheduler.get(intern!(py, "_logger"))?;
    if logs_info(&logger)? {
        logger.call_method1(intern!(py, "info"), (intern!(py, ADDED_MESSAGE), job.getattr(intern!(py, "name"))?, jobstore))?;
    }
    if scheduler.get(intern!(py, "state"))?.extract::<i64>().is_ok_and(|state| state == STATE_RUNNING) {
        scheduler.object().call_method0(intern!(py, "wakeup"))?;
    }
    Ok(())
}

/// `_job_added(job, jobstore, _listened_codes())` for the first `count` entries
/// `(job, jobstore, replace_existing)` of `batch`, then one wake-up if the scheduler
/// runs (each call would wake it; once is the same).
#[pyfunction]
pub fn report_jobs_added<'py>(scheduler: &Bound<'py, PyAny>, batch: &Bound<'py, PyAny>, count: usize) -> PyResult<()> {
    report_added(scheduler, count, || {
        let mut entries = Vec::with_capacity(count);
        for entry in batch.try_iter()?.take(count) {
            let entry = entry?;
            entries.push((entry.get_item(0)?, entry.get_item(1)?));
        }
        Ok(entries)
    })
}

/// The reports of `count` jobs added, whose `(job, jobstore)` pairs `entries` reads
/// only if they are needed (a listener, or the log line wanted).
fn report_added<'py>(
    scheduler: &Bound<'py, PyAny>,
    count: usize,
    entries: impl Fn() -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>>,
) -> PyResult<()> {
    let py = scheduler.py();
    if job_added_called(scheduler, library_methods(py)?)? {
        let listened = scheduler.call_method0(intern!(py, "_listened_codes"))?;
        for (job, jobstore) in entries()? {
            scheduler.call_method1(intern!(py, "_job_added"), (job, jobstore, &listened))?;
        }
        return Ok(());
    }
    if let Some(logger) = info_logger(scheduler)? {
        for (job, jobstore) in entries()? {
            logger.call_method1(intern!(py, "info"), (intern!(py, ADDED_MESSAGE), job.getattr(intern!(py, "name"))?, jobstore))?;
        }
    }
    if count > 0 && scheduler.getattr(intern!(py, "state"))?.extract::<i64>().is_ok_and(|state| state == STATE_RUNNING) {
        scheduler.call_method0(intern!(py, "wakeup"))?;
    }
    Ok(())
}

/// `_job_removed(job_id, jobstore, listened)` for each `(job_id, jobstore)` of
/// `removed`.
#[pyfunction]
pub fn report_jobs_removed<'py>(scheduler: &Bound<'py, PyAny>, removed: &Bound<'py, PyList>, listened: &Bound<'py, PyAny>) -> PyResult<()> {
    let py = scheduler.py();
    if removed.is_empty() {
        return Ok(());
    }
    let own_method = is_library_method(scheduler, intern!(py, "_job_removed"), &library_methods(py)?.job_removed)?;
    let listened_for_removal = listened.extract::<i64>().map_or(true, |codes| codes & EVENT_JOB_REMOVED != 0);
    if !own_method || listened_for_removal {
        for entry in removed.iter() {
            scheduler.call_method1(intern!(py, "_job_removed"), (entry.get_item(0)?, entry.get_item(1)?, listened))?;
        }
        return Ok(());
    }
    if let Some(logger) = info_logger(scheduler)? {
        let message = intern!(py, REMOVED_MESSAGE);
        for entry in removed.iter() {
            logger.call_method1(intern!(py, "info"), (message, entry.get_item(0)?))?;
        }
    }
    Ok(())
}
