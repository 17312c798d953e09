//! `add_job_natively(scheduler, args, kwargs)`: `BaseScheduler.add_job` as called,
//! done natively when it can be, as a `METH_FASTCALL` function of the extension.
//!
//! `BaseScheduler.add_job` is a thin Python function taking `(self, *args, **kwargs)`
//! that calls this first, and the full Python function (which it wraps, so that
//! `inspect.signature()` and `help()` show its parameters) when this returns `None`.
//! A function with `add_job`'s fourteen parameters and `**trigger_args` cost more
//! than the rest of the call: CPython compares each trigger argument (`seconds=5`) by
//! value with every parameter name, after failing to find it by identity, before it
//! goes into `**trigger_args`. Here the arguments are sorted into the parameters and
//! the trigger's arguments as the signature would sort them; when they do not bind
//! cleanly (a missing `func`, a parameter given twice, too many), or the native add
//! path declines (see `add_job::add_job_natively`), the Python function is called
//! with the arguments as given, so every other outcome and error is still its own.
//!
//! PyO3 builds functions for the stable ABI of 3.9 as `METH_VARARGS`: the interpreter
//! packs the arguments of each call into a tuple, which PyO3 then unpacks into new
//! references. `METH_FASTCALL` passes the caller's array, read here as borrowed
//! references. The stable ABI lists it from 3.10 on, but every CPython since 3.7
//! implements it, so the extension may use it on 3.9 too. The function attaches to
//! the interpreter through PyO3 as PyO3's own functions do, so that references dropped
//! during the call are released at once rather than deferred to PyO3's pool.

use std::ffi::c_int;

use pyo3::ffi;
use pyo3::prelude::*;

use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyString, PyTuple};

use super::add_job::{add_job_natively, library_undefined, TriggerArgs};

/// `METH_FASTCALL`, which `pyo3-ffi` only names for the stable ABI of 3.10 and later.
const METH_FASTCALL: c_int = 0x0080;

/// The function's parameters: the scheduler, the positional arguments of the call
/// (a tuple) and its keyword arguments (a dict).
const ARGUMENTS: usize = 3;

/// `add_job`'s parameters after `self`, in order.
const PARAMETERS: [&str; 13] = [
    "func",
    "trigger",
    "args",
    "kwargs",
    "id",
    "name",
    "misfire_grace_time",
    "coalesce",
    "max_instances",
    "next_run_time",
    "jobstore",
    "executor",
    "replace_existing",
];

type FastCall = unsafe extern "C" fn(*mut ffi::PyObject, *const *mut ffi::PyObject, ffi::Py_ssize_t) -> *mut ffi::PyObject;

/// Adds `add_job_natively` to `module`.
pub fn add_to(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let fast: FastCall = add_job_natively_entry;
    // The definition must outlive the function object: it is made once per process.
    let definition: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"add_job_natively".as_ptr(),
        // SAFETY: a `METH_FASTCALL` function is stored in this union as a plain
        // function pointer; the interpreter calls it with the fast-call signature the
        // flag announces. Both are `extern "C"` function pointers of the same size.
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: unsafe { std::mem::transmute::<FastCall, ffi::PyCFunction>(fast) } },
        ml_flags: METH_FASTCALL,
        ml_doc: c"add_job_natively(scheduler, args, kwargs)\n--\n\nBaseScheduler.add_job(scheduler, *args, **kwargs) done natively; None when left to the Python code.".as_ptr(),
    }));
    // SAFETY: `definition` lives for the rest of the process; the call returns a new
    // reference or NULL with an exception set.
    let function = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyCFunction_NewEx(definition, std::ptr::null_mut(), std::ptr::null_mut()))? };
    module.add("add_job_natively", function)
}

/// The C entry point: the arguments as an array of `nargs` borrowed references. A
/// panic becomes an exception, never unwinds into Python.
unsafe extern "C" fn add_job_natively_entry(_module: *mut ffi::PyObject, args: *const *mut ffi::PyObject, nargs: ffi::Py_ssize_t) -> *mut ffi::PyObject {
    // The interpreter calls a function with the GIL held; attaching tells PyO3 so
    // (otherwise every reference dropped during the call would be deferred to its
    // pool) and costs one PyGILState_Ensure round trip.
    Python::attach(|py| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> PyResult<Option<Bound<'_, PyAny>>> {
            if usize::try_from(nargs).ok() != Some(ARGUMENTS) {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!("add_job_natively() takes {ARGUMENTS} arguments ({nargs} given)")));
            }
            // SAFETY: the interpreter passes `nargs` live objects, borrowed for the call.
            let value = |index: usize| unsafe { Borrowed::from_ptr(py, *args.add(index)) };
            let (scheduler, call_args, call_kwargs) = (value(0), value(1), value(2));
            let (Ok(call_args), Ok(call_kwargs)) = (call_args.cast::<PyTuple>(), call_kwargs.cast::<PyDict>()) else {
                return Ok(None);
            };
            match bind(py, &call_args, &call_kwargs)? {
                Some(bound) => add(py, &scheduler, &bound),
                None => Ok(None),
            }
        }));
        let result = outcome.unwrap_or_else(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "add_job_natively panicked".to_string());
            Err(pyo3::panic::PanicException::new_err(message))
        });
        match result {
            Ok(Some(job)) => job.into_ptr(),
            Ok(None) => py.None().into_ptr(),
            Err(error) => {
                error.restore(py);
                std::ptr::null_mut()
            }
        }
    })
}

/// The arguments of a call sorted as `add_job(self, func, trigger=None, ...,
/// **trigger_args)` sorts them; the parameters not given are `None` here.
struct BoundArguments<'py> {
    parameters: [Option<Bound<'py, PyAny>>; PARAMETERS.len()],
    trigger_args: TriggerArgs<'py>,
}

fn parameter_names(py: Python<'_>) -> &[Py<PyString>; PARAMETERS.len()] {
    static NAMES: PyOnceLock<[Py<PyString>; PARAMETERS.len()]> = PyOnceLock::new();
    NAMES.get_or_init(py, || PARAMETERS.map(|name| PyString::intern(py, name).unbind()))
}

/// `None` when the arguments do not bind cleanly: the Python function raises the
/// error then.
fn bind<'py>(py: Python<'py>, args: &Bound<'py, PyTuple>, kwargs: &Bound<'py, PyDict>) -> PyResult<Option<BoundArguments<'py>>> {
    if args.len() > PARAMETERS.len() {
        return Ok(None);
    }
    let mut parameters: [Option<Bound<'py, PyAny>>; PARAMETERS.len()] = std::array::from_fn(|_| None);
    for (slot, value) in parameters.iter_mut().zip(args.iter()) {
        *slot = Some(value);
    }
    let names = parameter_names(py);
    let mut trigger_args = TriggerArgs::new();
    for (key, value) in kwargs.iter() {
        let Ok(key) = key.cast_into_exact::<PyString>() else { return Ok(None) };
        // Keywords written in the source are interned, as the names are.
        let index = match names.iter().position(|name| name.as_ptr() == key.as_ptr()) {
            Some(index) => Some(index),
            None => {
                let text = super::common::text(&key)?;
                PARAMETERS.iter().position(|name| *name == text)
            }
        };
        match index {
            // Given by position and by name: the Python call's error.
            Some(index) if parameters[index].is_some() => return Ok(None),
            Some(index) => parameters[index] = Some(value),
            None if trigger_args.push(key, value) => {}
            None => return Ok(None),
        }
    }
    if parameters[0].is_none() {
        return Ok(None);
    }
    Ok(Some(BoundArguments { parameters, trigger_args }))
}

/// The native add path, with the defaults of the parameters not given.
fn add<'py>(py: Python<'py>, scheduler: &Bound<'py, PyAny>, bound: &BoundArguments<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let none = py.None().into_bound(py);
    let undefined = library_undefined(py)?;
    let default_alias = pyo3::intern!(py, "default").clone().into_any();
    let no = PyBool::new(py, false).to_owned().into_any();
    let defaults: [&Bound<'py, PyAny>; PARAMETERS.len()] =
        [&none, &none, &none, &none, &none, &none, &undefined, &undefined, &undefined, &undefined, &default_alias, &default_alias, &no];
    let value = |index: usize| bound.parameters[index].as_ref().unwrap_or(defaults[index]);
    add_job_natively(
        scheduler,
        value(0),
        value(1),
        value(2),
        value(3),
        value(4),
        value(5),
        value(6),
        value(7),
        value(8),
        value(9),
        value(10),
        value(11),
        value(12),
        &bound.trigger_args,
    )
}
