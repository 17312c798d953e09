//! A plain function's attributes read in place, for the add path, which reads the
//! same few of every function it schedules.
//!
//! `add_job` reads a function's `__qualname__` and `__module__` (for its text
//! reference) and, to check the arguments against its signature, what the signature
//! depends on: `__code__`, `__defaults__`, `__kwdefaults__` and a `__signature__` in
//! its `__dict__`. Each is a pointer at a fixed place in the function object. Where
//! each one lives is found once, by giving a probe function a distinct marker for
//! each attribute and looking for the marker's address, as `slots` does for `Job`.
//! From then on they are read directly, for objects of exactly the function type.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use super::slots::{fields_holding, read_slot};

/// Offsets of a function object's fields, in the order of `NAMES`.
pub struct FunctionPlaces {
    class: Py<PyType>,
    offsets: [usize; 6],
}

const NAMES: [&str; 6] = ["__code__", "__defaults__", "__kwdefaults__", "__dict__", "__qualname__", "__module__"];

/// What the add path reads of a function.
pub struct FunctionFields<'py> {
    pub code: Bound<'py, PyAny>,
    /// `None` stands for the attribute's `None` (kept as NULL by the object).
    pub defaults: Option<Bound<'py, PyAny>>,
    pub kwdefaults: Option<Bound<'py, PyAny>>,
    /// The function's `__dict__`, when one was ever made.
    pub dict: Option<Bound<'py, PyAny>>,
    pub qualname: Bound<'py, PyAny>,
    pub module: Option<Bound<'py, PyAny>>,
}

impl FunctionFields<'_> {
    /// The `__signature__` set on the function, if any.
    pub fn signature(&self) -> PyResult<Option<Bound<'_, PyAny>>> {
        match &self.dict {
            Some(dict) => match dict.cast::<PyDict>() {
                Ok(dict) => dict.get_item(pyo3::intern!(dict.py(), "__signature__")),
                Err(_) => Ok(None),
            },
            None => Ok(None),
        }
    }
}

/// The places of this interpreter's function fields; `None` when the probe could not
/// find each one unambiguously (then the attributes are looked up).
pub fn places(py: Python<'_>) -> Option<&'static FunctionPlaces> {
    static PLACES: PyOnceLock<Option<FunctionPlaces>> = PyOnceLock::new();
    PLACES.get_or_init(py, || find(py).ok().flatten()).as_ref()
}

impl FunctionPlaces {
    /// The fields of `func`, when it is exactly a Python function.
    pub fn read<'py>(&self, func: &Bound<'py, PyAny>) -> Option<FunctionFields<'py>> {
        if !func.get_type().is(self.class.bind(func.py())) {
            return None;
        }
        let field = |index: usize| -> Option<Bound<'py, PyAny>> {
            let pointer = read_slot(func, self.offsets[index]);
            // SAFETY: a set field of a live function holds a strong reference, which the
            // returned `Bound` takes a reference of its own to.
            (!pointer.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(func.py(), pointer) })
        };
        Some(FunctionFields {
            code: field(0)?,
            defaults: field(1),
            kwdefaults: field(2),
            dict: field(3),
            qualname: field(4)?,
            module: field(5),
        })
    }
}

fn find(py: Python<'_>) -> PyResult<Option<FunctionPlaces>> {
    let namespace = PyDict::new(py);
    py.run(c"def probe():\n    pass\ndef other():\n    return 1\n", Some(&namespace), Some(&namespace))?;
    let (Some(probe), Some(other)) = (namespace.get_item("probe")?, namespace.get_item("other")?) else { return Ok(None) };
    let class = probe.get_type();
    let size: usize = class.getattr("__basicsize__")?.extract()?;
    let markers: [Bound<'_, PyAny>; 6] = [
        other.getattr("__code__")?,
        PyTuple::new(py, [1, 2, 3])?.into_any(),
        PyDict::new(py).into_any(),
        PyDict::new(py).into_any(),
        pyo3::types::PyString::new(py, "probe.qualname").into_any(),
        py.import("builtins")?.getattr("object")?.call0()?,
    ];
    let mut offsets = [0usize; 6];
    for ((name, marker), offset) in NAMES.iter().zip(&markers).zip(offsets.iter_mut()) {
        probe.setattr(*name, marker)?;
        let [at] = fields_holding(&probe, size, marker)[..] else { return Ok(None) };
        *offset = at;
    }
    let places = FunctionPlaces { class: class.unbind(), offsets };
    // `None` defaults are kept as NULL: reading them back must give no object.
    probe.setattr("__defaults__", py.None())?;
    probe.setattr("__kwdefaults__", py.None())?;
    let fields = places.read(&probe);
    let confirmed = fields.is_some_and(|fields| {
        fields.defaults.is_none() && fields.kwdefaults.is_none() && fields.code.is(&markers[0]) && fields.qualname.is(&markers[4])
    });
    Ok(confirmed.then_some(places))
}
