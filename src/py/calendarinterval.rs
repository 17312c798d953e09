//! The native base of `apscheduler.triggers.calendarinterval.CalendarIntervalTrigger`.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateAccess, PyTime, PyTimeAccess};

use super::common::{self, Derived};
use super::datetimes::OwnZone;
use crate::triggers::calendarinterval::CalendarInterval;

struct Compiled {
    own: OwnZone,
    calendar: CalendarInterval,
    /// The interval as given when it is not plain integers: the reference then does
    /// its date arithmetic on those objects, and so do we, through Python.
    python_step: Option<[Py<PyAny>; 4]>,
    jitter: Option<Py<PyAny>>,
}

#[pyclass(subclass, module = "apscheduler._core", name = "CalendarIntervalTriggerBase")]
pub struct PyCalendarIntervalTrigger {
    years: Py<PyAny>,
    months: Py<PyAny>,
    weeks: Py<PyAny>,
    days: Py<PyAny>,
    time: Py<PyAny>,
    start_date: Py<PyAny>,
    end_date: Py<PyAny>,
    timezone: Py<PyAny>,
    jitter: Py<PyAny>,
    derived: Derived<Arc<Compiled>>,
}

fn to_naive_date(date: &Bound<'_, PyDate>) -> PyResult<NaiveDate> {
    NaiveDate::from_ymd_opt(date.get_year(), u32::from(date.get_month()), u32::from(date.get_day()))
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("date out of range"))
}

/// A date attribute; anything else fails the way `datetime.combine()` rejects it in the
/// reference.
fn date_attribute(value: &Bound<'_, PyAny>, time: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    match value.cast::<PyDate>() {
        Ok(date) => to_naive_date(date),
        Err(_) => {
            let datetime = value.py().import("datetime")?.getattr("datetime")?;
            datetime.call_method1("combine", (value, time))?;
            Err(pyo3::exceptions::PyTypeError::new_err("start_date must be a date"))
        }
    }
}

/// The reference's stepping rule computed with Python objects, for intervals given as
/// something other than integers (the errors, if any, are then the reference's own).
fn python_step(py: Python<'_>, interval: &[Py<PyAny>; 4], previous: NaiveDate) -> PyResult<Option<NaiveDate>> {
    use chrono::Datelike;
    let [years, months, weeks, days] = interval.each_ref().map(|v| v.bind(py));
    let date_type = py.import("datetime")?.getattr("date")?;
    let timedelta = py.import("datetime")?.getattr("timedelta")?;
    let mut year = previous.year().into_pyobject(py)?.into_any();
    let mut month = previous.month().into_pyobject(py)?.into_any();
    for _ in 0..100_000 {
        month = month.add(months)?;
        year = year.add(years.add(month.sub(1)?.floor_div(12)?)?)?;
        month = month.sub(1)?.rem(12)?.add(1)?;
        match date_type.call1((&year, &month, previous.day())) {
            Ok(date) => {
                let date = date.add(timedelta.call1((days.add(weeks.mul(7)?)?,))?)?;
                return to_naive_date(date.cast::<PyDate>()?).map(Some);
            }
            Err(error) if error.is_instance_of::<pyo3::exceptions::PyValueError>(py) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

impl PyCalendarIntervalTrigger {
    fn compiled(&self, py: Python<'_>) -> PyResult<Arc<Compiled>> {
        self.derived.get(|| Ok(Arc::new(self.build(py)?)))
    }

    fn build(&self, py: Python<'_>) -> PyResult<Compiled> {
        let own = OwnZone::new(self.timezone.bind(py))?;
        let time_obj = self.time.bind(py);
        let time = time_obj.cast::<PyTime>()?.clone();
        let time = NaiveTime::from_hms_opt(u32::from(time.get_hour()), u32::from(time.get_minute()), u32::from(time.get_second()))
            .unwrap_or_default();
        let interval = [&self.years, &self.months, &self.weeks, &self.days];
        let numbers: Option<Vec<i64>> = interval
            .iter()
            .map(|v| {
                let v = v.bind(py);
                // bool is an int to Python, but a float is not.
                if v.is_instance_of::<pyo3::types::PyInt>() { v.extract::<i64>().ok() } else { None }
            })
            .collect();
        let python_step = match numbers {
            Some(_) => None,
            None => Some(interval.map(|v| v.clone_ref(py))),
        };
        let [years, months, weeks, days] = match numbers.as_deref() {
            Some(&[y, m, w, d]) => [y, m, w, d],
            _ => [0; 4],
        };
        let end = self.end_date.bind(py);
        let calendar = CalendarInterval {
            years,
            months,
            weeks,
            days,
            time,
            start_date: date_attribute(self.start_date.bind(py), time_obj)?,
            end_date: if end.is_none() { None } else { Some(date_attribute(end, time_obj)?) },
        };
        let jitter = common::truthy_jitter(self.jitter.bind(py))?;
        Ok(Compiled { own, calendar, python_step, jitter })
    }

    fn invalidate(&self) {
        self.derived.invalidate();
    }
}

impl common::NativeTrigger for PyCalendarIntervalTrigger {
    fn cached_utc(&self, value: &Bound<'_, PyAny>) -> Option<i64> {
        self.derived.last.lookup(value).map(|aware| aware.utc())
    }

    fn is_deterministic(&self, py: Python<'_>) -> bool {
        self.jitter.bind(py).is_none()
    }

    fn runs_no_python(&self) -> bool {
        self.derived
            .is_built_and(|compiled| compiled.jitter.is_none() && compiled.python_step.is_none() && compiled.own.is_native())
    }

    fn next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get_next_fire_time(py, previous_fire_time, now)
    }
}

#[pymethods]
impl PyCalendarIntervalTrigger {
    #[getter(years)]
    fn get_years(&self, py: Python<'_>) -> Py<PyAny> {
        self.years.clone_ref(py)
    }

    #[setter(years)]
    fn set_years(&mut self, value: Py<PyAny>) {
        self.years = value;
        self.invalidate();
    }

    #[getter(months)]
    fn get_months(&self, py: Python<'_>) -> Py<PyAny> {
        self.months.clone_ref(py)
    }

    #[setter(months)]
    fn set_months(&mut self, value: Py<PyAny>) {
        self.months = value;
        self.invalidate();
    }

    #[getter(weeks)]
    fn get_weeks(&self, py: Python<'_>) -> Py<PyAny> {
        self.weeks.clone_ref(py)
    }

    #[setter(weeks)]
    fn set_weeks(&mut self, value: Py<PyAny>) {
        self.weeks = value;
        self.invalidate();
    }

    #[getter(days)]
    fn get_days(&self, py: Python<'_>) -> Py<PyAny> {
        self.days.clone_ref(py)
    }

    #[setter(days)]
    fn set_days(&mut self, value: Py<PyAny>) {
        self.days = value;
        self.invalidate();
    }

    #[getter(_time)]
    fn get_time(&self, py: Python<'_>) -> Py<PyAny> {
        self.time.clone_ref(py)
    }

    #[setter(_time)]
    fn set_time(&mut self, value: Py<PyAny>) {
        self.time = value;
        self.invalidate();
    }

    #[getter(start_date)]
    fn get_start_date(&self, py: Python<'_>) -> Py<PyAny> {
        self.start_date.clone_ref(py)
    }

    #[setter(start_date)]
    fn set_start_date(&mut self, value: Py<PyAny>) {
        self.start_date = value;
        self.invalidate();
    }

    #[getter(end_date)]
    fn get_end_date(&self, py: Python<'_>) -> Py<PyAny> {
        self.end_date.clone_ref(py)
    }

    #[setter(end_date)]
    fn set_end_date(&mut self, value: Py<PyAny>) {
        self.end_date = value;
        self.invalidate();
    }

    #[getter(timezone)]
    fn get_timezone(&self, py: Python<'_>) -> Py<PyAny> {
        self.timezone.clone_ref(py)
    }

    #[setter(timezone)]
    fn set_timezone(&mut self, value: Py<PyAny>) {
        self.timezone = value;
        self.invalidate();
    }

    #[getter(jitter)]
    fn get_jitter(&self, py: Python<'_>) -> Py<PyAny> {
        self.jitter.clone_ref(py)
    }

    #[setter(jitter)]
    fn set_jitter(&mut self, value: Py<PyAny>) {
        self.jitter = value;
        self.invalidate();
    }

    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(py: Python<'_>, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        PyCalendarIntervalTrigger {
            years: py.None(),
            months: py.None(),
            weeks: py.None(),
            days: py.None(),
            time: py.None(),
            start_date: py.None(),
            end_date: py.None(),
            timezone: py.None(),
            jitter: py.None(),
            derived: Derived::default(),
        }
    }

    fn get_next_fire_time(
        &self,
        py: Python<'_>,
        previous_fire_time: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let _ = now;
        let compiled = self.compiled(py)?;
        let own = &compiled.own;
        // The previous fire time's own calendar date, whatever its zone.
        let previous = if previous_fire_time.is_none() {
            None
        } else {
            Some(match self.derived.last.lookup(previous_fire_time) {
                Some(aware) => aware.local.date(),
                None => to_naive_date(previous_fire_time.cast::<PyDate>()?)?,
            })
        };
        let step = |date: NaiveDate| -> PyResult<Option<NaiveDate>> {
            match &compiled.python_step {
                Some(interval) => python_step(py, interval, date),
                None => Ok(compiled.calendar.step(date)),
            }
        };
        let mut jitter = common::LazyJitter { py, jitter: compiled.jitter.as_ref(), error: None };
        let next = compiled.calendar.next_fire_time(&own.zone, own.id(), previous, step, || jitter.draw_micros())?;
        let next = jitter.finish(next)?;
        common::write_time(py, own, &self.derived.last, next)
    }
}
