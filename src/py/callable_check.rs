//! `check_callable_args(func, args, kwargs)` for the add path, answered without a
//! Python call for the functions a program schedules again and again.
//!
//! The answer for a plain function depends only on its code, its default values, its
//! keyword-only defaults, a `__signature__` set on it, how many positional arguments
//! are given and the keyword names. The Python function keeps its answers in
//! `apscheduler.util._callable_checks`, keyed by a tuple that holds the code object;
//! building and hashing that key (a code object's hash is computed anew each time)
//! cost about a tenth of an `add_job`. Here, calls without keyword arguments that
//! passed the check are also remembered natively, per function object, and a repeat is
//! recognised by the identity of those parts, read in place.

use parking_lot::Mutex;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyTuple};

use super::common::module_global;
use super::function_fields::FunctionFields;

/// A call that passed: the function, what its answer depends on, and how many
/// positional arguments it was given (with no keyword arguments).
struct Passed {
    func: Py<PyAny>,
    code: Py<PyAny>,
    defaults: Option<Py<PyAny>>,
    kwdefaults: Option<Py<PyAny>>,
    signature: Option<Py<PyAny>>,
    positional: usize,
}

/// The calls that passed lately. (Its lock follows the rule of `zones::RECENT_ZONES`:
/// taken with the GIL held, let go before any object is released.)
static PASSED: Mutex<Vec<Passed>> = Mutex::new(Vec::new());
const PASSED_KEPT: usize = 32;

fn same(kept: &Option<Py<PyAny>>, now: &Option<Bound<'_, PyAny>>) -> bool {
    match (kept, now) {
        (Some(kept), Some(now)) => kept.is(now),
        (None, None) => true,
        _ => false,
    }
}

fn unbound(value: &Option<Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    value.as_ref().map(|value| value.clone().unbind())
}

/// Checks that `func` (a plain function whose `fields` were read in place, when they
/// could be) accepts `args` and `kwargs`, raising the `ValueError` the Python function
/// raises otherwise. `util_globals` is `apscheduler.util`'s namespace, where the
/// Python function and its cache are looked up at each call (tests replace them).
pub fn check_callable_args(
    util_globals: &Bound<'_, PyDict>,
    func: &Bound<'_, PyAny>,
    fields: Option<&FunctionFields<'_>>,
    args: &Bound<'_, PyTuple>,
    kwargs: &Bound<'_, PyDict>,
) -> PyResult<()> {
    let remembered = match fields {
        Some(fields) if kwargs.is_empty() => Some((fields, fields.signature()?)),
        _ => None,
    };
    if let Some((fields, signature)) = &remembered {
        let passed = PASSED.lock().iter().any(|passed| {
            passed.func.is(func)
                && passed.positional == args.len()
                && passed.code.is(&fields.code)
                && same(&passed.defaults, &fields.defaults)
                && same(&passed.kwdefaults, &fields.kwdefaults)
                && same(&passed.signature, signature)
        });
        if passed {
            return Ok(());
        }
    }
    check_in_python(util_globals, func, args, kwargs)?;
    if let Some((fields, signature)) = remembered {
        let entry = Passed {
            func: func.clone().unbind(),
            code: fields.code.clone().unbind(),
            defaults: unbound(&fields.defaults),
            kwdefaults: unbound(&fields.kwdefaults),
            signature: unbound(&signature),
            positional: args.len(),
        };
        let evicted = {
            let mut passed = PASSED.lock();
            let evicted: Vec<Passed> = if passed.len() >= PASSED_KEPT { passed.drain(..PASSED_KEPT / 2).collect() } else { Vec::new() };
            passed.push(entry);
            evicted
        };
        drop(evicted);
    }
    Ok(())
}

/// The Python function's answer: from its cache when the answer is there, otherwise
/// by calling it.
fn check_in_python(util_globals: &Bound<'_, PyDict>, func: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>, kwargs: &Bound<'_, PyDict>) -> PyResult<()> {
    let py = func.py();
    let cache = module_global(util_globals, intern!(py, "_callable_checks"))?;
    if let Ok(cache) = cache.cast::<PyDict>() {
        let names = PyTuple::new(py, kwargs.keys())?;
        let key = PyTuple::new(
            py,
            [func.getattr(intern!(py, "__code__"))?, PyBool::new(py, false).to_owned().into_any(), args.len().into_pyobject(py)?.into_any(), names.into_any()],
        )?;
        if let Some(cached) = cache.get_item(&key)? {
            let signature = func.getattr(intern!(py, "__dict__"))?.cast_into::<PyDict>()?.get_item(intern!(py, "__signature__"))?;
            let parts = [
                Some(func.getattr(intern!(py, "__defaults__"))?),
                Some(func.getattr(intern!(py, "__kwdefaults__"))?),
                signature,
            ];
            let (cached_parts, error) = cached.extract::<(Bound<'_, PyTuple>, Bound<'_, PyAny>)>()?;
            let same = cached_parts.len() == 3
                && cached_parts.iter().zip(parts.iter()).all(|(a, b)| match b {
                    Some(b) => a.is(b),
                    None => a.is_none(),
                });
            if same {
                if error.is_none() {
                    return Ok(());
                }
                return Err(pyo3::exceptions::PyValueError::new_err(error.unbind()));
            }
        }
    }
    module_global(util_globals, intern!(py, "check_callable_args"))?.call1((func, args, kwargs))?;
    Ok(())
}
