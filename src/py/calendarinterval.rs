//! The native base of `apscheduler.triggers.calendarinterval.CalendarIntervalTrigger`.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateAccess, PyTime, PyTimeAccess};

use super::common::{self, LastResult};
use super::datetimes::OwnZone;
use crate::triggers::calendarinterval::CalendarInterval;

struct Compiled {
    own: OwnZone,
    calendar: CalendarInterval,
    jitter: Option<f64>,
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
    compiled: Mutex<Option<Arc<Compiled>>>,
    last: LastResult,
}

fn naive_date(value: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let date = value.cast::<PyDate>()?;
    NaiveDate::from_ymd_opt(date.get_year(), u32::from(date.get_month()), u32::from(date.get_day()))
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("date out of range"))
}

impl PyCalendarIntervalTrigger {
    fn compiled(&self, py: Python<'_>) -> PyResult<Arc<Compiled>> {
        if let Some(compiled) = self.compiled.lock().as_ref() {
            return Ok(compiled.clone());
        }
        let own = OwnZone::new(self.timezone.bind(py))?;
        let time = self.time.bind(py).cast::<PyTime>()?.clone();
        let time = NaiveTime::from_hms_opt(u32::from(time.get_hour()), u32::from(time.get_minute()), u32::from(time.get_second()))
            .unwrap_or_default();
        let end = self.end_date.bind(py);
        let calendar = CalendarInterval {
            years: self.years.bind(py).extract()?,
            months: self.months.bind(py).extract()?,
            weeks: self.weeks.bind(py).extract()?,
            days: self.days.bind(py).extract()?,
            time,
            start_date: naive_date(self.start_date.bind(py))?,
            end_date: if end.is_none() { None } else { Some(naive_date(end)?) },
        };
        let jitter = common::truthy_jitter(self.jitter.bind(py))?;
        let compiled = Arc::new(Compiled { own, calendar, jitter });
        *self.compiled.lock() = Some(compiled.clone());
        Ok(compiled)
    }

    fn invalidate(&self) {
        let old = self.compiled.lock().take();
        drop(old);
        self.last.clear();
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
            compiled: Mutex::new(None),
            last: LastResult::default(),
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
            Some(match self.last.lookup(previous_fire_time) {
                Some(aware) => aware.local.date(),
                None => naive_date(previous_fire_time)?,
            })
        };
        let delay = match compiled.jitter {
            Some(jitter) => Some(common::seconds_to_micros(common::draw_jitter(py, jitter)?)),
            None => None,
        };
        let next = compiled.calendar.next_fire_time(&own.zone, own.id(), previous, || delay)?;
        common::write_time(py, own, &self.last, next)
    }
}
