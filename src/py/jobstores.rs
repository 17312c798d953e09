//! The native base of `apscheduler.jobstores.memory.MemoryJobStore`.
//!
//! Jobs are stored as the Python objects they are; their id and next run time are read
//! when they are added or updated, as the reference reads them then.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString};

use super::stored_jobs_gc;
use super::zones;
use crate::jobstore::{JobKey, OrderedJobs, RunKey, StoreError};

#[pyclass(subclass, module = "apscheduler._core", name = "MemoryJobStore")]
pub struct PyMemoryJobStore {
    // Fork safety: this lock is only ever taken by a thread that holds the GIL, and let
    // go before any Python code runs or the GIL is released. `os.fork()` runs with the
    // GIL held by the forking thread, so no thread holds the lock at the fork and a
    // forked child finds it free; nothing needs resetting in the child.
    pub(crate) jobs: Mutex<OrderedJobs<Py<PyAny>>>,
}

fn store_error<'py>(py: Python<'py>, name: &str, job_id: &Bound<'py, PyAny>) -> PyErr {
    static BASE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let error = BASE
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("apscheduler.jobstores.base")?.unbind()) })
        .and_then(|module| module.bind(py).getattr(name))
        .and_then(|class| class.call1((job_id,)));
    match error {
        Ok(error) => PyErr::from_value(error),
        Err(error) => error,
    }
}

/// The index's key for a job id; `None` for an id that is not a string, which no
/// stored job can have.
fn job_key(id: &Bound<'_, PyAny>) -> Option<JobKey> {
    let id = id.cast::<PyString>().ok()?;
    Some(JobKey::new(&id.to_cow().ok()?))
}

/// The index's key for the id of a job being stored. The index keeps string ids only:
/// `Job` itself accepts no other kind.
pub(crate) fn stored_id_key(id: &Bound<'_, PyAny>) -> PyResult<JobKey> {
    Ok(JobKey::new(&id.cast::<PyString>()?.to_cow()?))
}

fn job_id_key(job: &Bound<'_, PyAny>) -> PyResult<JobKey> {
    stored_id_key(&job.getattr(pyo3::intern!(job.py(), "id"))?)
}

/// Where a job sorts, from its `next_run_time`.
fn run_key(job: &Bound<'_, PyAny>) -> PyResult<RunKey> {
    let next_run_time = job.getattr(pyo3::intern!(job.py(), "next_run_time"))?;
    if next_run_time.is_none() {
        return Ok(RunKey::Paused);
    }
    Ok(RunKey::At(zones::utc_micros(&next_run_time)?))
}

impl PyMemoryJobStore {
    /// `add_job(job)` for a job whose id and run key the caller has read, with
    /// `replace_existing` as in `BaseScheduler._store_job`.
    pub(crate) fn store_job(&self, job: &Bound<'_, PyAny>, id: JobKey, key: RunKey, replace_existing: bool) -> PyResult<()> {
        let py = job.py();
        let outcome = {
            let mut jobs = self.jobs.lock();
            if replace_existing && jobs.get(&id).is_some() {
                jobs.update(&id, job.clone().unbind(), key).map(Some)
            } else {
                jobs.add(id, job.clone().unbind(), key).map(|()| None)
            }
        };
        match outcome {
            // A replaced job object is released here, after the lock.
            Ok(replaced) => {
                stored_jobs_gc::hide(job);
                if let Some(replaced) = replaced {
                    stored_jobs_gc::release_replaced(job, replaced);
                }
                Ok(())
            }
            Err(_) => Err(store_error(py, "ConflictingIdError", &job.getattr("id")?)),
        }
    }

    /// Makes room for a batch of `additional` jobs about to be stored.
    pub(crate) fn reserve(&self, additional: usize) {
        self.jobs.lock().reserve(additional);
    }

    fn list<'py>(&self, py: Python<'py>, pick: impl FnOnce(&OrderedJobs<Py<PyAny>>) -> Vec<Py<PyAny>>) -> PyResult<Bound<'py, PyList>> {
        // Only reference counts are taken under the lock; the list is built after.
        let jobs = pick(&self.jobs.lock());
        PyList::new(py, jobs)
    }
}

impl Drop for PyMemoryJobStore {
    fn drop(&mut self) {
        let jobs = self.jobs.get_mut().take_all();
        if jobs.is_empty() {
            return;
        }
        // A store is freed by the interpreter, with the GIL held: attaching takes no
        // lock and waits for nothing.
        Python::attach(|py| {
            for job in jobs {
                stored_jobs_gc::release(py, job);
            }
        });
    }
}

#[pymethods]
impl PyMemoryJobStore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        PyMemoryJobStore { jobs: Mutex::new(OrderedJobs::default()) }
    }

    fn lookup_job(&self, py: Python<'_>, job_id: &Bound<'_, PyAny>) -> Py<PyAny> {
        let Some(id) = job_key(job_id) else { return py.None() };
        self.jobs.lock().get(&id).map_or_else(|| py.None(), |job| job.clone_ref(py))
    }

    fn get_due_jobs<'py>(&self, py: Python<'py>, now: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let now = zones::utc_micros(now)?;
        self.list(py, |jobs| jobs.due(now).map(|job| job.clone_ref(py)).collect())
    }

    fn get_next_run_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let first = self.jobs.lock().first().map(|job| job.clone_ref(py));
        match first {
            Some(job) => Ok(job.bind(py).getattr(pyo3::intern!(py, "next_run_time"))?.unbind()),
            None => Ok(py.None()),
        }
    }

    fn get_all_jobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list(py, |jobs| jobs.all().map(|job| job.clone_ref(py)).collect())
    }

    fn add_job(&self, job: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = job_id_key(job)?;
        let key = run_key(job)?;
        let added = self.jobs.lock().add(id, job.clone().unbind(), key);
        match added {
            Ok(()) => {
                stored_jobs_gc::hide(job);
                Ok(())
            }
            Err(_) => Err(store_error(job.py(), "ConflictingIdError", &job.getattr("id")?)),
        }
    }

    fn update_job(&self, job: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = job_id_key(job)?;
        let key = run_key(job)?;
        let replaced = self.jobs.lock().update(&id, job.clone().unbind(), key);
        match replaced {
            // The replaced job object is released here, after the lock.
            Ok(old) => {
                stored_jobs_gc::hide(job);
                stored_jobs_gc::release_replaced(job, old);
                Ok(())
            }
            Err(StoreError::Missing | StoreError::Conflict) => {
                Err(store_error(job.py(), "JobLookupError", &job.getattr("id")?))
            }
        }
    }

    fn remove_job(&self, job_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let removed = match job_key(job_id) {
            Some(id) => self.jobs.lock().remove(&id).ok(),
            None => None,
        };
        match removed {
            Some(job) => {
                stored_jobs_gc::release(job_id.py(), job);
                Ok(())
            }
            None => Err(store_error(job_id.py(), "JobLookupError", job_id)),
        }
    }

    fn remove_all_jobs(&self, py: Python<'_>) {
        let jobs = self.jobs.lock().take_all();
        for job in jobs {
            stored_jobs_gc::release(py, job);
        }
    }

    fn shutdown(&self, py: Python<'_>) {
        self.remove_all_jobs(py);
    }
}
