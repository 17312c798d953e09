//! What every native trigger class shares: resolving constructor arguments the way the
//! reference's `apscheduler.util` does, drawing jitter, and remembering its last result.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDateTime, PyDict, PyString, PyTzInfoAccess};

use super::datetimes::OwnZone;
use crate::time::Aware;

fn cached<'py>(py: Python<'py>, cell: &'static PyOnceLock<Py<PyAny>>, module: &str, name: &str) -> PyResult<&'py Bound<'py, PyAny>> {
    Ok(cell.get_or_try_init(py, || -> PyResult<_> { Ok(py.import(module)?.getattr(name)?.unbind()) })?.bind(py))
}

/// `apscheduler.util.astimezone`, answering the common cases without a Python call.
pub fn astimezone<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    static ZONEINFO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    static UTIL_ASTIMEZONE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = value.py();
    let zoneinfo = cached(py, &ZONEINFO, "zoneinfo", "ZoneInfo")?;
    if let Ok(name) = value.cast::<PyString>() {
        if name.to_cow()? == "UTC" {
            return Ok(super::datetimes::utc_tz(py)?.clone());
        }
        return zoneinfo.call1((name,));
    }
    if value.get_type().is(zoneinfo) {
        return Ok(value.clone());
    }
    cached(py, &UTIL_ASTIMEZONE, "apscheduler.util", "astimezone")?.call1((value,))
}

/// `apscheduler.util.convert_to_datetime`, skipping the call for `None` and aware
/// datetimes, which it returns unchanged.
pub fn convert_to_datetime<'py>(value: &Bound<'py, PyAny>, tz: &Bound<'py, PyAny>, arg_name: &str) -> PyResult<Bound<'py, PyAny>> {
    static CONVERT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    if value.is_none() {
        return Ok(value.clone());
    }
    if let Ok(dt) = value.cast::<PyDateTime>() {
        if dt.get_tzinfo().is_some() {
            return Ok(value.clone());
        }
    }
    cached(value.py(), &CONVERT, "apscheduler.util", "convert_to_datetime")?.call1((value, tz, arg_name))
}

/// The zone a trigger falls back on: `get_localzone` as found in the trigger's own
/// module at call time, so that patching it there works as with the reference.
pub fn local_zone<'py>(py: Python<'py>, module: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import(module)?.getattr("get_localzone")?.call0()
}

/// The `timezone` argument rules shared by cron and interval triggers: explicit, else
/// the start date's zone, else the end date's, else the local zone.
pub fn trigger_timezone<'py>(
    py: Python<'py>,
    timezone: Option<&Bound<'py, PyAny>>,
    start_date: Option<&Bound<'py, PyAny>>,
    end_date: Option<&Bound<'py, PyAny>>,
    module: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(tz) = timezone.filter(|tz| tz.is_truthy().unwrap_or(true)) {
        return astimezone(tz);
    }
    for date in [start_date, end_date].into_iter().flatten() {
        if let Ok(dt) = date.cast::<PyDateTime>() {
            if let Some(tz) = dt.get_tzinfo() {
                return astimezone(tz.as_any());
            }
        }
    }
    local_zone(py, module)
}

/// `random.uniform(0, jitter)`, through the `random` module so that seeding it makes
/// jitter reproducible, and with the jitter object as given, so that a bad one fails
/// with the reference's error.
pub fn draw_jitter(py: Python<'_>, jitter: &Py<PyAny>) -> PyResult<f64> {
    static RANDOM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let random = RANDOM.get_or_try_init(py, || -> PyResult<_> { Ok(py.import("random")?.unbind().into_any()) })?;
    random.bind(py).call_method1("uniform", (0, jitter.bind(py)))?.extract()
}

/// Seconds as a `timedelta` would hold them: rounded half to even to microseconds.
pub fn seconds_to_micros(seconds: f64) -> i64 {
    (seconds * 1e6).round_ties_even() as i64
}

/// The jitter when it is truthy (`_apply_jitter` ignores `None` and 0).
pub fn truthy_jitter(jitter: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
    if jitter.is_none() || !jitter.is_truthy()? {
        return Ok(None);
    }
    Ok(Some(jitter.clone().unbind()))
}

/// A jitter drawn only if a fire time was found, as `_apply_jitter` does; an error
/// from drawing is kept for the caller to raise.
pub struct LazyJitter<'a, 'py> {
    pub py: Python<'py>,
    pub jitter: Option<&'a Py<PyAny>>,
    pub error: Option<PyErr>,
}

impl LazyJitter<'_, '_> {
    pub fn draw_micros(&mut self) -> Option<i64> {
        let jitter = self.jitter?;
        match draw_jitter(self.py, jitter) {
            Ok(seconds) => Some(seconds_to_micros(seconds)),
            Err(error) => {
                self.error = Some(error);
                None
            }
        }
    }

    pub fn finish<T>(self, value: T) -> PyResult<T> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// What a trigger computes with, derived from its Python-visible attributes: built on
/// first use and dropped whenever an attribute is assigned. It also remembers the last
/// result, which belongs to the same zone.
///
/// The form is kept in the trigger object itself, and handed out as a clone: an `Arc`
/// for a large form, or a small one whose large part is an `Arc` (so that a trigger
/// does not hold a heap allocation of its own, and a pass reading it does not follow
/// one more pointer to memory nobody touched lately).
pub struct Derived<T> {
    compiled: Mutex<Option<T>>,
    pub last: LastResult,
}

impl<T> Default for Derived<T> {
    fn default() -> Self {
        Derived { compiled: Mutex::new(None), last: LastResult::default() }
    }
}

impl<T: Clone> Derived<T> {
    /// The derived form, building it if needed. `build` runs without the lock held: it
    /// reads Python attributes and may run Python code.
    pub fn get(&self, build: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
        if let Some(compiled) = self.compiled.lock().as_ref() {
            return Ok(compiled.clone());
        }
        let compiled = build()?;
        *self.compiled.lock() = Some(compiled.clone());
        Ok(compiled)
    }

    /// Whether the derived form has been built and passes `test`, without building it.
    /// `test` runs under the lock, so it must only read the form.
    pub fn is_built_and(&self, test: impl FnOnce(&T) -> bool) -> bool {
        self.compiled.lock().as_ref().is_some_and(test)
    }

    pub fn invalidate(&self) {
        // Dropped after the lock is released: dropping may release Python objects.
        let old = self.compiled.lock().take();
        drop(old);
        self.last.clear();
    }
}

/// The datetime a trigger returned last, with its decoded value. Callers usually pass
/// it straight back as `previous_fire_time`; datetimes are immutable, so the same object
/// still has the same value and needn't be decoded again.
#[derive(Default)]
pub struct LastResult(Mutex<Option<(Py<PyAny>, Aware)>>);

impl LastResult {
    pub fn lookup(&self, value: &Bound<'_, PyAny>) -> Option<Aware> {
        let guard = self.0.lock();
        let (obj, aware) = guard.as_ref()?;
        obj.is(value).then_some(*aware)
    }

    pub fn store(&self, obj: Py<PyAny>, aware: Aware) {
        // The previous object is released after the lock, since dropping a Python
        // object may run arbitrary code.
        let old = self.0.lock().replace((obj, aware));
        drop(old);
    }

    pub fn clear(&self) {
        let old = self.0.lock().take();
        drop(old);
    }
}

/// What a scheduler pass may learn from a native trigger without calling it.
pub trait NativeTrigger {
    /// The UTC instant of `value`, when it is this trigger's last result.
    fn cached_utc(&self, value: &Bound<'_, PyAny>) -> Option<i64>;
    /// Whether calling `get_next_fire_time` twice with the same arguments certainly
    /// gives the same answer (there is no jitter to draw).
    fn is_deterministic(&self, py: Python<'_>) -> bool;
    /// Whether answering certainly runs no Python code: it is compiled already, draws
    /// no jitter, and its zone is one the core knows.
    fn runs_no_python(&self) -> bool;
    /// `get_next_fire_time(previous_fire_time, now)`, called directly.
    fn next_fire_time(&self, py: Python<'_>, previous_fire_time: &Bound<'_, PyAny>, now: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>>;
}

/// Reads `previous_fire_time` or `now`, reusing the last result when it is passed back.
pub fn read_time(own: &OwnZone, last: &LastResult, value: &Bound<'_, PyAny>, want_flipped: bool) -> PyResult<(Aware, i64)> {
    match last.lookup(value) {
        Some(aware) => Ok((aware, 0)),
        None => own.read(value, want_flipped),
    }
}

/// Reads `previous_fire_time` (which may be `None`) and `now`.
pub fn read_times(
    own: &OwnZone,
    last: &LastResult,
    previous_fire_time: &Bound<'_, PyAny>,
    now: &Bound<'_, PyAny>,
    want_flipped: bool,
) -> PyResult<(Option<(Aware, i64)>, Aware)> {
    let previous = if previous_fire_time.is_none() {
        None
    } else {
        Some(read_time(own, last, previous_fire_time, want_flipped)?)
    };
    Ok((previous, read_now(own, last, now)?))
}

/// The `now` of a scheduler pass, as read for a zone: (the datetime, the zone object,
/// the reading). A pass asks each due job's trigger about the same `now`, and most
/// triggers share the scheduler's zone, in which it is given: it is read once for them
/// all. Both objects are held, so their addresses stay theirs while remembered.
/// (Its lock follows the rule of `zones::RECENT_ZONES`.)
static RECENT_NOW: Mutex<Option<RecentNow>> = Mutex::new(None);

type RecentNow = (Py<PyAny>, Py<PyAny>, Aware);

/// `now` read in `own`'s zone, reusing the last result or the reading remembered above.
/// Only a datetime whose reading depends on nothing but its fields and zones the core
/// knows is remembered: one in the zone object itself, or a plain datetime in another
/// zone the core knows (a Python `tzinfo` could answer `utcoffset()` differently).
fn read_now(own: &OwnZone, last: &LastResult, now: &Bound<'_, PyAny>) -> PyResult<Aware> {
    if let Some(aware) = last.lookup(now) {
        return Ok(aware);
    }
    let same = |(dt, tz, _): &RecentNow| dt.as_ptr() == now.as_ptr() && tz.as_ptr() == own.obj.as_ptr();
    if let Some((.., aware)) = RECENT_NOW.lock().as_ref().filter(|recent| same(recent)) {
        return Ok(*aware);
    }
    let (aware, _) = own.read(now, false)?;
    let tz = now.cast::<PyDateTime>().ok().and_then(|dt| dt.get_tzinfo());
    let pure = match tz {
        Some(tz) if tz.is(own.obj.bind(now.py())) => true,
        Some(tz) => {
            now.is_exact_instance(super::zones::datetime_type(now.py())?)
                && matches!(super::zones::resolve(&tz)?, super::zones::AnyZone::Native(_))
        }
        None => false,
    };
    if pure {
        let old = RECENT_NOW.lock().replace((now.clone().unbind(), own.obj.clone_ref(now.py()), aware));
        // Let go after the lock.
        drop(old);
    }
    Ok(aware)
}

/// Writes a result and remembers it.
pub fn write_time(py: Python<'_>, own: &OwnZone, last: &LastResult, value: Option<Aware>) -> PyResult<Py<PyAny>> {
    match value {
        Some(aware) => {
            let dt = own.write(py, &aware)?.into_any().unbind();
            last.store(dt.clone_ref(py), aware);
            Ok(dt)
        }
        None => Ok(py.None()),
    }
}

/// Takes `obj` out of the garbage collector's lists. Callers say why the object can
/// never be part of a reference cycle; the collector then has nothing to find in it,
/// and untracked it no longer adds to the work of every collection.
pub fn untrack(obj: &Bound<'_, PyAny>) {
    // SAFETY: `obj` is a live object; untracking is allowed for any object (it does
    // nothing to one that is not tracked) and only means the collector stops visiting it.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
}

/// `class.__new__(class)`: a new, uninitialised instance of `class`. For a class
/// defined in Python (a heap type) its `tp_new` is called directly, which is what
/// `__new__` ends in, without looking the method up and checking its arguments.
pub fn new_instance<'py>(class: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::ffi;
    let py = class.py();
    if let Ok(class_type) = class.cast::<pyo3::types::PyType>() {
        let type_ptr = class_type.as_type_ptr();
        // SAFETY: `type_ptr` is a live type object (held by `class`). Reading a slot of
        // a heap type is allowed by the stable ABI on every supported version;
        // `tp_new` takes the type, an args tuple and optional keywords, and returns a
        // new reference or NULL with an exception set.
        unsafe {
            if ffi::PyType_GetFlags(type_ptr) & ffi::Py_TPFLAGS_HEAPTYPE != 0 {
                let slot = ffi::PyType_GetSlot(type_ptr, ffi::Py_tp_new);
                if !slot.is_null() {
                    let tp_new: ffi::newfunc = std::mem::transmute(slot);
                    let args = pyo3::types::PyTuple::empty(py);
                    let object = tp_new(type_ptr, args.as_ptr(), std::ptr::null_mut());
                    return Bound::from_owned_ptr_or_err(py, object);
                }
            }
        }
    }
    class.call_method1(pyo3::intern!(py, "__new__"), (class,))
}

/// The text of a `str`, borrowed from the object. Under the stable ABI of 3.9, PyO3's
/// `to_cow` encodes it into a new bytes object; `PyUnicode_AsUTF8AndSize`, exported by
/// every CPython 3 (and part of the stable ABI from 3.10 on), points into the string
/// itself for ASCII text and caches the encoding otherwise. Job ids and keyword names
/// are read this way several times an `add_job`.
pub fn text<'a>(string: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    extern "C" {
        fn PyUnicode_AsUTF8AndSize(unicode: *mut pyo3::ffi::PyObject, size: *mut pyo3::ffi::Py_ssize_t) -> *const std::ffi::c_char;
    }
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `string` is a live str (the GIL is held); the function returns NULL with
    // an exception set, or a buffer of `size` bytes of UTF-8 that the string owns and
    // keeps unchanged for as long as it lives, which the returned borrow cannot outlast.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(string.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::fetch(string.py()));
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), usize::try_from(size).unwrap_or(0));
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}

/// The instance dictionary of `obj` (made if it has none yet), as attribute lookup
/// uses it; `None` for an object without one. `PyObject_GenericGetDict` is exported by
/// every CPython 3 (part of the stable ABI from 3.10 on) and skips looking up
/// `__dict__` through the class, which the checks of every `add_job` did several times.
pub fn instance_dict<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyDict>> {
    extern "C" {
        fn PyObject_GenericGetDict(obj: *mut pyo3::ffi::PyObject, context: *mut std::ffi::c_void) -> *mut pyo3::ffi::PyObject;
    }
    let py = obj.py();
    // SAFETY: `obj` is a live object (the GIL is held); the call returns a new
    // reference or NULL with an exception set, which is cleared: an object without a
    // dictionary simply has none.
    let dict = unsafe { Bound::from_owned_ptr_or_err(py, PyObject_GenericGetDict(obj.as_ptr(), std::ptr::null_mut())) };
    dict.ok().and_then(|dict| dict.cast_into::<PyDict>().ok())
}

/// A module global from the module's namespace `globals`, raising `NameError` as
/// Python code naming it would when it is gone.
pub fn module_global<'py>(globals: &Bound<'py, PyDict>, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    super::dict_lookups::get(globals, name.as_any())?.ok_or_else(|| pyo3::exceptions::PyNameError::new_err(format!("name '{name}' is not defined")))
}

/// `function(arg)`, through the vectorcall protocol: no tuple is made for the argument.
pub fn call_with<'py>(function: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: both pointers are live objects borrowed for the call, the argument list
    // ends with NULL as the function requires, and the GIL is held.
    unsafe {
        let result = pyo3::ffi::PyObject_CallFunctionObjArgs(function.as_ptr(), arg.as_ptr(), std::ptr::null_mut::<pyo3::ffi::PyObject>());
        Bound::from_owned_ptr_or_err(function.py(), result)
    }
}

/// `function(first, second)`, as `call_with` calls with one argument.
pub fn call_with_two<'py>(function: &Bound<'py, PyAny>, first: &Bound<'py, PyAny>, second: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: as in `call_with`.
    unsafe {
        let result = pyo3::ffi::PyObject_CallFunctionObjArgs(
            function.as_ptr(),
            first.as_ptr(),
            second.as_ptr(),
            std::ptr::null_mut::<pyo3::ffi::PyObject>(),
        );
        Bound::from_owned_ptr_or_err(function.py(), result)
    }
}

/// `obj.name()` or `obj.name(arg)`, without making a bound method object. Under the
/// stable ABI, PyO3's `call_method` looks the method up as an attribute, which creates
/// a bound method, and calls that; the C API's `PyObject_CallMethodObjArgs` finds the
/// function and calls it with `obj` first. For the lock and logger calls made per job,
/// the bound method was a fifth of the cost.
pub fn call_method<'py>(obj: &Bound<'py, PyAny>, name: &Bound<'py, PyString>, arg: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let (o, n) = (obj.as_ptr(), name.as_ptr());
    let end = std::ptr::null_mut::<pyo3::ffi::PyObject>();
    // SAFETY: every pointer is a live object borrowed for the call, the argument list
    // ends with NULL as the function requires, and the GIL is held.
    unsafe {
        let result = match arg {
            None => pyo3::ffi::PyObject_CallMethodObjArgs(o, n, end),
            Some(arg) => pyo3::ffi::PyObject_CallMethodObjArgs(o, n, arg.as_ptr(), end),
        };
        Bound::from_owned_ptr_or_err(obj.py(), result)
    }
}
