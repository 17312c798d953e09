//! How a pool worker reports a run that returned: what `BaseExecutor._run_job_success`
//! and `BaseScheduler._dispatch_event` do, natively, for an executor and a scheduler
//! that use those methods as the library defines them. An executor or scheduler that
//! overrides one (a plug-in, a test) gets its own method called instead.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};

use super::python_locks;
use super::slots::{job_attr, JobSlot};
use super::version_tags::remembered_yes;

/// The library's methods that a worker's report depends on.
pub(crate) struct LibraryMethods {
    run_job_success: Py<PyAny>,
    release_instance: Py<PyAny>,
    pub(crate) dispatch_event: Py<PyAny>,
}

pub(crate) fn library_methods(py: Python<'_>) -> PyResult<&LibraryMethods> {
    static METHODS: PyOnceLock<LibraryMethods> = PyOnceLock::new();
    METHODS.get_or_try_init(py, || {
        let executor = py.import("apscheduler.executors.base")?.getattr("BaseExecutor")?;
        let scheduler = py.import("apscheduler.schedulers.base")?.getattr("BaseScheduler")?;
        Ok(LibraryMethods {
            run_job_success: executor.getattr("_run_job_success")?.unbind(),
            release_instance: executor.getattr("_release_instance")?.unbind(),
            dispatch_event: scheduler.getattr("_dispatch_event")?.unbind(),
        })
    })
}

/// Whether `obj.<name>` is the library's own function `expected`: neither a subclass
/// nor the instance has replaced it.
pub(crate) fn is_library_method(obj: &Bound<'_, PyAny>, name: &Bound<'_, PyString>, expected: &Py<PyAny>) -> PyResult<bool> {
    are_library_methods(obj, &[(name, expected)])
}

/// `is_library_method` for several methods of one object, reading its `__dict__` once.
/// A yes is remembered until the object's class or attributes change
/// (`version_tags`).
pub(crate) fn are_library_methods(obj: &Bound<'_, PyAny>, methods: &[(&Bound<'_, PyString>, &Py<PyAny>)]) -> PyResult<bool> {
    Ok(plain_object(obj, methods, &[])?.is_some())
}

/// An object whose methods were found to be the library's, and whose attributes of
/// some names are read from its `__dict__` directly: its class defines no
/// `__getattribute__` of its own and none of those names as a data descriptor, so
/// that is where attribute lookup would find them, after a lookup in the class.
pub(crate) struct PlainObject<'py> {
    object: Bound<'py, PyAny>,
    attributes: Option<Bound<'py, PyDict>>,
}

impl<'py> PlainObject<'py> {
    pub(crate) fn object(&self) -> &Bound<'py, PyAny> {
        &self.object
    }

    /// `object.<name>`, for one of the names `plain_object` checked.
    pub(crate) fn get(&self, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
        if let Some(attributes) = &self.attributes {
            if let Some(value) = super::dict_lookups::get(attributes, name.as_any())? {
                return Ok(value);
            }
        }
        self.object.getattr(name)
    }
}

/// `obj` as a `PlainObject`, when `methods` are the library's (neither its class nor
/// the instance replaced them) and `attributes` may be read from its `__dict__`; else
/// `None`. A yes is remembered until the object's class or attributes change
/// (`version_tags`).
pub(crate) fn plain_object<'py>(
    obj: &Bound<'py, PyAny>,
    methods: &[(&Bound<'_, PyString>, &Py<PyAny>)],
    attributes: &[&Bound<'_, PyString>],
) -> PyResult<Option<PlainObject<'py>>> {
    let py = obj.py();
    let instance_attributes = super::common::instance_dict(obj);
    let class = obj.get_type();
    // The question: the first expected method, and the names asked about folded into
    // one word (interned names, alive for the program, so their addresses are theirs).
    let first = methods.first().map_or(0, |(_, expected)| expected.as_ptr() as usize);
    let names = methods.iter().map(|(name, _)| *name).chain(attributes.iter().copied());
    let folded = names.fold(methods.len() | attributes.len() << 8, |folded, name| folded.rotate_left(13) ^ name.as_ptr() as usize);
    let question = (first, folded);
    let plain = remembered_yes(question, &class, [instance_attributes.as_ref(), None], || {
        for (name, expected) in methods {
            // A type without the attribute (a mock that makes it up per instance) is
            // not the library's.
            match class.getattr(*name) {
                Ok(found) if found.is(expected.bind(py)) => {}
                _ => return Ok(false),
            }
        }
        if let Some(instance_attributes) = &instance_attributes {
            for (name, _) in methods {
                if instance_attributes.contains(*name)? {
                    return Ok(false);
                }
            }
        }
        if !attributes.is_empty() && !reads_attributes_plainly(&class, attributes)? {
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(plain.then_some(PlainObject { object: obj.clone(), attributes: instance_attributes }))
}

/// Whether instances of `class` get `attributes` from their `__dict__` when they have
/// them there: the class keeps `object`'s `__getattribute__`, and defines none of the
/// names as a data descriptor (a property, a slot), which would come first.
fn reads_attributes_plainly(class: &Bound<'_, PyType>, attributes: &[&Bound<'_, PyString>]) -> PyResult<bool> {
    static OBJECT_GETATTRIBUTE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let py = class.py();
    let getattribute = intern!(py, "__getattribute__");
    let standard = OBJECT_GETATTRIBUTE.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("builtins")?.getattr("object")?.getattr(getattribute)?.unbind())
    })?;
    if !class.getattr(getattribute)?.is(standard.bind(py)) {
        return Ok(false);
    }
    for name in attributes {
        let Ok(found) = class.getattr(*name) else { continue };
        let kind = found.get_type();
        if kind.hasattr(intern!(py, "__set__"))? || kind.hasattr(intern!(py, "__delete__"))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `executor._run_job_success(job.id, events)`.
pub fn report_success<'py>(executor: &Bound<'py, PyAny>, job: &Bound<'py, PyAny>, events: Bound<'py, PyAny>) -> PyResult<()> {
    let job_id = job_attr(job, JobSlot::Id)?;
    Reporter::new(executor)?.report_success(&job_id, events)
}

/// `executor._run_job_success(job_id, events)` for a batch of one executor's runs.
///
/// Which methods are the library's is asked before the first report and again after
/// any report that called a listener: only a listener (or a `__del__`) can replace one
/// meanwhile, and the answers hold until some Python code has run.
pub struct Reporter<'py> {
    executor: Bound<'py, PyAny>,
    checked: Option<Checked<'py>>,
}

#[derive(Clone)]
struct Checked<'py> {
    own_success: bool,
    own_release: bool,
    scheduler: Bound<'py, PyAny>,
    own_dispatch: bool,
    /// `scheduler._listeners`, read once the scheduler is known to keep it in its
    /// `__dict__`; `None` to look it up when needed.
    listeners: Option<Bound<'py, PyAny>>,
}

impl<'py> Checked<'py> {
    /// `scheduler._listeners`.
    fn listeners(&self) -> PyResult<Bound<'py, PyAny>> {
        match &self.listeners {
            Some(listeners) => Ok(listeners.clone()),
            None => self.scheduler.getattr(intern!(self.scheduler.py(), "_listeners")),
        }
    }
}

impl<'py> Reporter<'py> {
    pub fn new(executor: &Bound<'py, PyAny>) -> PyResult<Self> {
        Ok(Reporter { executor: executor.clone(), checked: None })
    }

    pub fn executor(&self) -> &Bound<'py, PyAny> {
        &self.executor
    }

    fn checked(&mut self) -> PyResult<Checked<'py>> {
        if let Some(checked) = &self.checked {
            return Ok(checked.clone());
        }
        let executor = &self.executor;
        let py = executor.py();
        let methods = library_methods(py)?;
        let success = (intern!(py, "_run_job_success"), &methods.run_job_success);
        let release = (intern!(py, "_release_instance"), &methods.release_instance);
        let scheduler_name = intern!(py, "_scheduler");
        // Both the library's, the usual answer, is asked in one go, with the scheduler
        // read from the executor's __dict__.
        let (own_success, own_release, scheduler) = match plain_object(executor, &[success, release], &[scheduler_name])? {
            Some(plain) => (true, true, plain.get(scheduler_name)?),
            None => {
                let own_success = is_library_method(executor, success.0, success.1)?;
                let own_release = own_success && is_library_method(executor, release.0, release.1)?;
                (own_success, own_release, executor.getattr(scheduler_name)?)
            }
        };
        let dispatch = (intern!(py, "_dispatch_event"), &methods.dispatch_event);
        let listeners_name = intern!(py, "_listeners");
        let (own_dispatch, listeners) = match plain_object(&scheduler, &[dispatch], &[listeners_name])? {
            Some(plain) => (true, Some(plain.get(listeners_name)?)),
            None => (is_library_method(&scheduler, dispatch.0, dispatch.1)?, None),
        };
        let checked = Checked { own_success, own_release, scheduler, own_dispatch, listeners };
        self.checked = Some(checked.clone());
        Ok(checked)
    }

    /// Whether reporting a batch would call nothing but the library's code: its own
    /// report methods, and no listener registered. Then nothing can tell the batch's
    /// reports apart from one another, and `release_all` may release their instances
    /// under one acquisition of the executor's lock.
    pub fn is_quiet(&mut self) -> PyResult<bool> {
        let checked = self.checked()?;
        if !(checked.own_success && checked.own_release && checked.own_dispatch) {
            return Ok(false);
        }
        let listeners = checked.listeners()?;
        Ok(listeners.cast::<PyList>().is_ok_and(|list| list.is_empty()))
    }

    /// Whether the events of runs that returned would reach nobody: the report methods
    /// are the library's and no listener wants `EVENT_JOB_EXECUTED` (an error listener,
    /// say, is all there is). Then they need not be built.
    pub fn executed_unheard(&mut self) -> PyResult<bool> {
        let checked = self.checked()?;
        if !(checked.own_success && checked.own_dispatch) {
            return Ok(false);
        }
        Ok(!listeners_in_may_want(&checked.listeners()?, EVENT_JOB_EXECUTED)?)
    }

    /// `_release_instance(job_id)` for each job of a quiet batch (see `is_quiet`).
    pub fn release_all(&self, job_ids: &[Bound<'py, PyAny>]) -> PyResult<()> {
        let executor = &self.executor;
        let py = executor.py();
        let lock = executor.getattr(intern!(py, "_lock"))?;
        let instances = executor.getattr(intern!(py, "_instances"))?;
        with_lock_without_convoy(&lock, || job_ids.iter().try_for_each(|job_id| release_counted(&instances, job_id)))?;
        job_ids.iter().try_for_each(notify_run_watchers)
    }

    /// `_run_job_success(job_id, events)`: one instance of the job fewer, then each
    /// event to the listeners that want it.
    pub fn report_success(&mut self, job_id: &Bound<'py, PyAny>, events: Bound<'py, PyAny>) -> PyResult<()> {
        let py = self.executor.py();
        let checked = self.checked()?;
        let executor = &self.executor;
        let (Ok(events), true) = (events.cast::<PyList>(), checked.own_success) else {
            self.checked = None;
            executor.call_method1(intern!(py, "_run_job_success"), (job_id, events))?;
            return Ok(());
        };

        if checked.own_release {
            release_instance(executor, job_id)?;
        } else {
            self.checked = None;
            executor.call_method1(intern!(py, "_release_instance"), (job_id,))?;
        }

        if checked.own_dispatch {
            let called = dispatch_events(&checked.scheduler, checked.listeners.as_ref(), events);
            if !matches!(called, Ok(false)) {
                self.checked = None;
            }
            called.map(drop)
        } else {
            self.checked = None;
            for event in events.iter() {
                checked.scheduler.call_method1(intern!(py, "_dispatch_event"), (event,))?;
            }
            Ok(())
        }
    }
}

/// `BaseExecutor._release_instance`: one instance of the job fewer, under the
/// executor's lock.
fn release_instance(executor: &Bound<'_, PyAny>, job_id: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = executor.py();
    let lock = executor.getattr(intern!(py, "_lock"))?;
    let instances = executor.getattr(intern!(py, "_instances"))?;
    with_lock_without_convoy(&lock, || release_counted(&instances, job_id))?;
    notify_run_watchers(job_id)
}

/// `apscheduler._runwatch.released(job_id)`, when a shared job store waits for runs
/// to end (its registry is not empty); see that module.
fn notify_run_watchers(job_id: &Bound<'_, PyAny>) -> PyResult<()> {
    static RUNWATCH: PyOnceLock<(Py<PyDict>, Py<PyAny>)> = PyOnceLock::new();
    let py = job_id.py();
    let (watchers, released) = RUNWATCH.get_or_try_init(py, || -> PyResult<_> {
        let module = py.import("apscheduler._runwatch")?;
        Ok((module.getattr("watchers")?.cast_into::<PyDict>()?.unbind(), module.getattr("released")?.unbind()))
    })?;
    if watchers.bind(py).is_empty() {
        return Ok(());
    }
    released.bind(py).call1((job_id,))?;
    Ok(())
}

/// The count of `_release_instance`, the executor's lock held.
fn release_counted(instances: &Bound<'_, PyAny>, job_id: &Bound<'_, PyAny>) -> PyResult<()> {
    let left: i64 = instances.get_item(job_id)?.extract::<i64>()? - 1;
    if left == 0 {
        instances.del_item(job_id)
    } else {
        instances.set_item(job_id, left)
    }
}

/// Takes a Python lock without ever holding it while waiting for the GIL.
///
/// A blocking `acquire()` waits for the lock with the GIL released, then takes the GIL
/// back while holding the lock. If the scheduler's thread wants the lock next (it
/// takes the executor's lock for every job it submits), the two threads then hand the
/// lock and the GIL back and forth at every job, with a context switch each way; on
/// two cores that convoy halved the pool's throughput. Trying without blocking, and
/// letting the GIL go between tries, keeps the lock only in hands that hold the GIL.
pub(crate) fn acquire_without_convoy(lock: &Bound<'_, PyAny>) -> PyResult<()> {
    while !python_locks::try_acquire(lock)? {
        lock.py().detach(std::thread::yield_now);
    }
    Ok(())
}

/// Runs `body` holding the Python lock `lock`, taken with `acquire_without_convoy`,
/// and releases the lock whatever `body` returns.
pub fn with_lock_without_convoy<T>(lock: &Bound<'_, PyAny>, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    acquire_without_convoy(lock)?;
    let result = body();
    release_lock(lock)?;
    result
}

/// `lock.release()`.
pub(crate) fn release_lock(lock: &Bound<'_, PyAny>) -> PyResult<()> {
    python_locks::release(lock)
}

/// `EVENT_JOB_EXECUTED`.
const EVENT_JOB_EXECUTED: i64 = 1 << 12;

/// Whether some listener of `scheduler` may want events of `code`: `false` only when
/// that is certain without running Python code, that is when no listener is
/// registered, or when every entry of the plain list of listeners is a `(callback,
/// mask)` tuple with a machine-sized mask without `code`. The list is read with the
/// GIL held, as `dispatch_events` reads it. Whether the scheduler's methods that use
/// the list are the library's is for the caller to check.
pub(crate) fn listeners_may_want(scheduler: &Bound<'_, PyAny>, code: i64) -> PyResult<bool> {
    listeners_in_may_want(&scheduler.getattr(intern!(scheduler.py(), "_listeners"))?, code)
}

/// `listeners_may_want` for the scheduler's `_listeners`, read by the caller.
pub(crate) fn listeners_in_may_want(listeners: &Bound<'_, PyAny>, code: i64) -> PyResult<bool> {
    let Ok(listeners) = listeners.cast_exact::<PyList>() else { return Ok(true) };
    for entry in listeners.iter() {
        let Ok(pair) = entry.cast::<PyTuple>() else { return Ok(true) };
        let Ok(mask) = pair.get_item(1).and_then(|mask| mask.extract::<i64>()) else { return Ok(true) };
        if mask & code != 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `BaseScheduler._dispatch_event` for each event: every listener whose mask has the
/// event's code is called, on a snapshot of the listeners taken under their lock.
/// Returns whether any listener was called.
fn dispatch_events(scheduler: &Bound<'_, PyAny>, listeners: Option<&Bound<'_, PyAny>>, events: &Bound<'_, PyList>) -> PyResult<bool> {
    let py = scheduler.py();
    if events.is_empty() {
        return Ok(false);
    }
    let listeners = match listeners {
        Some(listeners) => listeners.clone(),
        None => scheduler.getattr(intern!(py, "_listeners"))?,
    };
    // With the GIL held, nobody changes the list while its length is read: an empty
    // list needs no snapshot, and so no lock round trip.
    if listeners.cast::<PyList>().is_ok_and(|list| list.is_empty()) {
        return Ok(false);
    }
    let listeners = match listeners.cast_exact::<PyList>() {
        // The library changes its list of listeners in one step each time (an append,
        // a slice assignment), under the lock but with the GIL held. Copying the list
        // with the GIL held therefore sees it as it was before or after any such
        // change, exactly as a copy taken under the lock would; the lock round trip
        // is saved for every event.
        Ok(list) => list.to_tuple(),
        Err(_) => {
            let lock = scheduler.getattr(intern!(py, "_listeners_lock"))?;
            with_lock_without_convoy(&lock, || {
                listeners.try_iter().and_then(|entries| PyTuple::new(py, entries.collect::<PyResult<Vec<_>>>()?))
            })?
        }
    };
    if listeners.is_empty() {
        return Ok(false);
    }

    let mut called = false;
    for event in events.iter() {
        let code = event.getattr(intern!(py, "code"))?;
        let small_code = code.extract::<i64>().ok();
        for entry in listeners.iter() {
            let (callback, mask) = match entry.cast::<PyTuple>() {
                Ok(pair) => (pair.get_item(0)?, pair.get_item(1)?),
                Err(_) => (entry.get_item(0)?, entry.get_item(1)?),
            };
            // `code & mask`, computed here when both are machine-sized integers.
            let wanted = match (small_code, mask.extract::<i64>()) {
                (Some(code), Ok(mask)) => code & mask != 0,
                _ => code.bitand(&mask)?.is_truthy()?,
            };
            if !wanted {
                continue;
            }
            called = true;
            if let Err(error) = callback.call1((&event,)) {
                let logger = scheduler.getattr(intern!(py, "_logger"))?;
                let kwargs = PyDict::new(py);
                kwargs.set_item(intern!(py, "exc_info"), error.into_value(py))?;
                logger.call_method(intern!(py, "error"), ("Error notifying listener",), Some(&kwargs))?;
            }
        }
    }
    Ok(called)
}
