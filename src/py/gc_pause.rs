//! Holding off the garbage collector's automatic collections over a stretch of native
//! work that makes many containers.
//!
//! A collection starts when enough tracked objects have been allocated since the last
//! one, whether they are still tracked or not. A pass over tens of thousands of due
//! jobs makes a run tuple and a `run_times` list for each, so it would start a young
//! collection every few hundred jobs and, every tenth of those, an older one, which
//! walks every stored job. Paused, the collector makes up for it with one collection
//! at the next allocation after the pass. Nothing is lost: no object is freed later
//! than that, and what a collection finds does not depend on when it runs.
//!
//! The pause must never hide a user's own `gc.disable()`. It is taken only if the
//! collector is enabled, and lifted before any Python code runs: Python code is the
//! only way another thread could get to call `gc.disable()` or `gc.enable()` meanwhile,
//! and the pause would then undo or override it. So a pass pauses only when its `now`
//! is in a zone the core knows, and lifts the pause before a job that takes the Python
//! path, a trigger that is not native, draws jitter or has a zone the core does not
//! know, an executor alias that is not a plain string, and any datetime read that may
//! ask its zone.

use std::cell::Cell;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `gc.isenabled`, `gc.disable` and `gc.enable`.
fn gc_functions(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
    static FUNCTIONS: PyOnceLock<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
    FUNCTIONS.get_or_try_init(py, || {
        let gc = py.import("gc")?;
        Ok((gc.getattr("isenabled")?.unbind(), gc.getattr("disable")?.unbind(), gc.getattr("enable")?.unbind()))
    })
}

/// Collections held off until `resume` or the end of the pause's life.
pub struct GcPause<'py> {
    py: Python<'py>,
    paused: Cell<bool>,
}

impl<'py> GcPause<'py> {
    /// Pauses the collector if `wanted` and it is enabled.
    pub fn new(py: Python<'py>, wanted: bool) -> PyResult<Self> {
        if !wanted {
            return Ok(GcPause { py, paused: Cell::new(false) });
        }
        let (is_enabled, disable, _) = gc_functions(py)?;
        let paused = is_enabled.bind(py).call0()?.is_truthy()?;
        if paused {
            disable.bind(py).call0()?;
        }
        Ok(GcPause { py, paused: Cell::new(paused) })
    }

    /// Lets the collector run again; called before any Python code runs.
    pub fn resume(&self) -> PyResult<()> {
        if self.paused.replace(false) {
            gc_functions(self.py)?.2.bind(self.py).call0()?;
        }
        Ok(())
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.resume() {
            error.write_unraisable(self.py, None);
        }
    }
}
