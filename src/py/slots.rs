//! Whether an object's `__slots__` attributes are set, read without asking for them.
//!
//! `hasattr(job, name)` on an unset slot makes Python build an `AttributeError` (its
//! message, then its `name` and `obj`) only to throw it away. That costs about a third
//! of a microsecond, and `start()` asks it three times for each pending job. A slot is
//! a pointer at a fixed place in the object, NULL while unset; its place is found once,
//! by setting the slot of a probe object to a marker and looking for the marker's
//! address, and from then on the pointer is read directly.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

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

    /// The object in slot `index` of `object` (in the order of the names the places
    /// were found for); `None` when `object` is not of exactly the class, or the slot
    /// is unset.
    pub fn read<'py>(&self, object: &Bound<'py, PyAny>, index: usize) -> Option<Bound<'py, PyAny>> {
        if !object.get_type().is(self.class.bind(object.py())) {
            return None;
        }
        let pointer = read_slot(object, *self.offsets.get(index)?);
        // SAFETY: a set slot holds a strong reference to a live object, which the
        // returned `Bound` takes a reference of its own to.
        (!pointer.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(object.py(), pointer) })
    }
}

/// The attributes of `apscheduler.job.Job` that the scheduler's hot paths read, in
/// the order of `JOB_SLOT_NAMES`.
#[derive(Clone, Copy)]
pub enum JobSlot {
    Id,
    Trigger,
    Executor,
    NextRunTime,
    Coalesce,
    MaxInstances,
    MisfireGraceTime,
    JobstoreAlias,
}

const JOB_SLOT_NAMES: [&str; 8] =
    ["id", "trigger", "executor", "next_run_time", "coalesce", "max_instances", "misfire_grace_time", "_jobstore_alias"];

/// `getattr(job, name)` for one of the `Job` attributes a pass, a submission or a run
/// reads. A job of exactly the library's class has them as slots, read directly; for
/// any other object, or a slot that is unset (which raises the usual
/// `AttributeError`), the attribute is asked for.
pub fn job_attr<'py>(job: &Bound<'py, PyAny>, slot: JobSlot) -> PyResult<Bound<'py, PyAny>> {
    static PLACES: PyOnceLock<Option<SlotPlaces>> = PyOnceLock::new();
    static NAMES: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    let py = job.py();
    let places = PLACES.get_or_init(py, || {
        let class = py.import("apscheduler.job").and_then(|module| module.getattr("Job"));
        class.ok().and_then(|class| SlotPlaces::find(class.cast().ok()?, &JOB_SLOT_NAMES).ok().flatten())
    });
    if let Some(value) = places.as_ref().and_then(|places| places.read(job, slot as usize)) {
        return Ok(value);
    }
    let names = NAMES.get_or_init(py, || JOB_SLOT_NAMES.iter().map(|name| PyString::intern(py, name).unbind()).collect());
    job.getattr(names[slot as usize].bind(py))
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
