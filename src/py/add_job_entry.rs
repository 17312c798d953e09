//! `add_job_natively`, the function `BaseScheduler.add_job` calls first, as a
//! `METH_FASTCALL` function of the extension.
//!
//! PyO3 builds functions for the stable ABI of 3.9 as `METH_VARARGS`: the interpreter
//! packs the fifteen arguments of each call into a tuple, which PyO3 then unpacks into
//! new references. `METH_FASTCALL` passes the caller's array, read here as borrowed
//! references. The stable ABI lists it from 3.10 on, but every CPython since 3.7
//! implements it, so the extension may use it on 3.9 too. About 760 instructions
//! fewer an `add_job` (of about 24,500).
//!
//! The function attaches to the interpreter through PyO3 as its own functions do,
//! so that references dropped during the call are released at once: a first version
//! that only assumed the GIL left PyO3 believing no thread held it, and every dropped
//! reference went through its deferred pool, which cost more than the tuple.

use std::ffi::c_int;

use pyo3::ffi;
use pyo3::prelude::*;

use super::add_job::add_job_natively;

/// `METH_FASTCALL`, which `pyo3-ffi` only names for the stable ABI of 3.10 and later.
const METH_FASTCALL: c_int = 0x0080;

/// The function's parameters: the scheduler, then `add_job`'s, then the trigger's
/// keyword arguments (a dict).
const ARGUMENTS: usize = 15;

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
        ml_doc: c"add_job_natively(scheduler, func, trigger, args, kwargs, id, name, misfire_grace_time, coalesce, max_instances, next_run_time, jobstore, executor, replace_existing, trigger_args)\n--\n\nBaseScheduler.add_job done natively; None when left to the Python code.".as_ptr(),
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
            let trigger_args = value(14).cast::<pyo3::types::PyDict>()?;
            add_job_natively(
                &value(0),
                &value(1),
                &value(2),
                &value(3),
                &value(4),
                &value(5),
                &value(6),
                &value(7),
                &value(8),
                &value(9),
                &value(10),
                &value(11),
                &value(12),
                &value(13),
                &trigger_args,
            )
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
