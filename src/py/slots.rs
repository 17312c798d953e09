//! Whether an object's `__slots__` attributes are set, read without asking for them.
//!
//! `hasattr(job, name)` on an unset slot makes Python build an `AttributeError` (its
//! message, then its `name` and `obj`) only to throw it away. That costs about a third
//! of a microsecond, and `start()` asks it three times for each pending job. A slot is
//! a pointer at a fixed place in the object, NULL while unset; its place is found once,
//! by setting the slot of a probe object to a marker and looking for the marker's
//! address, and from then on the pointer is read directly.

use pyo3::prelude::*;
use pyo3::types::PyType;

/// Where the named slots of one class live in its instances.
pub struct SlotPlaces {
    class: Py<PyType>,
    offsets: Vec<usize>,
}

impl SlotPlaces {
    /// The places of `names` in instances of `class`; `None` when one of them cannot be
    /// found unambiguously (then the caller asks `hasattr`).
    pub fn find(class: &Bound<'_, PyType>, names: &[&str]) -> PyResult<Option<SlotPlaces>> {
        let py = class.py();
        let size: usize = class.getattr("__basicsize__")?.extract()?;
        let probe = class.call_method1("__new__", (class,))?;
        let marker = py.import("builtins")?.getattr("object")?.call0()?;
        let mut offsets = Vec::with_capacity(names.len());
        for name in names {
            probe.setattr(*name, &marker)?;
            let found: Vec<usize> = pointer_offsets(size).filter(|&offset| read_slot(&probe, offset) == marker.as_ptr()).collect();
            probe.delattr(*name)?;
            match found[..] {
                [offset] if read_slot(&probe, offset).is_null() => offsets.push(offset),
                _ => return Ok(None),
            }
        }
        Ok(Some(SlotPlaces { class: class.clone().unbind(), offsets }))
    }

    /// Whether each slot is set on `object`; `None` unless `object`'s class is exactly
    /// the class the places were found for (a subclass may lay its instances out
    /// differently, or make the names properties).
    pub fn are_set(&self, object: &Bound<'_, PyAny>) -> Option<Vec<bool>> {
        if !object.get_type().is(self.class.bind(object.py())) {
            return None;
        }
        Some(self.offsets.iter().map(|&offset| !read_slot(object, offset).is_null()).collect())
    }
}

/// The offsets of the pointer-sized fields after the object header, within `size`.
fn pointer_offsets(size: usize) -> impl Iterator<Item = usize> {
    let word = std::mem::size_of::<usize>();
    (std::mem::size_of::<pyo3::ffi::PyObject>()..size.saturating_sub(word - 1)).step_by(word)
}

fn read_slot(object: &Bound<'_, PyAny>, offset: usize) -> *mut pyo3::ffi::PyObject {
    // SAFETY: `offset` is word-aligned and lies inside the instance size of `object`'s
    // class (checked by the callers: `find` probes an instance of the class, `are_set`
    // only reads objects of exactly that class). The GIL is held, so the object is alive
    // and no thread writes the field meanwhile.
    unsafe { *(object.as_ptr().cast::<u8>().add(offset).cast::<*mut pyo3::ffi::PyObject>()) }
}
