//! Python locks (`threading.Lock`, `threading.RLock`) acquired and released from Rust.
//!
//! The scheduler's and the executors' locks are taken for every job added, submitted
//! and reported. `lock.acquire(False)` looks the method up on the lock and calls it
//! through a bound method; for the standard library's lock types, calling their
//! class's function with the lock as first argument skips both, about 400 of the 1,300
//! instructions of each call. Any other lock (a subclass, a lock-like object of a
//! plug-in) is called through its own methods.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::intern;
use pyo3::types::PyBool;

use super::common;

/// A standard lock type with its `acquire` and `release` functions.
struct StandardLock {
    class: Py<PyAny>,
    acquire: Py<PyAny>,
    release: Py<PyAny>,
}

fn standard_locks(py: Python<'_>) -> PyResult<&'static [StandardLock; 2]> {
    static LOCKS: PyOnceLock<[StandardLock; 2]> = PyOnceLock::new();
    LOCKS.get_or_try_init(py, || -> PyResult<_> {
        let module = py.import("_thread")?;
        let of = |name: &str| -> PyResult<StandardLock> {
            let class = module.getattr(name)?;
            Ok(StandardLock { acquire: class.getattr("acquire")?.unbind(), release: class.getattr("release")?.unbind(), class: class.unbind() })
        };
        Ok([of("RLock")?, of("LockType")?])
    })
}

/// The functions of `lock`'s class when it is exactly one of the standard lock types.
fn standard(py: Python<'_>, lock: &Bound<'_, PyAny>) -> PyResult<Option<&'static StandardLock>> {
    let class = lock.get_type_ptr();
    Ok(standard_locks(py)?.iter().find(|standard| std::ptr::eq(standard.class.as_ptr().cast(), class)))
}

/// `lock.acquire()`.
pub(crate) fn acquire(lock: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = lock.py();
    match standard(py, lock)? {
        Some(standard) => common::call_with(standard.acquire.bind(py), lock).map(drop),
        None => common::call_method(lock, intern!(py, "acquire"), None).map(drop),
    }
}

/// `lock.acquire(False)`: whether the lock was free and is now held.
pub(crate) fn try_acquire(lock: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = lock.py();
    let no = PyBool::new(py, false);
    let acquired = match standard(py, lock)? {
        Some(standard) => common::call_with_two(standard.acquire.bind(py), lock, no.as_any())?,
        None => common::call_method(lock, intern!(py, "acquire"), Some(no.as_any()))?,
    };
    acquired.is_truthy()
}

/// `lock.release()`.
pub(crate) fn release(lock: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = lock.py();
    match standard(py, lock)? {
        Some(standard) => common::call_with(standard.release.bind(py), lock).map(drop),
        None => common::call_method(lock, intern!(py, "release"), None).map(drop),
    }
}
