//! The native base of `apscheduler.triggers.cron.CronTrigger`.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::common::{self, Derived};
use super::datetimes::OwnZone;
use crate::triggers::cron::expressions::Expr;
use crate::triggers::cron::fields::{Field, FieldKind, FIELD_ORDER};
use crate::triggers::cron::Cron;
use crate::triggers::last_built::LastBuilt;

const MODULE: &str = "apscheduler.triggers.cron";

/// What `get_next_fire_time` needs, derived from the Python-visible attributes and
/// rebuilt after any of them is assigned.
struct Compiled {
    own: OwnZone,
    cron: Cron,
    jitter: Option<Py<PyAny>>,
}

impl Compiled {
    /// Whether `self` and `other` answer alike: same fields, zone object and bounds,
    /// and no jitter.
    fn is_like(&self, other: &Compiled) -> bool {
        Arc::ptr_eq(&self.cron.fields, &other.cron.fields)
            && self.own.obj.is(&other.own.obj)
            && self.cron.start_date == other.cron.start_date
            && self.cron.end_date == other.cron.end_date
            && self.jitter.is_none()
            && other.jitter.is_none()
    }

    /// The form last built, if `built` is like it; else `built`, remembered in its
    /// place. The jobs of one `add_job` call repeated (same expression and zone, no
    /// start or end date) then share one compiled trigger.
    fn shared(built: Compiled) -> Arc<Compiled> {
        static LAST: LastBuilt<Compiled> = LastBuilt::new();
        LAST.share(built, Compiled::is_like)
    }
}

#[pyclass(subclass, module = "apscheduler._core", name = "CronTrigger")]
pub struct PyCronTrigger {
    timezone: Py<PyAny>,
    start_date: Py<PyAny>,
    end_date: Py<PyAny>,
    jitter: Py<PyAny>,
    /// Shared with the compiled schedule, and between triggers of the same expressions.
    fields: Arc<[Field]>,
    derived: Derived<Arc<Compiled>>,
}

/// The fields of recently built triggers, by the expressions they were compiled from.
///
/// Programs add many jobs of a few cron expressions; each trigger then shares the
/// compiled fields of an earlier one instead of parsing and holding its own copy.
/// Compiled fields never change once built (assigning `fields` replaces them whole).
/// The lock is taken only with the GIL held and no Python code runs under it.
fn compile_fields_shared(given: &[(FieldKind, String)]) -> Result<Arc<[Field]>, String> {
    type Recent = Vec<(Vec<(FieldKind, String)>, Arc<[Field]>)>;
    static RECENT: parking_lot::Mutex<Recent> = parking_lot::Mutex::new(Vec::new());
    const KEPT: usize = 16;
    if let Some((_, fields)) = RECENT.lock().iter().find(|(key, _)| key.as_slice() == given) {
        return Ok(fields.clone());
    }
    let fields: Arc<[Field]> = Cron::compile_fields(given)?.into();
    let mut recent = RECENT.lock();
    if recent.len() >= KEPT {
        recent.remove(0);
    }
    recent.push((given.to_vec(), fields.clone()));
    Ok(fields)
}

fn text_of(value: &Bound<'_, PyAny>) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow()?.into_owned()),
        Err(_) => Ok(value.str()?.to_cow()?.into_owned()),
    }
}

impl PyCronTrigger {
    fn compiled(&self, py: Python<'_>) -> PyResult<Arc<Compiled>> {
        self.derived.get(|| Ok(Compiled::shared(self.build(py)?)))
    }

    fn build(&self, py: Python<'_>) -> PyResult<Compiled> {
        if self.fields.len() != FIELD_ORDER.len() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("CronTrigger has not been initialised"));
        }
        // Built without the lock held: reading the attributes calls into Python.
        let own = OwnZone::new(self.timezone.bind(py))?;
        let bound_date = |date: &Py<PyAny>| -> PyResult<_> {
            let date = date.bind(py);
            if date.is_none() { Ok(None) } else { Ok(Some(own.read(date, false)?.0)) }
        };
        let start_date = bound_date(&self.start_date)?;
        let end_date = bound_date(&self.end_date)?;
        let jitter = common::truthy_jitter(self.jitter.bind(py))?;
        Ok(Compiled { cron: Cron::new(self.fields.clone(), start_date, end_date), own, jitter })
    }

    fn invalidate(&self) {
        self.derived.invalidate();
    }

    /// The least common multiple of the year field's steps: the trigger's fire times
    /// repeat with a period of 400 times this many years once DST rules are periodic.
    pub fn year_period(&self) -> u64 {
        let Some(year) = self.fields.first() else { return 1 };
        year.expressions().iter().fold(1u64, |period, expr| {
            let step = match expr {
                Expr::All { step } | Expr::Range { step, .. } => step.and_then(|s| u64::try_from(s).ok()).unwrap_or(1),
                _ => 1,
            };
            lcm(period, step.max(1))
        })
    }
}

fn lcm(a: u64, b: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    (a / gcd(a, b)).saturating_mul(b)
}

/// An expression as the tuple the Python expression classes are built from.
fn expression_spec<'py>(py: Python<'py>, expr: &Expr) -> PyResult<Bound<'py, PyTuple>> {
    let none = || py.None();
    let num = |n: i128| -> PyResult<Py<PyAny>> { Ok(n.into_pyobject(py)?.into_any().unbind()) };
    let opt = |n: Option<i128>| -> PyResult<Py<PyAny>> { n.map_or_else(|| Ok(none()), num) };
    let items: Vec<Py<PyAny>> = match *expr {
        Expr::All { step } => vec![PyString::new(py, "all").into_any().unbind(), opt(step)?],
        Expr::Range { first, last, step } => {
            vec![PyString::new(py, "range").into_any().unbind(), num(first)?, opt(last)?, opt(step)?]
        }
        Expr::MonthRange { first, last } => {
            vec![PyString::new(py, "month").into_any().unbind(), num(first)?, num(last)?]
        }
        Expr::WeekdayRange { first, last } => {
            vec![PyString::new(py, "weekday").into_any().unbind(), num(first)?, num(last)?]
        }
        Expr::WeekdayPosition { position, weekday } => vec![
            PyString::new(py, "position").into_any().unbind(),
            num(i128::from(position))?,
            num(i128::from(weekday))?,
        ],
        Expr::LastDayOfMonth => vec![PyString::new(py, "last").into_any().unbind()],
    };
    PyTuple::new(py, items)
}

fn field_kind(name: &str) -> PyResult<FieldKind> {
    FieldKind::from_name(name).ok_or_else(|| PyValueError::new_err(format!("Unknown cron field \"{name}\"")))
}

/// Compiles one field's text into expression tuples, with the reference's errors.
#[pyfunction]
pub fn parse_field<'py>(py: Python<'py>, name: &str, exprs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let field = Field::parse(field_kind(name)?, &text_of(exprs)?, false).map_err(PyValueError::new_err)?;
    let specs = field.expressions().iter().map(|e| expression_spec(py, e)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, specs)
}

/// The next value one expression allows for a field at a date (see `fields.py`).
#[pyfunction]
pub fn expression_next_value(
    name: &str,
    text: &str,
    date: &Bound<'_, PyAny>,
) -> PyResult<Option<i64>> {
    let kind = field_kind(name)?;
    let field = Field::parse(kind, text, false).map_err(PyValueError::new_err)?;
    let (local, _, _) = super::zones::read_state(date)?;
    Ok(field.next_value(local))
}

/// An expression object of `apscheduler.triggers.cron.expressions` (or a subclass)
/// as a core expression, read from the attributes its pickled form carries.
fn expression_from_object(expr: &Bound<'_, PyAny>) -> PyResult<Expr> {
    let optional = |name: &str| -> PyResult<Option<i128>> {
        let value = expr.getattr(name)?;
        if value.is_none() { Ok(None) } else { value.extract().map(Some) }
    };
    let required = |name: &str| -> PyResult<i128> {
        optional(name)?.ok_or_else(|| PyValueError::new_err(format!("cron expression has no {name}")))
    };
    for class in expr.get_type().mro() {
        let name = class.getattr("__name__")?;
        let expression = match &*text_of(&name)? {
            "LastDayOfMonthExpression" => Expr::LastDayOfMonth,
            "WeekdayPositionExpression" => Expr::WeekdayPosition {
                position: required("option_num")?.clamp(0, 5) as u8,
                weekday: required("weekday")?.clamp(0, 6) as u8,
            },
            "MonthRangeExpression" => {
                let first = required("first")?;
                Expr::MonthRange { first, last: optional("last")?.unwrap_or(first) }
            }
            "WeekdayRangeExpression" => {
                let first = required("first")?;
                Expr::WeekdayRange { first, last: optional("last")?.unwrap_or(first) }
            }
            "RangeExpression" => Expr::Range {
                first: required("first")?,
                last: optional("last")?,
                step: optional("step")?.filter(|&s| s != 0),
            },
            "AllExpression" => Expr::All { step: optional("step")?.filter(|&s| s != 0) },
            _ => continue,
        };
        return Ok(expression);
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!("not a cron expression: {}", expr.repr()?)))
}

impl common::NativeTrigger for PyCronTrigger {
    fn cached_utc(&self, value: &Bound<'_, PyAny>) -> Option<i64> {
        self.derived.last.lookup(value).map(|aware| aware.utc())
    }

    fn is_deterministic(&self, py: Python<'_>) -> bool {
        self.jitter.bind(py).is_none()
    }

    fn runs_no_python(&self) -> bool {
        self.derived.is_built_and(|compiled| compiled.jitter.is_none() && compiled.own.is_native())
    }

    fn next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.get_next_fire_time(py, previous_fire_time, now)
    }
}

#[pymethods]
impl PyCronTrigger {
    /// An empty trigger; `__init__` (or `__setstate__` when unpickling) fills it in.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(py: Python<'_>, _args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> PyCronTrigger {
        PyCronTrigger {
            timezone: py.None(),
            start_date: py.None(),
            end_date: py.None(),
            jitter: py.None(),
            fields: Arc::from(Vec::new()),
            derived: Derived::default(),
        }
    }

    /// `CronTrigger.__init__`, with the reference's signature; PyO3 reports wrong calls
    /// with the reference's messages since the class and method carry its names. It is
    /// a method rather than part of `__new__` so that subclasses can call
    /// `super().__init__(...)`.
    #[pyo3(name = "__init__", signature = (year=None, month=None, day=None, week=None, day_of_week=None,
                        hour=None, minute=None, second=None, start_date=None, end_date=None,
                        timezone=None, jitter=None, *extra))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn init(
        &mut self,
        py: Python<'_>,
        year: Option<&Bound<'_, PyAny>>,
        month: Option<&Bound<'_, PyAny>>,
        day: Option<&Bound<'_, PyAny>>,
        week: Option<&Bound<'_, PyAny>>,
        day_of_week: Option<&Bound<'_, PyAny>>,
        hour: Option<&Bound<'_, PyAny>>,
        minute: Option<&Bound<'_, PyAny>>,
        second: Option<&Bound<'_, PyAny>>,
        start_date: Option<&Bound<'_, PyAny>>,
        end_date: Option<&Bound<'_, PyAny>>,
        timezone: Option<&Bound<'_, PyAny>>,
        jitter: Option<&Bound<'_, PyAny>>,
        extra: &Bound<'_, PyTuple>,
    ) -> PyResult<()> {
        if !extra.is_empty() {
            // Python counts `self` in this message.
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "CronTrigger.__init__() takes from 1 to 13 positional arguments but {} were given",
                extra.len() + 13
            )));
        }
        let tz = common::trigger_timezone(py, timezone, start_date, end_date, MODULE)?;
        let none = py.None().into_bound(py);
        let start_date = common::convert_to_datetime(start_date.unwrap_or(&none), &tz, "start_date")?;
        let end_date = common::convert_to_datetime(end_date.unwrap_or(&none), &tz, "end_date")?;
        let values = [year, month, day, week, day_of_week, hour, minute, second];
        let mut given = Vec::with_capacity(8);
        for (kind, value) in FIELD_ORDER.iter().zip(values) {
            if let Some(value) = value.filter(|v| !v.is_none()) {
                given.push((*kind, text_of(value)?));
            }
        }
        self.fields = compile_fields_shared(&given).map_err(PyValueError::new_err)?;
        self.timezone = tz.unbind();
        self.start_date = start_date.unbind();
        self.end_date = end_date.unbind();
        self.jitter = jitter.map_or_else(|| py.None(), |j| j.clone().unbind());
        self.invalidate();
        Ok(())
    }

    fn get_next_fire_time(
        &self,
        py: Python<'_>,
        previous_fire_time: &Bound<'_, PyAny>,
        now: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let compiled = self.compiled(py)?;
        let own = &compiled.own;
        let (previous, now) = common::read_times(own, &self.derived.last, previous_fire_time, now, true)?;
        let previous = previous.as_ref().map(|(aware, flipped)| (aware, *flipped));
        let mut jitter = common::LazyJitter { py, jitter: compiled.jitter.as_ref(), error: None };
        let next = compiled.cron.next_fire_time(&own.zone, own.id(), previous, &now, || jitter.draw_micros())?;
        let next = jitter.finish(next)?;
        common::write_time(py, own, &self.derived.last, next)
    }

    #[getter]
    fn timezone(&self, py: Python<'_>) -> Py<PyAny> {
        self.timezone.clone_ref(py)
    }

    #[setter]
    fn set_timezone(&mut self, value: Py<PyAny>) {
        self.timezone = value;
        self.invalidate();
    }

    #[getter]
    fn start_date(&self, py: Python<'_>) -> Py<PyAny> {
        self.start_date.clone_ref(py)
    }

    #[setter]
    fn set_start_date(&mut self, value: Py<PyAny>) {
        self.start_date = value;
        self.invalidate();
    }

    #[getter]
    fn end_date(&self, py: Python<'_>) -> Py<PyAny> {
        self.end_date.clone_ref(py)
    }

    #[setter]
    fn set_end_date(&mut self, value: Py<PyAny>) {
        self.end_date = value;
        self.invalidate();
    }

    #[getter]
    fn jitter(&self, py: Python<'_>) -> Py<PyAny> {
        self.jitter.clone_ref(py)
    }

    #[setter]
    fn set_jitter(&mut self, value: Py<PyAny>) {
        self.jitter = value;
        self.invalidate();
    }

    /// The fields as objects of `apscheduler.triggers.cron.fields`, built on demand.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let described = self
            .fields
            .iter()
            .map(|field| -> PyResult<_> {
                let specs = field.expressions().iter().map(|e| expression_spec(py, e)).collect::<PyResult<Vec<_>>>()?;
                Ok((field.kind.name(), field.is_default, PyList::new(py, specs)?))
            })
            .collect::<PyResult<Vec<_>>>()?;
        py.import("apscheduler.triggers.cron.fields")?.getattr("_build_fields")?.call1((described,))
    }

    /// Accepts field objects (ours, or the reference's as unpickled) by their name,
    /// `is_default` and the attributes of their expressions. (Their text would not do:
    /// `0-0/2` prints as `0/2`, which means something else.)
    #[setter]
    fn set_fields(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut fields = Vec::new();
        for item in value.try_iter()? {
            let item = item?;
            let kind = field_kind(&text_of(&item.getattr("name")?)?)?;
            let is_default = item.getattr("is_default")?.is_truthy()?;
            let expressions = item
                .getattr("expressions")?
                .try_iter()?
                .map(|expr| expression_from_object(&expr?))
                .collect::<PyResult<Vec<_>>>()?;
            fields.push(Field::new(kind, expressions, is_default));
        }
        if fields.iter().map(|f| f.kind).ne(FIELD_ORDER) {
            return Err(PyValueError::new_err("CronTrigger.fields must hold the eight fields in order"));
        }
        self.fields = fields.into();
        self.invalidate();
        Ok(())
    }

    /// `(name, text)` of each field given explicitly, for `str()` and `repr()`.
    fn _field_texts(&self) -> Vec<(&'static str, String)> {
        self.fields.iter().filter(|f| !f.is_default).map(|f| (f.kind.name(), f.to_string())).collect()
    }
}
