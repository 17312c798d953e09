//! Python `tzinfo` objects as core time zones.
//!
//! `zoneinfo.ZoneInfo` and `datetime.timezone` are answered in Rust (the former from the
//! same TZif file zoneinfo reads); any other tzinfo (dateutil, a user's own class) is
//! asked through its Python methods, so every zone the reference accepts works.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{Datelike, NaiveDateTime, Timelike};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDateTime, PyDelta, PyDeltaAccess, PyString};

use super::datetime_layout;
use crate::time::civil;
use crate::time::tzif::TzifZone;
use crate::time::{Micros, TimeZone, Zone};

/// A trigger's zone: native where possible, otherwise the Python object itself.
#[derive(Debug)]
pub enum AnyZone {
    Native(Zone),
    Python(Py<PyAny>),
}

impl Clone for AnyZone {
    fn clone(&self) -> Self {
        match self {
            AnyZone::Native(zone) => AnyZone::Native(zone.clone()),
            AnyZone::Python(obj) => Python::attach(|py| AnyZone::Python(obj.clone_ref(py))),
        }
    }
}

impl TimeZone for AnyZone {
    type Error = PyErr;

    fn utcoffset(&self, local: NaiveDateTime, fold: bool) -> PyResult<i64> {
        match self {
            AnyZone::Native(zone) => Ok(zone.utcoffset(local, fold).unwrap_or_else(|never| match never {})),
            AnyZone::Python(tz) => Python::attach(|py| {
                let tz = tz.bind(py);
                let dt = new_datetime(py, local, Some(tz), fold)?;
                let offset = tz.call_method1(pyo3::intern!(py, "utcoffset"), (dt,))?;
                delta_micros(&offset).ok_or_else(|| {
                    pyo3::exceptions::PyValueError::new_err("tzinfo.utcoffset() returned None")
                })
            }),
        }
    }

    fn fromutc(&self, utc: Micros) -> PyResult<(i64, bool)> {
        match self {
            AnyZone::Native(zone) => Ok(zone.fromutc(utc).unwrap_or_else(|never| match never {})),
            AnyZone::Python(tz) => Python::attach(|py| {
                let tz = tz.bind(py);
                let utc_naive = civil::micros_to_naive(utc)
                    .ok_or_else(|| pyo3::exceptions::PyOverflowError::new_err("date value out of range"))?;
                let dt = new_datetime(py, utc_naive, Some(tz), false)?;
                let local = tz.call_method1(pyo3::intern!(py, "fromutc"), (dt,))?;
                let (local, fold, _) = read_state(&local)?;
                Ok((civil::naive_to_micros(local) - utc, fold))
            }),
        }
    }
}

/// Microseconds of a `timedelta`, `None` for anything else (such as `None`).
pub fn delta_micros(value: &Bound<'_, PyAny>) -> Option<i64> {
    let delta = value.cast::<PyDelta>().ok()?;
    Some(
        i64::from(delta.get_days()) * 86_400_000_000
            + i64::from(delta.get_seconds()) * 1_000_000
            + i64::from(delta.get_microseconds()),
    )
}

/// A new `datetime.datetime` of `local` in `tz` with `fold`: through the `datetime`
/// module's C constructor where `datetime_layout` confirmed it, otherwise from its
/// pickled form.
pub fn new_datetime<'py>(
    py: Python<'py>,
    local: NaiveDateTime,
    tz: Option<&Bound<'py, PyAny>>,
    fold: bool,
) -> PyResult<Bound<'py, PyDateTime>> {
    let value = match datetime_layout::layout(py) {
        Some(layout) => layout.make(py, local, tz, fold)?,
        None => new_datetime_from_state(py, local, tz, fold)?,
    };
    // SAFETY: both ways make an instance of `datetime.datetime` itself.
    Ok(unsafe { value.cast_into_unchecked::<PyDateTime>() })
}

/// `datetime(state, tzinfo)` with the 10-byte pickled state (fold in the month byte's
/// high bit), the one constructor path CPython keeps stable for pickles since 3.6. In
/// the stable ABI it costs one positional call, where the field-by-field constructor
/// takes keyword arguments.
fn new_datetime_from_state<'py>(py: Python<'py>, local: NaiveDateTime, tz: Option<&Bound<'py, PyAny>>, fold: bool) -> PyResult<Bound<'py, PyAny>> {
    let year = local.year();
    let micro = civil::microsecond(local);
    let state = [
        (year >> 8) as u8,
        (year & 0xff) as u8,
        local.month() as u8 | if fold { 0x80 } else { 0 },
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
        (micro >> 16) as u8,
        ((micro >> 8) & 0xff) as u8,
        (micro & 0xff) as u8,
    ];
    let state = PyBytes::new(py, &state);
    let datetime = datetime_type(py)?;
    match tz {
        Some(tz) => datetime.call1((state, tz)),
        None => datetime.call1((state,)),
    }
}

pub fn datetime_type(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static DATETIME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(DATETIME
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("datetime")?.getattr("datetime")?.unbind()) })?
        .bind(py))
}

/// Wall-clock fields, fold and tzinfo of a datetime: read in place where
/// `datetime_layout` confirmed where they live, otherwise (a subclass, an interpreter
/// whose layout the probes could not confirm) from its pickled state
/// (`__reduce_ex__(4)`, one call instead of an attribute lookup per field).
pub fn read_state<'py>(dt: &Bound<'py, PyAny>) -> PyResult<(NaiveDateTime, bool, Option<Bound<'py, PyAny>>)> {
    match datetime_layout::layout(dt.py()).and_then(|layout| layout.read(dt)) {
        Some(fields) => Ok(fields),
        None => read_state_uncached(dt),
    }
}

fn read_state_uncached<'py>(dt: &Bound<'py, PyAny>) -> PyResult<(NaiveDateTime, bool, Option<Bound<'py, PyAny>>)> {
    let py = dt.py();
    let reduced = dt.call_method1(pyo3::intern!(py, "__reduce_ex__"), (4,))?;
    let args = reduced.get_item(1)?;
    let state = args.get_item(0)?;
    let bytes: &[u8; 10] = state
        .cast::<PyBytes>()?
        .as_bytes()
        .try_into()
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("unexpected datetime state"))?;
    let tz = if args.len()? > 1 { Some(args.get_item(1)?) } else { None };
    let local = datetime_layout::naive_from_state(bytes).ok_or_else(|| pyo3::exceptions::PyValueError::new_err("datetime out of range"))?;
    Ok((local, bytes[2] & 0x80 != 0, tz))
}

/// The system clock in microseconds since the epoch, UTC, truncated as
/// `datetime.now()` truncates it.
pub(crate) fn now_utc_micros() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

/// `datetime.now(tz)`, plus `step` microseconds of wall-clock time (as adding a
/// `timedelta` to it would, which sets `fold` to 0), computed natively for a zone the
/// core knows; `None` for any other zone, or out of range. Like every datetime made
/// here, it is remembered as read.
pub fn now_plus<'py>(tz: &Bound<'py, PyAny>, step: i64) -> PyResult<Option<Bound<'py, PyAny>>> {
    let AnyZone::Native(zone) = resolve(tz)? else { return Ok(None) };
    let utc = now_utc_micros();
    let (offset, fold) = zone.fromutc(utc).unwrap_or_else(|never| match never {});
    let fold = fold && step == 0;
    let Some(local) = civil::micros_to_naive(utc + offset + step) else { return Ok(None) };
    let now = new_datetime(tz.py(), local, Some(tz), fold)?.into_any();
    Ok(Some(now))
}

/// The instant of a datetime in microseconds since the epoch, UTC; a naive datetime
/// counts as UTC (what `apscheduler.util.datetime_to_utc_timestamp` computes).
pub fn utc_micros(dt: &Bound<'_, PyAny>) -> PyResult<i64> {
    let (local, fold, tz) = read_state(dt)?;
    let offset = match tz.filter(|tz| !tz.is_none()) {
        // A zone the core knows answers utcoffset() as the tzinfo would, without the
        // call and the timedelta it returns (a plain datetime only: a subclass may
        // answer otherwise).
        Some(tz) if dt.is_exact_instance(datetime_type(dt.py())?) => match resolve(&tz)? {
            AnyZone::Native(zone) => zone.utcoffset(local, fold).unwrap_or_else(|never| match never {}),
            AnyZone::Python(_) => python_utcoffset(dt)?,
        },
        Some(_) => python_utcoffset(dt)?,
        None => 0,
    };
    Ok(civil::naive_to_micros(local) - offset)
}

fn python_utcoffset(dt: &Bound<'_, PyAny>) -> PyResult<i64> {
    Ok(delta_micros(&dt.call_method0(pyo3::intern!(dt.py(), "utcoffset"))?).unwrap_or(0))
}

struct ZoneTypes {
    zoneinfo: Py<PyAny>,
    fixed: Py<PyAny>,
    tzpath: Vec<String>,
}

fn zone_types(py: Python<'_>) -> PyResult<&'static ZoneTypes> {
    static TYPES: PyOnceLock<ZoneTypes> = PyOnceLock::new();
    TYPES.get_or_try_init(py, || {
        let zoneinfo = py.import("zoneinfo")?;
        Ok(ZoneTypes {
            zoneinfo: zoneinfo.getattr("ZoneInfo")?.unbind(),
            fixed: py.import("datetime")?.getattr("timezone")?.unbind(),
            tzpath: zoneinfo.getattr("TZPATH")?.extract()?,
        })
    })
}

/// TZif zones by key; a zone's data never changes while the process runs.
fn tzif_cache() -> &'static Mutex<HashMap<String, Arc<TzifZone>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<TzifZone>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The TZif data `ZoneInfo(key)` reads: the first match on `zoneinfo.TZPATH`, else the
/// `tzdata` package.
fn load_tzif(py: Python<'_>, key: &str, tzpath: &[String]) -> Option<Arc<TzifZone>> {
    if let Some(zone) = tzif_cache().lock().get(key) {
        return Some(zone.clone());
    }
    if key.is_empty() || key.starts_with('/') || key.split('/').any(|part| part == "..") {
        return None;
    }
    let bytes = tzpath
        .iter()
        .map(|dir| std::path::Path::new(dir).join(key))
        .find(|path| path.is_file())
        .and_then(|path| std::fs::read(path).ok())
        .or_else(|| {
            let common = py.import("zoneinfo._common").ok()?;
            let file = common.call_method1("load_tzdata", (key,)).ok()?;
            let data = file.call_method0("read").ok()?;
            let _ = file.call_method0("close");
            data.extract::<Vec<u8>>().ok()
        })?;
    let zone = Arc::new(TzifZone::parse(&bytes).ok()?);
    tzif_cache().lock().insert(key.to_owned(), zone.clone());
    Some(zone)
}

/// Zones resolved lately, with a reference to each tzinfo (so that its address is not
/// reused): every trigger resolves its zone, and a program uses a few zones.
///
/// Like the other small caches of the bindings (intervals, function references, passed
/// argument checks), its lock is only taken by a thread holding the GIL and let go
/// before any Python code runs or any object is released: no thread can wait on it for
/// the GIL, and a process forked (with the GIL held) finds it free.
type RecentZones = Vec<(Py<PyAny>, AnyZone)>;
static RECENT_ZONES: Mutex<RecentZones> = Mutex::new(Vec::new());
const RECENT_ZONES_KEPT: usize = 16;

/// Chooses how to compute with a tzinfo object.
pub fn resolve(tz: &Bound<'_, PyAny>) -> PyResult<AnyZone> {
    let found = RECENT_ZONES.lock().iter().find(|(kept, _)| kept.is(tz)).map(|(_, zone)| zone_copy(tz.py(), zone));
    if let Some(zone) = found {
        return Ok(zone);
    }
    let zone = resolve_uncached(tz)?;
    let copy = zone_copy(tz.py(), &zone);
    let evicted = {
        let mut recent = RECENT_ZONES.lock();
        let evicted: RecentZones = if recent.len() >= RECENT_ZONES_KEPT { recent.drain(..RECENT_ZONES_KEPT / 2).collect() } else { Vec::new() };
        recent.push((tz.clone().unbind(), copy));
        evicted
    };
    // Released after the lock: dropping a tzinfo may run Python code.
    drop(evicted);
    Ok(zone)
}

/// A copy of `zone`; a Python zone's object is shared, with the GIL already held.
fn zone_copy(py: Python<'_>, zone: &AnyZone) -> AnyZone {
    match zone {
        AnyZone::Native(zone) => AnyZone::Native(zone.clone()),
        AnyZone::Python(obj) => AnyZone::Python(obj.clone_ref(py)),
    }
}

fn resolve_uncached(tz: &Bound<'_, PyAny>) -> PyResult<AnyZone> {
    let py = tz.py();
    let types = zone_types(py)?;
    let tz_type = tz.get_type();
    if tz_type.is(types.fixed.bind(py)) {
        if let Some(offset) = delta_micros(&tz.call_method1("utcoffset", (py.None(),))?) {
            return Ok(AnyZone::Native(Zone::Fixed(offset)));
        }
    } else if tz_type.is(types.zoneinfo.bind(py)) {
        let key = tz.getattr(pyo3::intern!(py, "key"))?;
        if let Ok(key) = key.cast::<PyString>() {
            if let Some(zone) = load_tzif(py, &key.to_cow()?, &types.tzpath) {
                return Ok(AnyZone::Native(Zone::Tzif(zone)));
            }
        }
    }
    Ok(AnyZone::Python(tz.clone().unbind()))
}
