//! Python datetimes in and out of the core's [`Aware`] form.

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDateTime;

use super::zones::{self, AnyZone};
use crate::time::aware::{ZoneId, NAIVE};
use crate::time::civil::naive_to_micros;
use crate::time::{Aware, TimeZone};


/// A trigger's `timezone` attribute together with the zone computed from it.
#[derive(Debug)]
pub struct OwnZone {
    pub obj: Py<PyAny>,
    pub zone: AnyZone,
}

impl OwnZone {
    pub fn new(tz: &Bound<'_, PyAny>) -> PyResult<OwnZone> {
        Ok(OwnZone { obj: tz.clone().unbind(), zone: zones::resolve(tz)? })
    }

    /// Whether the zone is one the core knows, answered without calling Python.
    pub fn is_native(&self) -> bool {
        matches!(self.zone, AnyZone::Native(_))
    }

    pub fn id(&self) -> ZoneId {
        self.obj.as_ptr() as ZoneId
    }

    /// A Python datetime as an aware value, with its `utcoffset()` for the other fold
    /// (needed only to compare it for equality with another zone's time, so computed
    /// only when `want_flipped`).
    pub fn read(&self, value: &Bound<'_, PyAny>, want_flipped: bool) -> PyResult<(Aware, i64)> {
        let dt = value.cast::<PyDateTime>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "expected a datetime, got {}",
                value.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        let (local, fold, tzinfo) = zones::read_state(value)?;
        match tzinfo.filter(|tz| !tz.is_none()) {
            Some(tz) if tz.is(self.obj.bind(value.py())) => {
                let offset = self.zone.utcoffset(local, fold)?;
                Ok((Aware::new(local, fold, offset, self.id()), 0))
            }
            Some(tz) => {
                let id = tz.as_ptr() as ZoneId;
                // Another zone the core knows (the scheduler's, say, next to the
                // trigger's own) is answered natively, for a plain datetime.
                if value.is_exact_instance(zones::datetime_type(value.py())?) {
                    if let AnyZone::Native(zone) = zones::resolve(&tz)? {
                        let offset_of = |fold| zone.utcoffset(local, fold).unwrap_or_else(|never| match never {});
                        let offset = offset_of(fold);
                        let flipped = if want_flipped { offset_of(!fold) } else { offset };
                        return Ok((Aware::new(local, fold, offset, id), flipped));
                    }
                }
                let offset = foreign_offset(dt)?;
                let flipped = if want_flipped {
                    let other = dt.call_method("replace", (), Some(&fold_kwargs(value.py(), !fold)?))?;
                    foreign_offset(other.cast::<PyDateTime>()?)?
                } else {
                    offset
                };
                Ok((Aware::new(local, fold, offset, id), flipped))
            }
            None => {
                // Naive: Python's astimezone() reads it as system local time.
                let utc = dt.call_method1("astimezone", (utc_tz(value.py())?,))?;
                let (utc_local, _, _) = zones::read_state(&utc)?;
                let offset = naive_to_micros(local) - naive_to_micros(utc_local);
                Ok((Aware::new(local, fold, offset, NAIVE), offset))
            }
        }
    }

    /// A core result as a Python datetime in this zone.
    pub fn write<'py>(&self, py: Python<'py>, value: &Aware) -> PyResult<Bound<'py, PyDateTime>> {
        write_local(py, value.local, self.obj.bind(py), value.fold)
    }
}

pub fn write_local<'py>(
    py: Python<'py>,
    local: NaiveDateTime,
    tz: &Bound<'py, PyAny>,
    fold: bool,
) -> PyResult<Bound<'py, PyDateTime>> {
    zones::new_datetime(py, local, Some(tz), fold)
}

fn foreign_offset(dt: &Bound<'_, PyDateTime>) -> PyResult<i64> {
    let offset = dt.call_method0(pyo3::intern!(dt.py(), "utcoffset"))?;
    Ok(zones::delta_micros(&offset).unwrap_or(0))
}

fn fold_kwargs(py: Python<'_>, fold: bool) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("fold", u8::from(fold))?;
    Ok(kwargs)
}

pub fn utc_tz(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(UTC
        .get_or_try_init(py, || -> PyResult<_> {
            Ok(py.import("datetime")?.getattr("timezone")?.getattr("utc")?.unbind())
        })?
        .bind(py))
}
