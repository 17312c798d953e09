//! An object's `__slots__` attributes read and written in place, for the `Job`s the
//! add path, a scheduler pass and a pool run handle by the thousand.
//!
//! A slot is a pointer at a fixed place in the object, NULL while unset. Its place is
//! found once, by setting the slot of a probe object to a marker and looking for the
//! marker's address; from then on the pointer is read or written directly, for an
//! object of exactly that class. That saves the attribute lookup of each access, and
//! above all the `AttributeError` that `hasattr(job, name)` builds (message, `name`
//! and `obj`) only to throw it away when the slot is unset: about a third of a
//! microsecond, three times for each pending job `start()` completes.

use pyo3::prelude::*;
use pyo3::Borrowed;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

/// Where the named slots of one class live in its instances.
pub struct SlotPlaces {
    class: Py<PyType>,
    offsets: Vec<usize>,
    /// Where an instance keeps its list of weak references (`__weakrefoffset__`), if
    /// the class has one.
    weaklist: Option<usize>,
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
            let found = fields_holding(&probe, size, &marker);
            probe.delattr(*name)?;
            match found[..] {
                [offset] if read_slot(&probe, offset).is_null() => offsets.push(offset),
                _ => return Ok(None),
            }
        }
        let weaklist = class.getattr("__weakrefoffset__")?.extract::<usize>().ok().filter(|&offset| offset > 0);
        Ok(Some(SlotPlaces { class: class.clone().unbind(), offsets, weaklist }))
    }

    /// Whether slot `index` is set on `object`; `None` unless `object`'s class is
    /// exactly the class the places were found for (a subclass may lay its instances
    /// out differently, or make the names properties).
    pub fn is_set(&self, object: &Bound<'_, PyAny>, index: usize) -> Option<bool> {
        if !self.is_instance(object) {
            return None;
        }
        Some(!read_slot(object, *self.offsets.get(index)?).is_null())
    }

    /// Stores `value` in slot `index` of `object`, as setting the attribute would;
    /// `false` (nothing done) when `object` is not of exactly the class.
    pub fn write(&self, object: &Bound<'_, PyAny>, index: usize, value: &Bound<'_, PyAny>) -> bool {
        if !self.is_instance(object) {
            return false;
        }
        let Some(&offset) = self.offsets.get(index) else { return false };
        // SAFETY: as in `read_slot`; the slot owns a strong reference, so the new value
        // gains one and the old one (if any) is released once it is out of the slot,
        // which is what setting a slot attribute does.
        unsafe {
            let field = object.as_ptr().cast::<u8>().add(offset).cast::<*mut pyo3::ffi::PyObject>();
            let old = *field;
            *field = value.clone().into_ptr();
            if !old.is_null() {
                pyo3::ffi::Py_DecRef(old);
            }
        }
        true
    }

    /// The object in slot `index` of `object` (in the order of the names the places
    /// were found for); `None` when `object` is not of exactly the class, or the slot
    /// is unset.
    /// Whether `object` is of exactly the class whose places these are.
    pub fn is_instance(&self, object: &Bound<'_, PyAny>) -> bool {
        // Compared by address: `get_type()` would take and drop a reference each time.
        std::ptr::eq(object.get_type_ptr(), self.class.as_ptr().cast())
    }

    pub fn read<'py>(&self, object: &Bound<'py, PyAny>, index: usize) -> Option<Bound<'py, PyAny>> {
        if !self.is_instance(object) {
            return None;
        }
        let pointer = read_slot(object, *self.offsets.get(index)?);
        // SAFETY: a set slot holds a strong reference to a live object, which the
        // returned `Bound` takes a reference of its own to.
        (!pointer.is_null()).then(|| unsafe { Bound::from_borrowed_ptr(object.py(), pointer) })
    }
}

/// The attributes of `apscheduler.job.Job` (its slots), in the order of
/// `JOB_SLOT_NAMES`.
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
    Scheduler,
    Func,
    FuncRef,
    Args,
    Kwargs,
    Name,
}

const JOB_SLOT_NAMES: [&str; 14] = [
    "id",
    "trigger",
    "executor",
    "next_run_time",
    "coalesce",
    "max_instances",
    "misfire_grace_time",
    "_jobstore_alias",
    "_scheduler",
    "func",
    "func_ref",
    "args",
    "kwargs",
    "name",
];

/// Where `Job` keeps its slots, found once; `None` if they cannot be located.
fn job_places(py: Python<'_>) -> Option<&SlotPlaces> {
    static PLACES: PyOnceLock<Option<SlotPlaces>> = PyOnceLock::new();
    PLACES
        .get_or_init(py, || {
            let class = py.import("apscheduler.job").and_then(|module| module.getattr("Job"));
            class.ok().and_then(|class| SlotPlaces::find(class.cast().ok()?, &JOB_SLOT_NAMES).ok().flatten())
        })
        .as_ref()
}

/// Every slot of `job`, in the order of `JobSlot`, when `job` is of exactly the
/// library's class and all of them are set. The objects are borrowed from the job's
/// slots, so they stay valid only while no slot of `job` is written, which the
/// caller makes sure of by running no Python code meanwhile.
pub fn borrowed_job_slots<'a, 'py>(job: &'a Bound<'py, PyAny>) -> Option<[Borrowed<'a, 'py, PyAny>; JOB_SLOT_NAMES.len()]> {
    let places = job_places(job.py())?;
    if !places.is_instance(job) {
        return None;
    }
    let mut pointers = [std::ptr::null_mut(); JOB_SLOT_NAMES.len()];
    for (pointer, &offset) in pointers.iter_mut().zip(&places.offsets) {
        *pointer = read_slot(job, offset);
        if pointer.is_null() {
            return None;
        }
    }
    // SAFETY: each pointer is a set slot of `job`, which holds a strong reference to
    // the object; the caller writes no slot while the borrows live (see above).
    Some(pointers.map(|pointer| unsafe { Borrowed::from_ptr(job.py(), pointer) }))
}

/// Whether something holds a weak reference to `job`, an object of exactly the
/// library's `Job` class (its `__weakref__` slot is then set); `true` when that cannot
/// be told.
pub fn has_weak_references(job: &Bound<'_, PyAny>) -> bool {
    match job_places(job.py()) {
        Some(places) if places.is_instance(job) => places.weaklist.is_none_or(|offset| !read_slot(job, offset).is_null()),
        _ => true,
    }
}

/// Whether the places of `Job`'s slots are known, finding them if this is the first
/// call (which imports `apscheduler.job`): code that reads slots under a lock asks
/// this first, before taking it.
pub fn job_places_found(py: Python<'_>) -> bool {
    job_places(py).is_some()
}

/// Whether `object` is of exactly the library's `Job` class (and its slots were found).
pub fn is_library_job(object: &Bound<'_, PyAny>) -> bool {
    job_places(object.py()).is_some_and(|places| places.is_instance(object))
}

fn job_slot_name(py: Python<'_>, slot: JobSlot) -> &Bound<'_, PyString> {
    static NAMES: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    NAMES.get_or_init(py, || JOB_SLOT_NAMES.iter().map(|name| PyString::intern(py, name).unbind()).collect())[slot as usize]
        .bind(py)
}

/// `getattr(job, name)` for an attribute of `Job`. A job of exactly the library's
/// class has them as slots, read directly; for any other object, or a slot that is
/// unset (which raises the usual `AttributeError`), the attribute is asked for.
pub fn job_attr<'py>(job: &Bound<'py, PyAny>, slot: JobSlot) -> PyResult<Bound<'py, PyAny>> {
    let py = job.py();
    if let Some(value) = job_places(py).and_then(|places| places.read(job, slot as usize)) {
        return Ok(value);
    }
    job.getattr(job_slot_name(py, slot))
}

/// The attribute of a job of exactly the library's class, read from its slot; `None`
/// for any other object or an unset slot. It never runs Python code.
pub fn job_slot<'py>(job: &Bound<'py, PyAny>, slot: JobSlot) -> Option<Bound<'py, PyAny>> {
    job_places(job.py())?.read(job, slot as usize)
}

/// Whether the attribute is set on `job` (`hasattr`), read from the slot without
/// building the `AttributeError` an unset one raises; `None` unless `job` is of exactly
/// the library's class.
pub fn job_has(job: &Bound<'_, PyAny>, slot: JobSlot) -> Option<bool> {
    job_places(job.py())?.is_set(job, slot as usize)
}

/// `setattr(job, name, value)` for an attribute of `Job`: written into the slot for a
/// job of exactly the library's class (which defines no `__setattr__`, so this is all
/// setting it does), set as an attribute on anything else.
pub fn set_job_attr<'py>(job: &Bound<'py, PyAny>, slot: JobSlot, value: &Bound<'py, PyAny>) -> PyResult<()> {
    set_job_attrs(job, &[(slot, value)])
}

/// `set_job_attr` for several slots, with the places of `Job`'s slots looked up once.
pub fn set_job_attrs<'py>(job: &Bound<'py, PyAny>, values: &[(JobSlot, &Bound<'py, PyAny>)]) -> PyResult<()> {
    let py = job.py();
    let places = job_places(py);
    for (slot, value) in values {
        if !places.is_some_and(|places| places.write(job, *slot as usize, value)) {
            job.setattr(job_slot_name(py, *slot), *value)?;
        }
    }
    Ok(())
}

/// The offsets of the pointer-sized fields after the object header, within `size`.
fn pointer_offsets(size: usize) -> impl Iterator<Item = usize> {
    let word = std::mem::size_of::<usize>();
    (std::mem::size_of::<pyo3::ffi::PyObject>()..size.saturating_sub(word - 1)).step_by(word)
}

/// The offsets of the pointer fields of `probe` (an instance `size` bytes long, or
/// more) that point to `marker`: where a probe finds the field it has just set.
pub(crate) fn fields_holding(probe: &Bound<'_, PyAny>, size: usize, marker: &Bound<'_, PyAny>) -> Vec<usize> {
    pointer_offsets(size).filter(|&offset| read_slot(probe, offset) == marker.as_ptr()).collect()
}

/// The pointer field at `offset` of `object`, NULL or a borrowed reference.
///
/// The callers guarantee that `offset` was found by `fields_holding` on an instance of
/// `object`'s exact class (so it is word-aligned and inside the instance), or at least
/// inside `object`'s allocation. The GIL is held, so the object is alive and no thread
/// writes the field meanwhile.
pub(crate) fn read_slot(object: &Bound<'_, PyAny>, offset: usize) -> *mut pyo3::ffi::PyObject {
    // SAFETY: as stated above, by the callers.
    unsafe { *(object.as_ptr().cast::<u8>().add(offset).cast::<*mut pyo3::ffi::PyObject>()) }
}
