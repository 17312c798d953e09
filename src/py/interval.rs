//! The native base of `apscheduler.triggers.interval.IntervalTrigger`. The constructor
//! lives in Python; this class stores the attributes and computes fire times.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};

use crate::time::aware::NAIVE;
use crate::time::pyfloat::from_timestamp;
use crate::time::{Aware, Micros};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{IntoPyDict, PyDelta, PyDict, PyFloat, PyInt, PyString};

use super::common::{self, Derived};
use super::datetimes::OwnZone;
use super::zones;
use crate::triggers::interval::Interval;
use crate::triggers::last_built::LastBuilt;

/// Where the Python class lives: its module's globals are looked up at call time.
const MODULE: &str = "apscheduler.triggers.interval";

/// What a trigger computes with. Triggers made with the same zone, step, end date
/// and no jitter (every job of one `add_job` call repeated) share their `Shape`: a
/// trigger's own part is its start date.
#[derive(Clone)]
struct Compiled {
    shape: Arc<Shape>,
    start_date: Aware,
}

struct Shape {
    own: OwnZone,
    length: f64,
    end_date: Option<Aware>,
    jitter: Option<Py<PyAny>>,
}

impl Compiled {
    fn interval(&self) -> Interval {
        Interval { length: self.shape.length, start_date: self.start_date, end_date: self.shape.end_date }
    }
}

impl Shape {
    fn is_like(&self, other: &Shape) -> bool {
        self.own.obj.is(&other.own.obj)
            && self.length.to_bits() == other.length.to_bits()
            && self.end_date == other.end_date
            && self.jitter.is_none()
            && other.jitter.is_none()
    }

    /// The shape last built, if `built` is like it; else `built`, which is remembered
    /// in its place.
    fn shared(built: Shape) -> Arc<Shape> {
        static LAST: LastBuilt<Shape> = LastBuilt::new();
        LAST.share(built, Shape::is_like)
    }
}

#[pyclass(subclass, module = "apscheduler._core", name = "IntervalTriggerBase")]
pub struct PyIntervalTrigger {
    timezone: Py<PyAny>,
    start_date: Py<PyAny>,
    end_date: Py<PyAny>,
    interval: Py<PyAny>,
    interval_length: Py<PyAny>,
    jitter: Py<PyAny>,
    derived: Derived<Compiled>,
}

/// The error `datetime.fromtimestamp()` raises for a time it can't represent.
fn out_of_range(timestamp: f64) -> PyErr {
    use chrono::Datelike;
    match chrono::DateTime::from_timestamp(timestamp.floor() as i64, 0) {
        Some(utc) if timestamp.is_finite() => PyValueError::new_err(format!("year {} is out of range", utc.year())),
        _ => pyo3::exceptions::PyOverflowError::new_err("timestamp out of range for platform time_t"),
    }
}

fn interval_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    static MODULE_OBJ: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(MODULE_OBJ.get_or_try_init(py, || -> PyResult<_> { Ok(py.import(MODULE)?.unbind()) })?.bind(py).clone())
}

/// The standard library's `datetime` and `timedelta` classes, to tell whether the
/// module's names still refer to them (tests replace them to control the clock).
fn stdlib_types(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    static TYPES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();
    TYPES.get_or_try_init(py, || -> PyResult<_> {
        let datetime = py.import("datetime")?;
        Ok((datetime.getattr("datetime")?.unbind(), datetime.getattr("timedelta")?.unbind()))
    })
}

fn module_name_is<'py>(globals: &Bound<'py, PyDict>, name: &Bound<'py, PyString>, expected: &Py<PyAny>) -> PyResult<bool> {
    Ok(super::dict_lookups::get(globals, name)?.is_some_and(|value| value.is(expected.bind(globals.py()))))
}

/// An interval as a `timedelta`, its length as `total_seconds()` gives it, and its
/// whole seconds.
type WholeInterval<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, i64);

/// `timedelta(weeks=..., seconds=...)`, its `total_seconds()` and its whole seconds,
/// computed natively when every part is an int and the result is a nonzero timedelta;
/// `None` otherwise (floats, zero, out of range), for Python to compute and to raise
/// its own errors.
fn whole_interval<'py>(py: Python<'py>, globals: &Bound<'py, PyDict>, parts: [&Bound<'py, PyAny>; 5]) -> PyResult<Option<WholeInterval<'py>>> {
    if !module_name_is(globals, pyo3::intern!(py, "timedelta"), &stdlib_types(py)?.1)? {
        return Ok(None);
    }
    let mut total: i128 = 0;
    // The parts not given are the int 0, one shared object: no need to read it.
    let zero = 0i32.into_pyobject(py)?;
    for (part, scale) in parts.into_iter().zip([7i128, 24, 60, 60, 1]) {
        let value = if part.is(&zero) {
            0
        } else if part.is_exact_instance_of::<PyInt>() {
            let Ok(value) = part.extract::<i64>() else { return Ok(None) };
            value
        } else {
            return Ok(None);
        };
        total = (total + i128::from(value)) * scale;
    }
    // total is in seconds: weeks * 7 * 24 * 60 * 60 + ... + seconds.
    const SECONDS_PER_DAY: i128 = 86_400;
    const MAX_DAYS: i128 = 999_999_999;
    let days = total.div_euclid(SECONDS_PER_DAY);
    if total == 0 || days.abs() > MAX_DAYS {
        return Ok(None);
    }
    let total = total as i64; // at most 999_999_999 days of seconds
    if let Some((interval, length)) = recent_interval(py, total) {
        return Ok(Some((interval, length, total)));
    }
    let seconds = total.rem_euclid(SECONDS_PER_DAY as i64);
    let interval = PyDelta::new(py, days as i32, seconds as i32, 0, false)?.into_any();
    // total_seconds() divides the exact microsecond count by 10**6; under 2**53 the
    // float division rounds the same way.
    let length = PyFloat::new(py, (i128::from(total) * 1_000_000) as f64 / 1e6).into_any();
    remember_interval(total, &interval, &length);
    Ok(Some((interval, length, total)))
}

/// Intervals built lately, by length in seconds, with their `total_seconds()`: a
/// program creates many triggers with the same few intervals, and `timedelta` and
/// `float` values are immutable, so the triggers share them. (Its lock follows the
/// rule of `zones::RECENT_ZONES`.)
type RecentIntervals = Vec<(i64, Py<PyAny>, Py<PyAny>)>;
static RECENT_INTERVALS: parking_lot::Mutex<RecentIntervals> = parking_lot::Mutex::new(Vec::new());
const RECENT_INTERVALS_KEPT: usize = 32;

fn recent_interval(py: Python<'_>, seconds: i64) -> Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)> {
    let recent = RECENT_INTERVALS.lock();
    let (_, interval, length) = recent.iter().find(|(kept, ..)| *kept == seconds)?;
    Some((interval.bind(py).clone(), length.bind(py).clone()))
}

fn remember_interval(seconds: i64, interval: &Bound<'_, PyAny>, length: &Bound<'_, PyAny>) {
    let mut recent = RECENT_INTERVALS.lock();
    // The oldest entries make room; they are released after the lock.
    let evicted: RecentIntervals = if recent.len() >= RECENT_INTERVALS_KEPT { recent.drain(..RECENT_INTERVALS_KEPT / 2).collect() } else { Vec::new() };
    recent.push((seconds, interval.clone().unbind(), length.clone().unbind()));
    drop(recent);
    drop(evicted);
}

fn python_interval<'py>(py: Python<'py>, module: &Bound<'py, PyModule>, parts: [&Bound<'py, PyAny>; 5]) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let [weeks, days, hours, minutes, seconds] = parts;
    let parts = [("weeks", weeks), ("days", days), ("hours", hours), ("minutes", minutes), ("seconds", seconds)].into_py_dict(py)?;
    let timedelta = module.getattr("timedelta")?;
    let interval = timedelta.call((), Some(&parts))?;
    let length = interval.call_method0("total_seconds")?;
    if length.extract::<f64>()? == 0.0 {
        // The reference's fallback: one second, with an int length.
        let interval = timedelta.call((), Some(&[("seconds", 1)].into_py_dict(py)?))?;
        return Ok((interval, 1i32.into_pyobject(py)?.into_any()));
    }
    Ok((interval, length))
}

impl PyIntervalTrigger {
    fn compiled(&self, py: Python<'_>) -> PyResult<Compiled> {
        self.derived.get(|| self.build(py))
    }

    fn build(&self, py: Python<'_>) -> PyResult<Compiled> {
        let own = OwnZone::new(self.timezone.bind(py))?;
        let start = self.start_date.bind(py);
        if start.is_none() {
            return Err(PyValueError::new_err("IntervalTrigger has no start_date"));
        }
        let start_date = own.read(start, false)?.0;
        let end = self.end_date.bind(py);
        let end_date = if end.is_none() { None } else { Some(own.read(end, false)?.0) };
        let jitter = self.jitter.bind(py);
        let jitter = if jitter.is_none() { None } else { Some(jitter.clone().unbind()) };
        let length: f64 = self.interval_length.bind(py).extract()?;
        let shape = Shape::shared(Shape { own, length, end_date, jitter });
        Ok(Compiled { shape, start_date })
    }

    fn invalidate(&self) {
        self.derived.invalidate();
    }

    /// `get_next_fire_time(None, now)` while the start date is still ahead of `now_utc`
    /// (UTC microseconds), when the answer equals the start date, which is returned
    /// itself: the trigger is compiled, has no jitter and no end date, its zone is one
    /// the core knows, and the start date is a wall time that zone has (the answer is
    /// `fromtimestamp(start_date.timestamp(), timezone)`, equal to it then). The answer
    /// is remembered as the last one, as an asked answer is.
    pub(crate) fn start_date_ahead(&self, py: Python<'_>, now_utc: Micros) -> Option<(Py<PyAny>, Micros)> {
        if !self.jitter.is_none(py) || !self.end_date.is_none(py) {
            return None;
        }
        let mut found = None;
        self.derived.is_built_and(|compiled| {
            found = Some((compiled.start_date, compiled.shape.clone()));
            true
        });
        let (start, shape) = found?;
        let zones::AnyZone::Native(zone) = &shape.own.zone else { return None };
        // An aware start date only: the caller stores it as the job's next run time.
        if start.zone == NAIVE || start.utc() <= now_utc {
            return None;
        }
        let normal = Aware::from_utc(zone, start.zone, start.utc()).unwrap_or_else(|never| match never {})?;
        if normal.local != start.local || normal.fold != start.fold {
            return None;
        }
        self.derived.last.store(self.start_date.clone_ref(py), start);
        Some((self.start_date.clone_ref(py), start.utc()))
    }

    pub(crate) fn start_date_object<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.start_date.bind(py)
    }

    /// The attributes other than the start date, borrowed.
    pub(crate) fn attribute_refs(&self) -> IntervalAttributeRefs<'_> {
        IntervalAttributeRefs {
            timezone: &self.timezone,
            end_date: &self.end_date,
            interval: &self.interval,
            interval_length: &self.interval_length,
            jitter: &self.jitter,
        }
    }

    /// Gives a fresh trigger object the attributes of another (see `dormant_jobs`).
    pub(crate) fn put_attributes(&mut self, attributes: IntervalAttributes) {
        let IntervalAttributes { timezone, start_date, end_date, interval, interval_length, jitter } = attributes;
        self.timezone = timezone;
        self.start_date = start_date;
        self.end_date = end_date;
        self.interval = interval;
        self.interval_length = interval_length;
        self.jitter = jitter;
        self.invalidate();
    }
}

/// An interval trigger's attributes other than its start date, borrowed from it.
pub(crate) struct IntervalAttributeRefs<'a> {
    pub timezone: &'a Py<PyAny>,
    pub end_date: &'a Py<PyAny>,
    pub interval: &'a Py<PyAny>,
    pub interval_length: &'a Py<PyAny>,
    pub jitter: &'a Py<PyAny>,
}

/// The attributes of an interval trigger, as its Python class shows them.
pub(crate) struct IntervalAttributes {
    pub timezone: Py<PyAny>,
    pub start_date: Py<PyAny>,
    pub end_date: Py<PyAny>,
    pub interval: Py<PyAny>,
    pub interval_length: Py<PyAny>,
    pub jitter: Py<PyAny>,
}

impl common::NativeTrigger for PyIntervalTrigger {
    fn cached_utc(&self, value: &Bound<'_, PyAny>) -> Option<i64> {
        self.derived.last.lookup(value).map(|aware| aware.utc())
    }

    fn is_deterministic(&self, py: Python<'_>) -> bool {
        self.jitter.bind(py).is_none()
    }

    fn runs_no_python(&self) -> bool {
        self.derived.is_built_and(|compiled| compiled.shape.jitter.is_none() && compiled.shape.own.is_native())
    }

    fn next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get_next_fire_time(py, previous_fire_time, now)
    }
}

#[pymethods]
impl PyIntervalTrigger {
    #[getter(timezone)]
    fn get_timezone(&self, py: Python<'_>) -> Py<PyAny> {
        self.timezone.clone_ref(py)
    }

    #[setter(timezone)]
    fn set_timezone(&mut self, value: Py<PyAny>) {
        self.timezone = value;
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

    #[getter(interval)]
    fn get_interval(&self, py: Python<'_>) -> Py<PyAny> {
        self.interval.clone_ref(py)
    }

    #[setter(interval)]
    fn set_interval(&mut self, value: Py<PyAny>) {
        self.interval = value;
        self.invalidate();
    }

    #[getter(interval_length)]
    fn get_interval_length(&self, py: Python<'_>) -> Py<PyAny> {
        self.interval_length.clone_ref(py)
    }

    #[setter(interval_length)]
    fn set_interval_length(&mut self, value: Py<PyAny>) {
        self.interval_length = value;
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
    fn new(py: Python<'_>, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> PyIntervalTrigger {
        PyIntervalTrigger {
            timezone: py.None(),
            start_date: py.None(),
            end_date: py.None(),
            interval: py.None(),
            interval_length: py.None(),
            jitter: py.None(),
            derived: Derived::default(),
        }
    }

    /// The work of `IntervalTrigger.__init__`, which binds the arguments (so that its
    /// signature and errors for bad calls are Python's) and passes them all here.
    /// `datetime` and `get_localzone` are looked up in `apscheduler.triggers.interval`
    /// at each call, so that patching them there works as with the reference.
    #[pyo3(name = "_init")]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn init(
        &mut self,
        py: Python<'_>,
        weeks: &Bound<'_, PyAny>,
        days: &Bound<'_, PyAny>,
        hours: &Bound<'_, PyAny>,
        minutes: &Bound<'_, PyAny>,
        seconds: &Bound<'_, PyAny>,
        start_date: &Bound<'_, PyAny>,
        end_date: &Bound<'_, PyAny>,
        timezone: &Bound<'_, PyAny>,
        jitter: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let module = interval_module(py)?;
        let globals = module.dict();
        // The interval, its length, and its microseconds when computed here.
        let (interval, length, step) = match whole_interval(py, &globals, [weeks, days, hours, minutes, seconds])? {
            Some((interval, length, seconds)) => (interval, length, Some(seconds * 1_000_000)),
            None => {
                let (interval, length) = python_interval(py, &module, [weeks, days, hours, minutes, seconds])?;
                (interval, length, None)
            }
        };

        let given = |value: &Bound<'_, PyAny>| !value.is_none();
        let tz = common::trigger_timezone(
            py,
            Some(timezone).filter(|tz| given(tz)),
            Some(start_date).filter(|date| given(date)),
            Some(end_date).filter(|date| given(date)),
            MODULE,
        )?;
        // `start_date or (datetime.now(tz) + interval)`
        let mut computed_natively = false;
        let start_date = if start_date.is_truthy()? {
            start_date.clone()
        } else {
            let stdlib_clock = module_name_is(&globals, pyo3::intern!(py, "datetime"), &stdlib_types(py)?.0)?;
            let native = match step.or_else(|| zones::delta_micros(&interval)) {
                Some(step) if stdlib_clock => zones::now_plus(&tz, step)?,
                _ => None,
            };
            match native {
                Some(start) => {
                    computed_natively = true;
                    start
                }
                None => module.getattr("datetime")?.call_method1("now", (&tz,))?.add(&interval)?,
            }
        };
        // A start date computed here is an aware datetime already.
        let start_date = if computed_natively { start_date } else { common::convert_to_datetime(&start_date, &tz, "start_date")? };
        let end_date = common::convert_to_datetime(end_date, &tz, "end_date")?;

        self.interval = interval.unbind();
        self.interval_length = length.unbind();
        self.timezone = tz.unbind();
        self.start_date = start_date.unbind();
        self.end_date = end_date.unbind();
        self.jitter = jitter.clone().unbind();
        self.invalidate();
        if computed_natively && self.end_date.is_none(py) {
            // Compiled now, while the start date's fields are still remembered as
            // computed: a pending job's first fire time is asked for at start(), after
            // thousands of other jobs, when reading them back would cost a Python
            // call. Nothing here runs Python code (the zone is one the core knows),
            // and a failure is left to the first real use to report.
            let _ = self.compiled(py);
        }
        Ok(())
    }

    fn get_next_fire_time(
        &self,
        py: Python<'_>,
        previous_fire_time: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let compiled = self.compiled(py)?;
        let own = &compiled.shape.own;
        let (previous, now) = common::read_times(own, &self.derived.last, previous_fire_time, now, false)?;
        let previous = previous.map(|(aware, _)| aware);
        if previous.is_none() && (now.zone == NAIVE) != (compiled.start_date.zone == NAIVE) {
            // The reference compares start_date with now here.
            return Err(PyTypeError::new_err("can't compare offset-naive and offset-aware datetimes"));
        }
        let jitter = match &compiled.shape.jitter {
            Some(jitter) => Some(common::draw_jitter(py, jitter)?),
            None => None,
        };
        let Some(timestamp) = compiled.interval().next_timestamp(previous.as_ref(), &now, jitter) else {
            return Ok(py.None());
        };
        let next = match from_timestamp(timestamp) {
            Some(micros) => Aware::from_utc(&own.zone, own.id(), micros)?,
            None => None,
        };
        match next {
            // The first fire time is usually the start date itself: the same value in
            // the same zone is returned as the same (immutable) object, so that a job
            // waiting for its first run does not hold a second copy of it.
            Some(next) if next == compiled.start_date => {
                let start_date = self.start_date.clone_ref(py);
                self.derived.last.store(start_date.clone_ref(py), next);
                Ok(start_date)
            }
            Some(next) => common::write_time(py, own, &self.derived.last, Some(next)),
            None => Err(out_of_range(timestamp)),
        }
    }
}
