//! Stored jobs that nothing but the memory store holds, kept in a compact form.
//!
//! A stored `Job` is a set of Python objects: the job itself, its id string, its
//! `kwargs` dict, its next run time and its trigger with the trigger's start date.
//! Together they take about 550 bytes per job, which the store holds for as long as
//! the job is scheduled. A dormant job keeps the same state in 64 bytes: its id is the
//! store's key already, its datetimes are packed into 16 bytes each, and what it has in
//! common with the jobs stored before it (function, scheduler, executor, options, the
//! trigger's zone and step) is shared with them.
//!
//! Nobody can tell a job was dormant. A job is put to sleep only when the store holds
//! the only reference to it (so no one can see the object go, or change it afterwards)
//! and no weak reference to it exists. It is woken, as a new object with equal
//! attributes, by any read of the store; the woken object takes the dormant form's
//! place, so whoever reads the job again while anyone holds it gets the same object.
//!
//! Only jobs of exactly the library's `Job` class are put to sleep, with datetimes of
//! exactly `datetime.datetime`. A trigger is packed when it is the library's
//! `IntervalTrigger` and the job holds the only reference to it; any other trigger is
//! kept as the object it is.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::Borrowed;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDelta, PyDict, PyFloat, PyString};

use super::common::{self, new_instance};
use super::datetime_layout::{layout, Layout};
use super::interval::{IntervalAttributeRefs, IntervalAttributes, PyIntervalTrigger};
use super::slots::{borrowed_job_slots, has_weak_references, job_places_found, set_job_attr, JobSlot};
use super::zones;
use crate::jobstore::JobKey;
use crate::time::civil;

/// A job as the memory store holds it.
pub(crate) enum Stored {
    /// The job object itself.
    Live(Py<PyAny>),
    /// The job's state, with no object (see the module's documentation).
    Dormant(Box<DormantJob>),
}

pub(crate) struct DormantJob {
    shape: Arc<JobShape>,
    next_run_time: PackedTime,
    trigger: DormantTrigger,
}

/// The attributes a job usually has in common with the jobs stored before it. Two jobs
/// share a shape when every attribute is the same object.
struct JobShape {
    scheduler: Py<PyAny>,
    jobstore_alias: Py<PyAny>,
    func: Py<PyAny>,
    func_ref: Py<PyAny>,
    name: Py<PyAny>,
    executor: Py<PyAny>,
    args: Py<PyAny>,
    misfire_grace_time: Py<PyAny>,
    coalesce: Py<PyAny>,
    max_instances: Py<PyAny>,
    /// `None` for an empty dict the job alone held: a new one is made when it wakes.
    kwargs: Option<Py<PyAny>>,
}

enum DormantTrigger {
    Object(Py<PyAny>),
    Interval { shape: Arc<IntervalShape>, start_date: PackedTime },
}

/// An interval trigger's attributes other than its start date. Two triggers share a
/// shape when their zone, end date and jitter are the same objects and their step is
/// equal (each trigger made by `add_job(func, 'interval', ...)` has a step of its own).
struct IntervalShape {
    timezone: Py<PyAny>,
    end_date: Py<PyAny>,
    interval: Py<PyAny>,
    interval_length: Py<PyAny>,
    jitter: Py<PyAny>,
}

/// A datetime's wall-clock fields and fold, packed into one word, with its tzinfo; or
/// `None` (no datetime).
struct PackedTime {
    fields: u64,
    tzinfo: Option<Py<PyAny>>,
}

/// What putting a job to sleep came to.
pub(crate) enum Sleep {
    Done(Box<DormantJob>),
    /// Something else holds the job, or a weak reference to it: it may be let go later.
    Held,
    /// The job has something the dormant form cannot keep.
    Never,
}

/// The shapes a store built last, shared with the next job put to sleep alike.
#[derive(Default)]
pub(crate) struct Shapes {
    job: Option<Arc<JobShape>>,
    interval: Option<Arc<IntervalShape>>,
}

impl Shapes {
    pub(crate) fn is_empty(&self) -> bool {
        self.job.is_none() && self.interval.is_none()
    }
}

/// Objects let go under the store's lock, dropped after it: freeing a Python object
/// may run Python code.
#[derive(Default)]
pub(crate) struct Released {
    objects: Vec<Py<PyAny>>,
    job_shapes: Vec<Arc<JobShape>>,
    interval_shapes: Vec<Arc<IntervalShape>>,
}

impl Released {
    pub(crate) fn object(&mut self, object: Py<PyAny>) {
        self.objects.push(object);
    }
}

/// The classes a job is woken as.
pub(crate) struct Classes {
    job: Py<PyAny>,
    interval_trigger: Py<PyAny>,
    layout: &'static Layout,
}

/// The classes, found once; `None` when datetimes or `Job`'s slots cannot be read in
/// place (then no job is put to sleep). Call it before taking the store's lock: the
/// first call imports modules, and finds the places of `Job`'s slots, which are read
/// under the lock.
pub(crate) fn classes(py: Python<'_>) -> Option<&Classes> {
    static CLASSES: PyOnceLock<Option<Classes>> = PyOnceLock::new();
    CLASSES
        .get_or_init(py, || {
            if !job_places_found(py) {
                return None;
            }
            let job = py.import("apscheduler.job").and_then(|module| module.getattr("Job")).ok()?;
            let interval = py.import("apscheduler.triggers.interval").and_then(|module| module.getattr("IntervalTrigger")).ok()?;
            Some(Classes { job: job.unbind(), interval_trigger: interval.unbind(), layout: layout(py)? })
        })
        .as_ref()
}

/// The number of references to `object`.
fn references(object: Borrowed<'_, '_, PyAny>) -> isize {
    // SAFETY: `object` is a live object.
    unsafe { ffi::Py_REFCNT(object.as_ptr()) }
}

/// Puts `job`, stored under `key`, to sleep if nothing else holds it. Called with the
/// store's lock held: it only reads objects and takes references, and whatever it lets
/// go goes to `released`. The caller puts the dormant form in the job's place and lets
/// the job object go.
///
/// The job's attributes are borrowed from its slots, and compared with the shapes
/// shared so far without taking references: most jobs are like the one stored before
/// them, and then the only references taken are to the shared shapes.
pub(crate) fn put_to_sleep(
    job: &Bound<'_, PyAny>,
    key: &JobKey,
    classes: &Classes,
    shapes: &mut Shapes,
    released: &mut Released,
) -> Sleep {
    // The store's reference is the only one.
    if references(job.as_borrowed()) != 1 {
        return Sleep::Held;
    }
    let Some(slots) = borrowed_job_slots(job) else { return Sleep::Never };
    if has_weak_references(job) {
        return Sleep::Held;
    }
    let [id, trigger, executor, next_run_time, coalesce, max_instances, misfire_grace_time, jobstore_alias, scheduler, func, func_ref, args, kwargs, name] =
        slots;
    // The id is the store's key again when the job wakes.
    let same_id = id.cast::<PyString>().ok().filter(|id| id.is_exact_instance_of::<PyString>());
    if !same_id.and_then(|id| common::text(&id).ok().map(|id| key.is_key_of(id))).unwrap_or(false) {
        return Sleep::Never;
    }
    let Some(packed_next_run_time) = PackedTime::pack(&next_run_time, classes.layout) else { return Sleep::Never };
    // The job's reference is the only one.
    let own = |value: Borrowed<'_, '_, PyAny>| references(value) == 1;
    let empty_kwargs = match kwargs.cast::<PyDict>() {
        Ok(dict) => dict.is_exact_instance_of::<PyDict>() && dict.is_empty() && own(kwargs),
        Err(_) => false,
    };
    let trigger = match pack_interval(trigger, classes, own(trigger), (next_run_time, &packed_next_run_time), shapes, released) {
        Some(packed) => packed,
        None => DormantTrigger::Object(trigger.to_owned().unbind()),
    };
    let options = [scheduler, jobstore_alias, func, func_ref, name, executor, args, misfire_grace_time, coalesce, max_instances];
    let kwargs = (!empty_kwargs).then_some(kwargs);
    let shape = share(&mut shapes.job, |last| last.is_like(&options, kwargs), || JobShape::new(&options, kwargs), &mut released.job_shapes);
    Sleep::Done(Box::new(DormantJob { shape, next_run_time: packed_next_run_time, trigger }))
}

/// The packed form of `trigger` if it is the library's interval trigger, held by the
/// job alone (`owned`), which is then freed with the job. `first_run` is the job's
/// next run time and its packed form, which a job waiting for its first run shares
/// with the trigger's start date.
fn pack_interval(
    trigger: Borrowed<'_, '_, PyAny>,
    classes: &Classes,
    owned: bool,
    first_run: (Borrowed<'_, '_, PyAny>, &PackedTime),
    shapes: &mut Shapes,
    released: &mut Released,
) -> Option<DormantTrigger> {
    if !owned || !std::ptr::eq(trigger.get_type_ptr(), classes.interval_trigger.as_ptr().cast()) {
        return None;
    }
    let py = trigger.py();
    let native = trigger.cast::<PyIntervalTrigger>().ok()?.try_borrow().ok()?;
    let start_object = native.start_date_object(py);
    let start_date = match start_object.is(&*first_run.0) {
        true => first_run.1.clone_ref(py),
        false => PackedTime::pack(start_object, classes.layout)?,
    };
    let attributes = native.attribute_refs();
    let shape = share(
        &mut shapes.interval,
        |last| last.is_like(&attributes, py),
        || IntervalShape::new(&attributes, py),
        &mut released.interval_shapes,
    );
    Some(DormantTrigger::Interval { shape, start_date })
}

/// The shape in `last` when `alike` says a job's is like it; else a new one `build`
/// makes, which takes its place. The shape replaced is released after the lock.
fn share<T>(last: &mut Option<Arc<T>>, alike: impl FnOnce(&T) -> bool, build: impl FnOnce() -> T, released: &mut Vec<Arc<T>>) -> Arc<T> {
    if let Some(shared) = last.as_ref().filter(|last| alike(last)) {
        return shared.clone();
    }
    let built = Arc::new(build());
    if let Some(replaced) = last.replace(built.clone()) {
        released.push(replaced);
    }
    built
}

impl JobShape {
    /// `options` in the order `is_like` takes them: scheduler, store alias, func,
    /// func_ref, name, executor, args, misfire_grace_time, coalesce, max_instances.
    fn new(options: &[Borrowed<'_, '_, PyAny>; 10], kwargs: Option<Borrowed<'_, '_, PyAny>>) -> JobShape {
        let own = |value: Borrowed<'_, '_, PyAny>| value.to_owned().unbind();
        let [scheduler, jobstore_alias, func, func_ref, name, executor, args, misfire_grace_time, coalesce, max_instances] = *options;
        JobShape {
            scheduler: own(scheduler),
            jobstore_alias: own(jobstore_alias),
            func: own(func),
            func_ref: own(func_ref),
            name: own(name),
            executor: own(executor),
            args: own(args),
            misfire_grace_time: own(misfire_grace_time),
            coalesce: own(coalesce),
            max_instances: own(max_instances),
            kwargs: kwargs.map(own),
        }
    }

    /// Whether a job with these attributes (see `new`) shares this shape: every one is
    /// the same object.
    fn is_like(&self, options: &[Borrowed<'_, '_, PyAny>; 10], kwargs: Option<Borrowed<'_, '_, PyAny>>) -> bool {
        let mine = [
            &self.scheduler,
            &self.jobstore_alias,
            &self.func,
            &self.func_ref,
            &self.name,
            &self.executor,
            &self.args,
            &self.misfire_grace_time,
            &self.coalesce,
            &self.max_instances,
        ];
        mine.iter().zip(options).all(|(mine, theirs)| mine.as_ptr() == theirs.as_ptr())
            && match (&self.kwargs, kwargs) {
                (None, None) => true,
                (Some(mine), Some(theirs)) => mine.as_ptr() == theirs.as_ptr(),
                _ => false,
            }
    }
}

impl IntervalShape {
    fn new(attributes: &IntervalAttributeRefs<'_>, py: Python<'_>) -> IntervalShape {
        IntervalShape {
            timezone: attributes.timezone.clone_ref(py),
            end_date: attributes.end_date.clone_ref(py),
            interval: attributes.interval.clone_ref(py),
            interval_length: attributes.interval_length.clone_ref(py),
            jitter: attributes.jitter.clone_ref(py),
        }
    }

    /// Whether a trigger with these attributes shares this shape: the same zone, end
    /// date and jitter objects, and an equal step.
    fn is_like(&self, attributes: &IntervalAttributeRefs<'_>, py: Python<'_>) -> bool {
        let same = |a: &Py<PyAny>, b: &Py<PyAny>| a.as_ptr() == b.as_ptr();
        same(&self.timezone, attributes.timezone)
            && same(&self.end_date, attributes.end_date)
            && same(&self.jitter, attributes.jitter)
            && (same(&self.interval, attributes.interval) || equal_steps(self.interval.bind(py), attributes.interval.bind(py)))
            && (same(&self.interval_length, attributes.interval_length)
                || equal_lengths(self.interval_length.bind(py), attributes.interval_length.bind(py)))
    }
}

/// Whether two objects are `timedelta`s (exactly) of the same length. The comparison
/// runs under the store's lock, so it reads the values in place and calls nothing.
fn equal_steps(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> bool {
    let exact = |value: &Bound<'_, PyAny>| value.is_exact_instance_of::<PyDelta>();
    exact(a) && exact(b) && zones::delta_micros(a).is_some_and(|micros| zones::delta_micros(b) == Some(micros))
}

/// Whether two objects are `float`s (exactly) with the same bits.
fn equal_lengths(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> bool {
    let value = |value: &Bound<'_, PyAny>| {
        value.is_exact_instance_of::<PyFloat>().then(|| value.cast::<PyFloat>().ok().map(|float| float.value().to_bits())).flatten()
    };
    value(a).is_some_and(|bits| value(b) == Some(bits))
}

impl DormantJob {
    /// A copy holding references of its own, to wake the job from once the store's
    /// lock is let go.
    pub(crate) fn snapshot(&self, py: Python<'_>) -> DormantJob {
        DormantJob {
            shape: self.shape.clone(),
            next_run_time: self.next_run_time.clone_ref(py),
            trigger: match &self.trigger {
                DormantTrigger::Object(trigger) => DormantTrigger::Object(trigger.clone_ref(py)),
                DormantTrigger::Interval { shape, start_date } => {
                    DormantTrigger::Interval { shape: shape.clone(), start_date: start_date.clone_ref(py) }
                }
            },
        }
    }

    /// The job's `next_run_time`, made anew.
    pub(crate) fn next_run_time<'py>(&self, py: Python<'py>, classes: &Classes) -> PyResult<Bound<'py, PyAny>> {
        self.next_run_time.unpack(py, classes.layout)
    }

    /// A new `Job` object with the job's attributes, stored under `key`.
    pub(crate) fn wake<'py>(&self, py: Python<'py>, key: &JobKey, classes: &Classes) -> PyResult<Bound<'py, PyAny>> {
        let shape = &*self.shape;
        let job = new_instance(classes.job.bind(py))?;
        let next_run_time = self.next_run_time.unpack(py, classes.layout)?;
        let trigger = match &self.trigger {
            DormantTrigger::Object(trigger) => trigger.bind(py).clone(),
            DormantTrigger::Interval { shape, start_date } => {
                // A job waiting for its first run has its trigger's start date as its
                // next run time, one object: so it is again.
                let start_date = match start_date.is(&self.next_run_time) {
                    true => next_run_time.clone(),
                    false => start_date.unpack(py, classes.layout)?,
                };
                let trigger = new_instance(classes.interval_trigger.bind(py))?;
                trigger.cast::<PyIntervalTrigger>()?.try_borrow_mut()?.put_attributes(IntervalAttributes {
                    timezone: shape.timezone.clone_ref(py),
                    start_date: start_date.unbind(),
                    end_date: shape.end_date.clone_ref(py),
                    interval: shape.interval.clone_ref(py),
                    interval_length: shape.interval_length.clone_ref(py),
                    jitter: shape.jitter.clone_ref(py),
                });
                trigger
            }
        };
        let kwargs = match &shape.kwargs {
            Some(kwargs) => kwargs.bind(py).clone(),
            None => PyDict::new(py).into_any(),
        };
        let id = key.with_text(|text| PyString::new(py, text));
        let values: [(JobSlot, &Bound<'py, PyAny>); 14] = [
            (JobSlot::Id, id.as_any()),
            (JobSlot::Trigger, &trigger),
            (JobSlot::Executor, shape.executor.bind(py)),
            (JobSlot::NextRunTime, &next_run_time),
            (JobSlot::Coalesce, shape.coalesce.bind(py)),
            (JobSlot::MaxInstances, shape.max_instances.bind(py)),
            (JobSlot::MisfireGraceTime, shape.misfire_grace_time.bind(py)),
            (JobSlot::JobstoreAlias, shape.jobstore_alias.bind(py)),
            (JobSlot::Scheduler, shape.scheduler.bind(py)),
            (JobSlot::Func, shape.func.bind(py)),
            (JobSlot::FuncRef, shape.func_ref.bind(py)),
            (JobSlot::Args, shape.args.bind(py)),
            (JobSlot::Kwargs, &kwargs),
            (JobSlot::Name, shape.name.bind(py)),
        ];
        for (slot, value) in values {
            set_job_attr(&job, slot, value)?;
        }
        Ok(job)
    }
}

/// Bits of the packed fields, from the lowest: fold 1, microsecond 20, second 6,
/// minute 6, hour 5, day 5, month 4, year 14. A datetime never uses the top bits,
/// which mark the absence of one.
const NO_TIME: u64 = u64::MAX;

impl PackedTime {
    /// `value` (a datetime of exactly the standard class, or `None`) packed; `None` for
    /// anything else.
    fn pack(value: &Bound<'_, PyAny>, layout: &Layout) -> Option<PackedTime> {
        if value.is_none() {
            return Some(PackedTime { fields: NO_TIME, tzinfo: None });
        }
        let (local, fold, tzinfo) = layout.read(value)?;
        let fields = (u64::try_from(local.year()).ok()? << 47)
            | (u64::from(local.month()) << 43)
            | (u64::from(local.day()) << 38)
            | (u64::from(local.hour()) << 33)
            | (u64::from(local.minute()) << 27)
            | (u64::from(local.second()) << 21)
            | (u64::from(civil::microsecond(local)) << 1)
            | u64::from(fold);
        Some(PackedTime { fields, tzinfo: tzinfo.map(Bound::unbind) })
    }

    fn unpack<'py>(&self, py: Python<'py>, layout: &Layout) -> PyResult<Bound<'py, PyAny>> {
        if self.fields == NO_TIME {
            return Ok(py.None().into_bound(py));
        }
        let field = |shift: u32, bits: u32| ((self.fields >> shift) & ((1 << bits) - 1)) as u32;
        let local = NaiveDate::from_ymd_opt(field(47, 14) as i32, field(43, 4), field(38, 5))
            .and_then(|date| date.and_hms_micro_opt(field(33, 5), field(27, 6), field(21, 6), field(1, 20)));
        let local: NaiveDateTime =
            local.ok_or_else(|| pyo3::exceptions::PySystemError::new_err("a packed datetime did not unpack"))?;
        layout.make(py, local, self.tzinfo.as_ref().map(|tz| tz.bind(py)), field(0, 1) == 1)
    }

    /// Whether both are the same value: the same fields in the same tzinfo object.
    fn is(&self, other: &PackedTime) -> bool {
        self.fields == other.fields
            && match (&self.tzinfo, &other.tzinfo) {
                (None, None) => true,
                (Some(a), Some(b)) => a.as_ptr() == b.as_ptr(),
                _ => false,
            }
    }

    fn clone_ref(&self, py: Python<'_>) -> PackedTime {
        PackedTime { fields: self.fields, tzinfo: self.tzinfo.as_ref().map(|tz| tz.clone_ref(py)) }
    }
}
