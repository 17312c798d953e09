//! How a pool worker reports a run that returned: what `BaseExecutor._run_job_success`
//! and `BaseScheduler._dispatch_event` do, natively, for an executor and a scheduler
//! that use those methods as the library defines them. An executor or scheduler that
//! overrides one (a plug-in, a test) gets its own method called instead.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

struct LibraryMethods {
    run_job_success: Py<PyAny>,
    release_instance: Py<PyAny>,
    dispatch_event: Py<PyAny>,
}

fn library_methods(py: Python<'_>) -> PyResult<&LibraryMethods> {
    static METHODS: PyOnceLock<LibraryMethods> = PyOnceLock::new();
    METHODS.get_or_try_init(py, || {
        let executor = py.import("apscheduler.executors.base")?.getattr("BaseExecutor")?;
        let scheduler = py.import("apscheduler.schedulers.base")?.getattr("BaseScheduler")?;
        Ok(LibraryMethods {
            run_job_success: executor.getattr("_run_job_success")?.unbind(),
            release_instance: executor.getattr("_release_instance")?.unbind(),
            dispatch_event: scheduler.getattr("_dispatch_event")?.unbind(),
        })
    })
}

/// Whether `obj.<name>` is the library's own function `expected`: neither a subclass
/// nor the instance has replaced it.
fn is_library_method(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>, expected: &Py<PyAny>) -> PyResult<bool> {
    // A type without the attribute (a mock that makes it up per instance) is not
    // the library's.
    match obj.get_type().getattr(name) {
        Ok(found) if found.is(expected.bind(obj.py())) => {}
        _ => return Ok(false),
    }
    match obj.getattr(intern!(obj.py(), "__dict__")) {
        Ok(dict) => Ok(!dict.cast::<PyDict>().map(|dict| dict.contains(name)).unwrap_or(Ok(true))?),
        Err(_) => Ok(true),
    }
}

/// `executor._run_job_success(job.id, events)`.
pub fn report_success<'py>(executor: &Bound<'py, PyAny>, job: &Bound<'py, PyAny>, events: Bound<'py, PyAny>) -> PyResult<()> {
    let py = executor.py();
    let methods = library_methods(py)?;
    let job_id = job.getattr(intern!(py, "id"))?;
    let success = intern!(py, "_run_job_success");
    let (Ok(events), true) = (events.cast::<PyList>(), is_library_method(executor, success, &methods.run_job_success)?) else {
        executor.call_method1(success, (job_id, events))?;
        return Ok(());
    };

    let release = intern!(py, "_release_instance");
    if is_library_method(executor, release, &methods.release_instance)? {
        release_instance(executor, &job_id)?;
    } else {
        executor.call_method1(release, (&job_id,))?;
    }

    let scheduler = executor.getattr(intern!(py, "_scheduler"))?;
    let dispatch = intern!(py, "_dispatch_event");
    if is_library_method(&scheduler, dispatch, &methods.dispatch_event)? {
        dispatch_events(&scheduler, events)
    } else {
        for event in events.iter() {
            scheduler.call_method1(dispatch, (event,))?;
        }
        Ok(())
    }
}

/// `BaseExecutor._release_instance`: one instance of the job fewer, under the
/// executor's lock.
fn release_instance(executor: &Bound<'_, PyAny>, job_id: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = executor.py();
    let lock = executor.getattr(intern!(py, "_lock"))?;
    let instances = executor.getattr(intern!(py, "_instances"))?;
    acquire_without_convoy(&lock)?;
    let counted = (|| -> PyResult<()> {
        let left: i64 = instances.get_item(job_id)?.extract::<i64>()? - 1;
        if left == 0 {
            instances.del_item(job_id)
        } else {
            instances.set_item(job_id, left)
        }
    })();
    lock.call_method0(intern!(py, "release"))?;
    counted?;
    notify_run_watchers(job_id)
}

/// `apscheduler._runwatch.released(job_id)`, when a shared job store waits for runs
/// to end (its registry is not empty); see that module.
fn notify_run_watchers(job_id: &Bound<'_, PyAny>) -> PyResult<()> {
    static RUNWATCH: PyOnceLock<(Py<PyDict>, Py<PyAny>)> = PyOnceLock::new();
    let py = job_id.py();
    let (watchers, released) = RUNWATCH.get_or_try_init(py, || -> PyResult<_> {
        let module = py.import("apscheduler._runwatch")?;
        Ok((module.getattr("watchers")?.cast_into::<PyDict>()?.unbind(), module.getattr("released")?.unbind()))
    })?;
    if watchers.bind(py).is_empty() {
        return Ok(());
    }
    released.bind(py).call1((job_id,))?;
    Ok(())
}

/// Takes a Python lock without ever holding it while waiting for the GIL.
///
/// A blocking `acquire()` waits for the lock with the GIL released, then takes the GIL
/// back while holding the lock. If the scheduler's thread wants the lock next (it
/// takes the executor's lock for every job it submits), the two threads then hand the
/// lock and the GIL back and forth at every job, with a context switch each way; on
/// two cores that convoy halved the pool's throughput. Trying without blocking, and
/// letting the GIL go between tries, keeps the lock only in hands that hold the GIL.
pub fn acquire_without_convoy(lock: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = lock.py();
    let acquire = intern!(py, "acquire");
    loop {
        if lock.call_method1(acquire, (false,))?.is_truthy()? {
            return Ok(());
        }
        py.detach(std::thread::yield_now);
    }
}

/// `BaseScheduler._dispatch_event` for each event: every listener whose mask has the
/// event's code is called, on a snapshot of the listeners taken under their lock.
fn dispatch_events(scheduler: &Bound<'_, PyAny>, events: &Bound<'_, PyList>) -> PyResult<()> {
    let py = scheduler.py();
    let lock = scheduler.getattr(intern!(py, "_listeners_lock"))?;
    acquire_without_convoy(&lock)?;
    let listeners = scheduler.getattr(intern!(py, "_listeners")).and_then(|list| PyTuple::new(py, list.try_iter()?.collect::<PyResult<Vec<_>>>()?));
    lock.call_method0(intern!(py, "release"))?;
    let listeners = listeners?;
    if listeners.is_empty() {
        return Ok(());
    }

    for event in events.iter() {
        let code = event.getattr(intern!(py, "code"))?;
        for entry in listeners.iter() {
            let callback = entry.get_item(0)?;
            let mask = entry.get_item(1)?;
            if !code.bitand(&mask)?.is_truthy()? {
                continue;
            }
            if let Err(error) = callback.call1((&event,)) {
                let logger = scheduler.getattr(intern!(py, "_logger"))?;
                let kwargs = PyDict::new(py);
                kwargs.set_item(intern!(py, "exc_info"), error.into_value(py))?;
                logger.call_method(intern!(py, "error"), ("Error notifying listener",), Some(&kwargs))?;
            }
        }
    }
    Ok(())
}
