//! Datetimes read and made without a Python call.
//!
//! The stable ABI offers no accessor for a datetime's fields, so they used to be read
//! from its pickled state (`__reduce_ex__`), with the answers remembered per object,
//! and datetimes were made by calling the class with a pickled state. Both cost a
//! Python call and a bytes object, and the pass, the add path and every pool run read
//! or make datetimes.
//!
//! Here a datetime's fields are read where CPython keeps them in the object, and new
//! datetimes are made by the constructor the `datetime` module exports to C extensions
//! in its capsule (`PyDateTime_CAPI`, whose layout only ever grew at its end). Where
//! each field lives is not assumed: it is found once, with probe datetimes whose
//! fields are known, and checked on a second probe and on a datetime made through the
//! capsule. If anything does not match, `LAYOUT` is `None` and callers keep the
//! pickled-state way.

use std::ffi::{c_int, c_void};

use chrono::{Datelike, NaiveDateTime, Timelike};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use super::slots::{fields_holding, read_slot};
use crate::time::civil;

/// `DateTime_FromDateAndTimeAndFold(year, month, day, hour, minute, second, usecond,
/// tzinfo, fold, type)` of the capsule.
type MakeDatetime = unsafe extern "C" fn(c_int, c_int, c_int, c_int, c_int, c_int, c_int, *mut ffi::PyObject, c_int, *mut ffi::PyTypeObject) -> *mut ffi::PyObject;

/// The start of `PyDateTime_CAPI` (CPython 3.7 and later), up to the constructor used.
#[repr(C)]
struct DatetimeCapi {
    date_type: *mut ffi::PyTypeObject,
    datetime_type: *mut ffi::PyTypeObject,
    time_type: *mut ffi::PyTypeObject,
    delta_type: *mut ffi::PyTypeObject,
    tzinfo_type: *mut ffi::PyTypeObject,
    timezone_utc: *mut ffi::PyObject,
    date_from_date: *const c_void,
    datetime_from_date_and_time: *const c_void,
    time_from_time: *const c_void,
    delta_from_delta: *const c_void,
    timezone_from_timezone: *const c_void,
    datetime_from_timestamp: *const c_void,
    date_from_timestamp: *const c_void,
    datetime_from_date_and_time_and_fold: Option<MakeDatetime>,
}

/// Where a `datetime.datetime` keeps its fields, and how to make one.
pub struct Layout {
    class: Py<PyType>,
    /// The 10 bytes of year (2, big-endian), month, day, hour, minute, second and
    /// microsecond (3, big-endian): the same bytes as the pickled state.
    data: usize,
    fold: usize,
    has_tzinfo: usize,
    tzinfo: usize,
    make: MakeDatetime,
}

// SAFETY: the fields are offsets, a function pointer of the `datetime` module (loaded
// for the life of the process) and a class reference only used with the GIL held.
unsafe impl Send for Layout {}
unsafe impl Sync for Layout {}

/// The datetime layout of this interpreter, `None` when it could not be confirmed.
pub fn layout(py: Python<'_>) -> Option<&'static Layout> {
    static LAYOUT: PyOnceLock<Option<Layout>> = PyOnceLock::new();
    LAYOUT.get_or_init(py, || find_layout(py).ok().flatten()).as_ref()
}

/// A datetime's fields as `read_state` answers them: wall-clock time, fold, tzinfo.
pub type Fields<'py> = (NaiveDateTime, bool, Option<Bound<'py, PyAny>>);

impl Layout {
    /// The fields of `dt`, when it is exactly a `datetime.datetime` (a subclass may
    /// add fields of its own, or have been made by another interpreter's rules).
    pub fn read<'py>(&self, dt: &Bound<'py, PyAny>) -> Option<Fields<'py>> {
        if !std::ptr::eq(dt.get_type_ptr(), self.class.as_ptr().cast()) {
            return None;
        }
        let byte = |offset: usize| -> u8 {
            // SAFETY: `dt` is a live datetime, whose layout the probes confirmed; each
            // offset is within its basic size.
            unsafe { *dt.as_ptr().cast::<u8>().add(offset) }
        };
        let data: [u8; 10] = std::array::from_fn(|index| byte(self.data + index));
        let local = naive_from_state(&data)?;
        // A naive datetime is allocated without the tzinfo field: it is read only when
        // the datetime has one.
        let tzinfo = if byte(self.has_tzinfo) != 0 {
            let pointer = read_slot(dt, self.tzinfo);
            // SAFETY: a datetime with a tzinfo holds a strong reference to it.
            (!pointer.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(dt.py(), pointer) })
        } else {
            None
        };
        Some((local, byte(self.fold) != 0, tzinfo))
    }

    /// A new `datetime.datetime` of `local` in `tz` with `fold`.
    pub fn make<'py>(&self, py: Python<'py>, local: NaiveDateTime, tz: Option<&Bound<'py, PyAny>>, fold: bool) -> PyResult<Bound<'py, PyAny>> {
        let tzinfo = tz.map_or_else(|| py.None().into_ptr(), |tz| tz.clone().into_ptr());
        // SAFETY: the capsule's constructor, called with the GIL held; it takes its own
        // reference to `tzinfo` (ours is released below) and returns a new reference or
        // NULL with an exception set.
        let made = unsafe {
            let made = (self.make)(
                local.year(),
                local.month() as c_int,
                local.day() as c_int,
                local.hour() as c_int,
                local.minute() as c_int,
                local.second() as c_int,
                civil::microsecond(local) as c_int,
                tzinfo,
                c_int::from(fold),
                self.class.as_ptr().cast::<ffi::PyTypeObject>(),
            );
            ffi::Py_DecRef(tzinfo);
            Bound::from_owned_ptr_or_err(py, made)
        };
        made
    }
}

/// A datetime's wall-clock time from its 10 state bytes (the month byte without the
/// fold bit).
pub fn naive_from_state(state: &[u8; 10]) -> Option<NaiveDateTime> {
    let year = (i32::from(state[0]) << 8) | i32::from(state[1]);
    let micro = (u32::from(state[7]) << 16) | (u32::from(state[8]) << 8) | u32::from(state[9]);
    civil::naive(year, u32::from(state[2] & 0x7f), u32::from(state[3]), u32::from(state[4]), u32::from(state[5]), u32::from(state[6]), micro)
}

fn find_layout(py: Python<'_>) -> PyResult<Option<Layout>> {
    let module = py.import("datetime")?;
    let class = module.getattr("datetime")?.cast_into::<PyType>()?;
    // SAFETY: `PyCapsule_Import` returns the capsule's pointer or NULL with an
    // exception set; the struct's start is the same in every CPython since 3.7.
    let capi = unsafe { ffi::PyCapsule_Import(c"datetime.datetime_CAPI".as_ptr(), 0).cast::<DatetimeCapi>() };
    if capi.is_null() {
        let _ = PyErr::take(py);
        return Ok(None);
    }
    // SAFETY: a non-NULL capsule pointer is the module's static API struct.
    let (capsule_class, make) = unsafe { ((*capi).datetime_type, (*capi).datetime_from_date_and_time_and_fold) };
    let Some(make) = make else { return Ok(None) };
    if capsule_class.cast::<ffi::PyObject>() != class.as_ptr() {
        return Ok(None);
    }
    let size: usize = class.getattr("__basicsize__")?.extract()?;
    let utc = module.getattr("timezone")?.getattr("utc")?;

    // The first probe: fields that spell a pattern found nowhere else in the object.
    let kwargs = PyDict::new(py);
    kwargs.set_item("tzinfo", &utc)?;
    kwargs.set_item("fold", 1)?;
    let probe = class.call((2001, 2, 3, 4, 5, 6, 0x07_0809), Some(&kwargs))?;
    let expected: [u8; 10] = [0x07, 0xd1, 2, 3, 4, 5, 6, 0x07, 0x08, 0x09];
    let bytes = |object: &Bound<'_, PyAny>, offset: usize| -> u8 {
        // SAFETY: offsets stay below the class's basic size, within the object.
        unsafe { *object.as_ptr().cast::<u8>().add(offset) }
    };
    let matches: Vec<usize> = (1..size.saturating_sub(10)).filter(|&offset| (0..10).all(|index| bytes(&probe, offset + index) == expected[index])).collect();
    let [data] = matches[..] else { return Ok(None) };
    let (has_tzinfo, fold) = (data - 1, data + 10);
    let [tzinfo] = fields_holding(&probe, size, &utc)[..] else { return Ok(None) };
    if bytes(&probe, has_tzinfo) != 1 || bytes(&probe, fold) != 1 || tzinfo < fold {
        return Ok(None);
    }
    let layout = Layout { class: class.clone().unbind(), data, fold, has_tzinfo, tzinfo, make };

    // Checks: a naive datetime with fold 0 reads back, and a datetime made through the
    // capsule equals the one Python makes.
    let naive = class.call1((1999, 12, 31, 23, 59, 58, 1))?;
    let Some((local, false, None)) = layout.read(&naive) else { return Ok(None) };
    if civil::naive(1999, 12, 31, 23, 59, 58, 1) != Some(local) {
        return Ok(None);
    }
    let Some((local, true, Some(tz))) = layout.read(&probe) else { return Ok(None) };
    let made = layout.make(py, local, Some(&tz), true)?;
    let same = made.eq(&probe)? && made.getattr("fold")?.extract::<i32>()? == 1 && made.getattr("tzinfo")?.is(&utc);
    Ok(same.then_some(layout))
}
