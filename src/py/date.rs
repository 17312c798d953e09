//! The native base of `apscheduler.triggers.date.DateTrigger`: it fires once, on
//! `run_date`, which it returns as given (with its own tzinfo, as the reference does).

use pyo3::prelude::*;

#[pyclass(subclass, module = "apscheduler._core", name = "DateTriggerBase")]
pub struct PyDateTrigger {
    #[pyo3(get, set)]
    run_date: Py<PyAny>,
}

impl super::common::NativeTrigger for PyDateTrigger {
    fn cached_utc(&self, _value: &Bound<'_, PyAny>) -> Option<i64> {
        None
    }

    fn is_deterministic(&self, _py: Python<'_>) -> bool {
        true
    }

    fn runs_no_python(&self) -> bool {
        true
    }

    fn next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Ok(self.get_next_fire_time(py, previous_fire_time, now))
    }
}

#[pymethods]
impl PyDateTrigger {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(py: Python<'_>, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        PyDateTrigger { run_date: py.None() }
    }

    fn get_next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> Py<PyAny> {
        let _ = now;
        if previous_fire_time.is_none() { self.run_date.clone_ref(py) } else { py.None() }
    }
}
