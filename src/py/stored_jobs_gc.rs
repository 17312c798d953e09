//! Jobs held by the memory store are kept out of the garbage collector's sight.
//!
//! A `Job` is a container the collector tracks, and every stored job lives as long as
//! the scheduler: each one survives into the oldest generation, and collections of that
//! generation, which start once enough new objects have survived into it, walk every
//! stored job again. Adding jobs one after the other thus spent a growing share of its
//! time in the collector (6% with 20,000 stored jobs, 15% with 100,000).
//!
//! Nothing the collector could find runs through a stored job: the store holds it, so
//! the job is alive, and so is everything it refers to. It can only become part of
//! garbage once the store lets it go, and at that point it is tracked again. A job the
//! store drops while nothing else holds it is freed at once, so it is not tracked again
//! first.
//!
//! Only instances of the library's exact `Job` class are hidden: their type is a
//! collector-tracked class, so finding one untracked means the store untracked it.
//!
//! Jobs of a date trigger stay in sight: they run once and are let go, and a job
//! tracked again goes into the youngest generation, which every collection walks. A
//! burst of 50,000 date jobs ran 10% slower when each was hidden and shown again.

use pyo3::ffi;
use pyo3::prelude::*;

use super::date::PyDateTrigger;
use super::slots::{is_library_job, job_slot, JobSlot};

/// Called as the store takes `job`.
pub(crate) fn hide(job: &Bound<'_, PyAny>) {
    if is_library_job(job) && !runs_once(job) {
        super::common::untrack(job);
    }
}

/// Whether `job`, of exactly the library's `Job` class, runs once: its trigger is a
/// `DateTrigger`. It only reads a slot, so it may be asked under the store's lock.
pub(crate) fn runs_once(job: &Bound<'_, PyAny>) -> bool {
    job_slot(job, JobSlot::Trigger).is_some_and(|trigger| trigger.is_instance_of::<PyDateTrigger>())
}

/// `release` for the job object an update replaced, unless it is the very object
/// `stored` in its place (an update with the job the store already held).
pub(crate) fn release_replaced(stored: &Bound<'_, PyAny>, replaced: Py<PyAny>) {
    if !replaced.is(stored) {
        release(stored.py(), replaced);
    }
}

/// Drops the store's reference to `job`, tracking the job again if anything else
/// still holds it. The store no longer holds the object.
pub(crate) fn release(py: Python<'_>, job: Py<PyAny>) {
    let job = job.into_bound(py);
    // SAFETY: `job` is a live object, held by `job`.
    let shared = unsafe { ffi::Py_REFCNT(job.as_ptr()) } > 1;
    // With no reference but the store's, the job is freed right below.
    if shared && is_library_job(&job) {
        // SAFETY: `job` is a live object of a collector-tracked class (exactly `Job`);
        // tracking it again is allowed only while it is untracked, which is checked
        // first.
        unsafe {
            if ffi::PyObject_GC_IsTracked(job.as_ptr()) == 0 {
                ffi::PyObject_GC_Track(job.as_ptr().cast());
            }
        }
    }
}
