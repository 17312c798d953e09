//! `BaseScheduler.add_job` for the common case, done natively: a plain function, a
//! trigger by alias or instance, the default options or plain values for them, and a
//! scheduler whose add path is the library's own.
//!
//! It does what the Python path does, in the same order and with the same errors:
//! build the trigger, build the `Job`, check the callable's arguments, complete the
//! job with the scheduler's defaults and first run time, store it under the job store
//! lock, then report it; or, while the scheduler is stopped, keep it pending. It
//! declines (returns `None`) before doing anything when a call is not of that kind,
//! and the Python path takes it: arguments that need converting or would fail
//! validation, a replaced method or class. Everything it cannot decide cheaply is asked of the Python helper
//! that the Python path would call.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple, PyType};

use super::callable_check::check_callable_args;
use super::common::{self, new_instance, untrack};
use super::cron::PyCronTrigger;
use super::due_runs::{ask_next_fire_time, is_aware, is_native_interval, trigger_result_utc};
use super::dict_lookups;
use super::python_locks;
use super::function_fields;
use super::interval::PyIntervalTrigger;
use super::job_reports::report_job_added;
use super::jobstores::{stored_id_key, PyMemoryJobStore, Watch};
use super::report::{are_library_methods, plain_object, PlainObject};
use super::slots::{job_attr, job_has, set_job_attr, set_job_attrs, JobSlot};
use super::version_tags::remembered_yes;
use super::zones;
use crate::jobstore::RunKey;

/// What the add path reads from the library's modules, found once. Module globals that
/// tests replace (`datetime`, `Job`) are read from the module dictionaries at each call.
struct Library {
    scheduler_globals: Py<PyDict>,
    util_globals: Py<PyDict>,
    job_globals: Py<PyDict>,
    job_class: Py<PyAny>,
    job_init: Py<PyAny>,
    plain_modify: Py<PyAny>,
    /// `job._new_job_id`, whose steps the add path takes itself.
    new_job_id: Py<PyAny>,
    base_trigger: Py<PyAny>,
    function_type: Py<PyAny>,
    undefined: Py<PyAny>,
    conflicting_id_error: Py<PyAny>,
    native_add_job: Py<PyAny>,
    native_update_job: Py<PyAny>,
    /// `ADD_PATH_METHODS` with `BaseScheduler`'s functions of those names.
    add_path_methods: [(Py<PyString>, Py<PyAny>); ADD_PATH_METHODS.len()],
    add_path_attributes: [Py<PyString>; ADD_PATH_ATTRIBUTES.len()],
    /// `IntervalTrigger` and its `__init__`, which the add path may skip.
    interval_trigger: (Py<PyAny>, Py<PyAny>),
    /// `CronTrigger` and its (native) `__init__`, which the add path calls directly.
    cron_trigger: (Py<PyAny>, Py<PyAny>),
    /// `datetime.datetime` of the standard library.
    stdlib_datetime: Py<PyAny>,
    /// The public trigger classes, whose instances the add path untracks.
    trigger_classes: Vec<Py<PyAny>>,
}

fn library(py: Python<'_>) -> PyResult<&Library> {
    static LIBRARY: PyOnceLock<Library> = PyOnceLock::new();
    LIBRARY.get_or_try_init(py, || {
        let scheduler = py.import("apscheduler.schedulers.base")?;
        let util = py.import("apscheduler.util")?;
        let job = py.import("apscheduler.job")?;
        let globals = |module: &Bound<'_, PyModule>| -> PyResult<Py<PyDict>> { Ok(module.dict().unbind()) };
        let base_scheduler = scheduler.getattr("BaseScheduler")?;
        let add_path_methods = ADD_PATH_METHODS
            .iter()
            .map(|name| -> PyResult<_> { Ok((PyString::intern(py, name).unbind(), base_scheduler.getattr(*name)?.unbind())) })
            .collect::<PyResult<Vec<_>>>()?
            .try_into()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("ADD_PATH_METHODS"))?;
        let interval = py.import("apscheduler.triggers.interval")?.getattr("IntervalTrigger")?;
        let cron = py.import("apscheduler.triggers.cron")?.getattr("CronTrigger")?;
        Ok(Library {
            add_path_methods,
            add_path_attributes: ADD_PATH_ATTRIBUTES.map(|name| PyString::intern(py, name).unbind()),
            interval_trigger: (interval.clone().unbind(), interval.getattr("__init__")?.unbind()),
            cron_trigger: (cron.clone().unbind(), cron.getattr("__init__")?.unbind()),
            stdlib_datetime: py.import("datetime")?.getattr("datetime")?.unbind(),
            trigger_classes: [
                ("apscheduler.triggers.interval", "IntervalTrigger"),
                ("apscheduler.triggers.cron", "CronTrigger"),
                ("apscheduler.triggers.date", "DateTrigger"),
                ("apscheduler.triggers.calendarinterval", "CalendarIntervalTrigger"),
            ]
            .iter()
            .map(|(module, name)| -> PyResult<_> { Ok(py.import(*module)?.getattr(*name)?.unbind()) })
            .collect::<PyResult<Vec<_>>>()?,
            scheduler_globals: globals(&scheduler)?,
            util_globals: globals(&util)?,
            job_globals: globals(&job)?,
            job_class: job.getattr("Job")?.unbind(),
            job_init: job.getattr("Job")?.getattr("__init__")?.unbind(),
            plain_modify: job.getattr("_plain_modify")?.unbind(),
            new_job_id: job.getattr("_new_job_id")?.unbind(),
            base_trigger: py.import("apscheduler.triggers.base")?.getattr("BaseTrigger")?.unbind(),
            function_type: py.import("types")?.getattr("FunctionType")?.unbind(),
            undefined: util.getattr("undefined")?.unbind(),
            conflicting_id_error: py.import("apscheduler.jobstores.base")?.getattr("ConflictingIdError")?.unbind(),
            native_add_job: py.get_type::<PyMemoryJobStore>().getattr("add_job")?.unbind(),
            native_update_job: py.get_type::<PyMemoryJobStore>().getattr("update_job")?.unbind(),
        })
    })
}

/// The scheduler methods on the add path; replaced on the class or the instance, the
/// Python path runs so that the replacement is called.
const ADD_PATH_METHODS: [&str; 8] = [
    "_create_trigger",
    "_create_plugin_instance",
    "_real_add_job",
    "_store_job",
    "_lookup_jobstore",
    "_job_added",
    "_dispatch_event",
    "_listened_codes",
];

/// The scheduler's attributes the add path reads, from its `__dict__` once the class
/// is known to define none of them as a data descriptor (see `report::PlainObject`).
const ADD_PATH_ATTRIBUTES: [&str; 8] =
    ["state", "_job_defaults", "timezone", "_jobstores_lock", "_jobstores", "_logger", "_listeners", "_pending_jobs"];

/// `STATE_STOPPED`, `STATE_RUNNING` and `STATE_PAUSED`: a started scheduler stores
/// jobs at once, a stopped one keeps them pending.
const KNOWN_STATES: [i64; 3] = [0, 1, 2];
const STATE_STOPPED: i64 = 0;
/// The reference's log line for a job added before `start()`.
const TENTATIVE_MESSAGE: &str = "Adding job tentatively -- it will be properly scheduled when the scheduler starts";

/// A module global, looked up at each call (tests replace some). `name` is an
/// interned string, so the lookup builds no string.
fn global<'py>(globals: &Py<PyDict>, name: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    common::module_global(globals.bind(name.py()), name)
}

/// An option as given: left to the scheduler's default, or a value `_modify` accepts
/// as it is.
enum OptionArg<'py> {
    Default,
    Given(Bound<'py, PyAny>),
}

/// `misfire_grace_time`: `None` or a positive int.
fn grace_time_ok(value: &Bound<'_, PyAny>) -> bool {
    value.is_none() || positive_int(value)
}

fn positive_int(value: &Bound<'_, PyAny>) -> bool {
    value.is_exact_instance_of::<PyInt>() && value.extract::<i64>().is_ok_and(|n| n > 0)
}

/// An option argument the native path can take: the default, or a value of the exact
/// type `_modify` would accept unchanged.
fn screen_option<'py>(value: &Bound<'py, PyAny>, undefined: &Bound<'py, PyAny>, ok: fn(&Bound<'_, PyAny>) -> bool) -> Option<OptionArg<'py>> {
    if value.is(undefined) {
        Some(OptionArg::Default)
    } else if ok(value) {
        Some(OptionArg::Given(value.clone()))
    } else {
        None
    }
}

fn exact_str(value: &Bound<'_, PyAny>) -> bool {
    value.is_exact_instance_of::<PyString>()
}

/// The scheduler, when every method of the add path is the library's own (found on the
/// class as `BaseScheduler` defines it, and not set on the instance), with the
/// attributes the add path reads.
fn plain_scheduler<'py>(scheduler: &Bound<'py, PyAny>, lib: &Library) -> PyResult<Option<PlainObject<'py>>> {
    let py = scheduler.py();
    let methods: [(&Bound<'_, PyString>, &Py<PyAny>); ADD_PATH_METHODS.len()] =
        std::array::from_fn(|index| (lib.add_path_methods[index].0.bind(py), &lib.add_path_methods[index].1));
    let attributes: [&Bound<'_, PyString>; ADD_PATH_ATTRIBUTES.len()] = std::array::from_fn(|index| lib.add_path_attributes[index].bind(py));
    plain_object(scheduler, &methods, &attributes)
}

/// `obj_to_ref(func)` for a plain function: `None` for lambdas and nested functions.
/// The reference text is kept per (module, qualified name), so that the jobs of one
/// function share one string.
fn function_ref<'py>(module: &Bound<'py, PyString>, qualname: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyAny>> {
    type RefKey = (usize, usize);
    /// (module, qualified name) addresses, the two strings, and the reference text.
    /// (Its lock follows the rule of `zones::RECENT_ZONES`.)
    type RefCache = parking_lot::Mutex<Vec<(RefKey, Py<PyString>, Py<PyString>, Py<PyAny>)>>;
    static REFS: PyOnceLock<RefCache> = PyOnceLock::new();
    let py = module.py();
    let refs = REFS.get_or_init(py, Default::default);
    let key = (module.as_ptr() as usize, qualname.as_ptr() as usize);
    // The strings are held by the cache, so their addresses cannot be reused.
    let found = refs.lock().iter().find(|(k, ..)| *k == key).map(|(.., value)| value.clone_ref(py));
    if let Some(value) = found {
        return Ok(value.into_bound(py));
    }
    let name = qualname.to_cow()?;
    let value = if name.contains("<lambda>") || name.contains("<locals>") {
        py.None().into_bound(py)
    } else {
        PyString::new(py, &format!("{}:{}", module.to_cow()?, name)).into_any()
    };
    let mut guard = refs.lock();
    // A program adds jobs for a few functions; one that makes functions on the fly must
    // not grow this without bound. The old entries are released after the lock.
    let old = if guard.len() >= 64 { std::mem::take(&mut *guard) } else { Vec::new() };
    guard.push((key, module.clone().unbind(), qualname.clone().unbind(), value.clone().unbind()));
    drop(guard);
    drop(old);
    Ok(value)
}

/// The scheduler's job defaults, when they are the three options with values `_modify`
/// takes unchanged: `(misfire_grace_time, coalesce, max_instances)`.
fn plain_defaults<'py>(scheduler: &PlainObject<'py>) -> PyResult<Option<[Bound<'py, PyAny>; 3]>> {
    let py = scheduler.object().py();
    let defaults = scheduler.get(intern!(py, "_job_defaults"))?;
    let Ok(defaults) = defaults.cast::<PyDict>() else { return Ok(None) };
    if defaults.len() != 3 {
        return Ok(None);
    }
    let (Some(grace), Some(coalesce), Some(instances)) = (
        dict_lookups::get(defaults, intern!(py, "misfire_grace_time"))?,
        dict_lookups::get(defaults, intern!(py, "coalesce"))?,
        dict_lookups::get(defaults, intern!(py, "max_instances"))?,
    ) else {
        return Ok(None);
    };
    if !grace_time_ok(&grace) || !coalesce.is_exact_instance_of::<PyBool>() || !positive_int(&instances) {
        return Ok(None);
    }
    Ok(Some([grace, coalesce, instances]))
}

/// The trigger arguments of an `add_job` call (its keywords that are not `add_job`'s
/// parameters), in the order given. They are kept as pairs, not a dict: the library's
/// interval and cron triggers take them one by one, and a dict is made only for a call
/// of another trigger class.
pub(crate) struct TriggerArgs<'py> {
    pairs: [Option<(Bound<'py, PyString>, Bound<'py, PyAny>)>; TriggerArgs::CAPACITY],
    len: usize,
}

impl<'py> TriggerArgs<'py> {
    /// More than any trigger of the library takes; a call with more goes the Python way.
    const CAPACITY: usize = 16;

    pub(crate) fn new() -> Self {
        TriggerArgs { pairs: std::array::from_fn(|_| None), len: 0 }
    }

    /// Adds one; `false` (nothing added) when full.
    pub(crate) fn push(&mut self, name: Bound<'py, PyString>, value: Bound<'py, PyAny>) -> bool {
        let Some(place) = self.pairs.get_mut(self.len) else { return false };
        *place = Some((name, value));
        self.len += 1;
        true
    }

    fn iter(&self) -> impl Iterator<Item = &(Bound<'py, PyString>, Bound<'py, PyAny>)> {
        self.pairs[..self.len].iter().flatten()
    }

    fn has(&self, name: &str) -> PyResult<bool> {
        for (key, _) in self.iter() {
            if common::text(key)? == name {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The arguments as the dict `_create_trigger` passes: with `timezone` last when
    /// not given.
    fn to_dict(&self, py: Python<'py>, timezone: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, value) in self.iter() {
            dict.set_item(key, value)?;
        }
        if let Some(timezone) = timezone {
            dict.set_item(intern!(py, "timezone"), timezone)?;
        }
        Ok(dict)
    }
}

/// The job's `trigger`, as `_create_trigger` makes it; `None` when the Python path
/// must (a plug-in not loaded yet, a wrong type whose error it raises).
fn create_trigger<'py>(scheduler: &PlainObject<'py>, lib: &Library, trigger: &Bound<'py, PyAny>, trigger_args: &TriggerArgs<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = scheduler.object().py();
    let alias = if trigger.is_none() {
        intern!(py, "date").clone()
    } else if let Ok(alias) = trigger.cast::<PyString>() {
        alias.clone()
    } else if trigger.is_instance(lib.base_trigger.bind(py))? {
        return Ok(Some(trigger.clone()));
    } else {
        return Ok(None);
    };
    // A class attribute, shared by the schedulers (the plug-ins loaded so far).
    let classes = scheduler.object().getattr(intern!(py, "_trigger_classes"))?;
    let Ok(classes) = classes.cast::<PyDict>() else { return Ok(None) };
    let Some(class) = dict_lookups::get(classes, &alias)? else { return Ok(None) };
    // `trigger_args.setdefault('timezone', self.timezone)`
    let default_timezone = match trigger_args.has("timezone")? {
        true => None,
        false => Some(scheduler.get(intern!(py, "timezone"))?),
    };
    if let Some(trigger) = new_interval_trigger(lib, &class, trigger_args, default_timezone.as_ref())? {
        return Ok(Some(trigger));
    }
    if let Some(trigger) = new_cron_trigger(lib, &class, trigger_args, default_timezone.as_ref())? {
        return Ok(Some(trigger));
    }
    Ok(Some(class.call((), Some(&trigger_args.to_dict(py, default_timezone.as_ref())?))?))
}

/// The keyword arguments of `class(**trigger_args)` bound to `parameters`, in their
/// order, with `timezone` (one of them) defaulting to `default_timezone`: `None`
/// unless `class` and its `__init__` are `library` (the library's class and
/// `__init__`) and every argument name is one of the parameters, so that whatever else
/// a call could do (a replaced class, an unknown keyword and its error) is left to the
/// Python call.
fn bind_trigger_arguments<'py, const N: usize>(
    library: &(Py<PyAny>, Py<PyAny>),
    class: &Bound<'py, PyAny>,
    trigger_args: &TriggerArgs<'py>,
    default_timezone: Option<&Bound<'py, PyAny>>,
    parameters: &[&str; N],
) -> PyResult<Option<[Option<Bound<'py, PyAny>>; N]>> {
    let py = class.py();
    let (library_class, library_init) = library;
    if !class.is(library_class.bind(py)) {
        return Ok(None);
    }
    // Replacing `__init__` on the class gives it a new version tag.
    let own_init = remembered_yes((library_init.as_ptr() as usize, 3), class.cast::<PyType>()?, [None, None], || {
        Ok(class.getattr(intern!(py, "__init__"))?.is(library_init.bind(py)))
    })?;
    if !own_init {
        return Ok(None);
    }
    let mut values: [Option<Bound<'py, PyAny>>; N] = std::array::from_fn(|_| None);
    for (key, value) in trigger_args.iter() {
        let key = common::text(key)?;
        let Some(index) = parameters.iter().position(|name| *name == key) else { return Ok(None) };
        values[index] = Some(value.clone());
    }
    if let Some(timezone) = default_timezone {
        let Some(index) = parameters.iter().position(|name| *name == "timezone") else { return Ok(None) };
        values[index] = Some(timezone.clone());
    }
    Ok(Some(values))
}

/// `IntervalTrigger(**trigger_args)` without its Python `__init__`, which only binds
/// the arguments and passes them to the native `_init`: `None` unless the class and its
/// `__init__` are the library's and every argument name is one of its parameters.
fn new_interval_trigger<'py>(
    lib: &Library,
    class: &Bound<'py, PyAny>,
    trigger_args: &TriggerArgs<'py>,
    default_timezone: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    const PARAMETERS: [&str; 9] = ["weeks", "days", "hours", "minutes", "seconds", "start_date", "end_date", "timezone", "jitter"];
    let py = class.py();
    let Some(values) = bind_trigger_arguments(&lib.interval_trigger, class, trigger_args, default_timezone, &PARAMETERS)? else {
        return Ok(None);
    };
    let zero = 0i32.into_pyobject(py)?.into_any();
    let none = py.None().into_bound(py);
    let [weeks, days, hours, minutes, seconds, start_date, end_date, timezone, jitter] = values;
    let or_zero = |value: Option<Bound<'py, PyAny>>| value.unwrap_or_else(|| zero.clone());
    let or_none = |value: Option<Bound<'py, PyAny>>| value.unwrap_or_else(|| none.clone());
    let trigger = new_instance(class)?;
    trigger.cast::<PyIntervalTrigger>()?.borrow_mut().init(
        py,
        &or_zero(weeks),
        &or_zero(days),
        &or_zero(hours),
        &or_zero(minutes),
        &or_zero(seconds),
        &or_none(start_date),
        &or_none(end_date),
        &or_none(timezone),
        &or_none(jitter),
    )?;
    Ok(Some(trigger))
}

/// `CronTrigger(**trigger_args)` with its native `__init__` called directly, rather
/// than through the type call and keyword matching: `None` unless the class and its
/// `__init__` are the library's and every argument name is one of its parameters.
fn new_cron_trigger<'py>(
    lib: &Library,
    class: &Bound<'py, PyAny>,
    trigger_args: &TriggerArgs<'py>,
    default_timezone: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    const PARAMETERS: [&str; 12] =
        ["year", "month", "day", "week", "day_of_week", "hour", "minute", "second", "start_date", "end_date", "timezone", "jitter"];
    let py = class.py();
    let Some(values) = bind_trigger_arguments(&lib.cron_trigger, class, trigger_args, default_timezone, &PARAMETERS)? else {
        return Ok(None);
    };
    let [year, month, day, week, day_of_week, hour, minute, second, start_date, end_date, timezone, jitter] = &values;
    let trigger = new_instance(class)?;
    trigger.cast::<PyCronTrigger>()?.borrow_mut().init(
        py,
        year.as_ref(),
        month.as_ref(),
        day.as_ref(),
        week.as_ref(),
        day_of_week.as_ref(),
        hour.as_ref(),
        minute.as_ref(),
        second.as_ref(),
        start_date.as_ref(),
        end_date.as_ref(),
        timezone.as_ref(),
        jitter.as_ref(),
        &PyTuple::empty(py),
    )?;
    Ok(Some(trigger))
}

/// Takes a trigger of one of the library's own trigger classes out of the garbage
/// collector's lists. Their attributes live in the native part of the object, which the
/// collector cannot see into anyway, and these classes add no `__dict__` or slots: all
/// it visits of such a trigger is its class, which the trigger keeps alive by itself.
/// Tracked, each stored job's trigger would only add to the work of every collection.
/// (A subclass may add attributes the collector must see, so it stays tracked.)
fn untrack_library_trigger(lib: &Library, trigger: &Bound<'_, PyAny>) {
    let class = trigger.get_type();
    if lib.trigger_classes.iter().any(|library_class| class.is(library_class.bind(trigger.py()))) {
        untrack(trigger);
    }
}

/// `apscheduler.util.undefined`.
pub fn library_undefined(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    Ok(library(py)?.undefined.bind(py).clone())
}

/// Runs `body` holding the scheduler's job store lock (a Python `RLock`).
fn with_store_lock<'py, T>(scheduler: &PlainObject<'py>, body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    let lock = scheduler.get(intern!(scheduler.object().py(), "_jobstores_lock"))?;
    python_locks::acquire(&lock)?;
    let result = body();
    let released = python_locks::release(&lock);
    let value = result?;
    released?;
    Ok(value)
}

/// `add_job(func, trigger, args, kwargs, id, name, misfire_grace_time, coalesce,
/// max_instances, next_run_time, jobstore, executor, replace_existing, **trigger_args)`
/// done natively, returning the job; `None` when the call is left to the Python path,
/// in which case nothing has been done.
#[allow(clippy::too_many_arguments)]
pub fn add_job_natively<'py>(
    scheduler: &Bound<'py, PyAny>,
    func: &Bound<'py, PyAny>,
    trigger: &Bound<'py, PyAny>,
    args: &Bound<'py, PyAny>,
    kwargs: &Bound<'py, PyAny>,
    id: &Bound<'py, PyAny>,
    name: &Bound<'py, PyAny>,
    misfire_grace_time: &Bound<'py, PyAny>,
    coalesce: &Bound<'py, PyAny>,
    max_instances: &Bound<'py, PyAny>,
    next_run_time: &Bound<'py, PyAny>,
    jobstore: &Bound<'py, PyAny>,
    executor: &Bound<'py, PyAny>,
    replace_existing: &Bound<'py, PyAny>,
    trigger_args: &TriggerArgs<'py>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = scheduler.py();
    let lib = library(py)?;
    let undefined = lib.undefined.bind(py);

    // Screening: nothing is changed until every check has passed.
    if !func.get_type().is(lib.function_type.bind(py)) || !next_run_time.is(undefined) {
        return Ok(None);
    }
    let args_ok = args.is_none() || args.is_exact_instance_of::<PyTuple>() || args.is_exact_instance_of::<PyList>();
    let kwargs_ok = kwargs.is_none() || kwargs.is_exact_instance_of::<PyDict>();
    let id_ok = id.is_none() || exact_str(id);
    let name_ok = name.is_none() || (exact_str(name) && name.is_truthy()?);
    if !(args_ok && kwargs_ok && id_ok && name_ok && exact_str(executor) && exact_str(jobstore)) {
        return Ok(None);
    }
    let (Some(grace), Some(coalesce), Some(instances)) = (
        screen_option(misfire_grace_time, undefined, grace_time_ok),
        screen_option(coalesce, undefined, |value| value.is_exact_instance_of::<PyBool>()),
        screen_option(max_instances, undefined, positive_int),
    ) else {
        return Ok(None);
    };
    let Some(scheduler) = plain_scheduler(scheduler, lib)? else {
        return Ok(None);
    };
    let scheduler = &scheduler;
    let known_state = scheduler.get(intern!(py, "state"))?.extract::<i64>().is_ok_and(|state| KNOWN_STATES.contains(&state));
    if !known_state {
        return Ok(None);
    }
    let job_class = global(&lib.scheduler_globals, intern!(py, "Job"))?;
    // The constructor is skipped: it must be the library's, and so must _modify,
    // whose checks are done here.
    let own_job_class = job_class.is(lib.job_class.bind(py))
        && remembered_yes((lib.job_init.as_ptr() as usize, 2), job_class.cast::<PyType>()?, [None, None], || {
            Ok(job_class.getattr(intern!(py, "__init__"))?.is(lib.job_init.bind(py))
                && job_class.getattr(intern!(py, "_modify"))?.is(lib.plain_modify.bind(py)))
        })?;
    if !own_job_class {
        return Ok(None);
    }
    let fields = function_fields::places(py).and_then(|places| places.read(func));
    let (qualname, module) = match &fields {
        Some(fields) => (fields.qualname.clone(), fields.module.clone().unwrap_or_else(|| py.None().into_bound(py))),
        None => (func.getattr(intern!(py, "__qualname__"))?, func.getattr(intern!(py, "__module__"))?),
    };
    let (Ok(qualname), Ok(module)) = (qualname.cast_into_exact::<PyString>(), module.cast_into_exact::<PyString>()) else {
        return Ok(None);
    };
    let Some(trigger) = create_trigger(scheduler, lib, trigger, trigger_args)? else {
        return Ok(None);
    };
    untrack_library_trigger(lib, &trigger);

    // From here on the call is the native path's: errors are raised, as the Python
    // path raises them at the same step.
    let args = if args.is_none() {
        PyTuple::empty(py)
    } else if let Ok(tuple) = args.cast::<PyTuple>() {
        tuple.clone()
    } else {
        args.cast::<PyList>()?.to_tuple()
    };
    let kwargs = match kwargs.cast::<PyDict>() {
        Ok(kwargs) => kwargs.copy()?,
        Err(_) => PyDict::new(py),
    };
    let job_id = if id.is_truthy()? { id.clone() } else { new_job_id(lib, py)? };
    check_callable_args(lib.util_globals.bind(py), func, fields.as_ref(), &args, &kwargs)?;
    let name = if name.is_none() { qualname.clone().into_any() } else { name.clone() };

    let job = new_instance(&job_class)?;
    let func_ref = function_ref(&module, &qualname)?;
    set_job_attrs(
        &job,
        &[
            (JobSlot::Scheduler, scheduler.object()),
            (JobSlot::JobstoreAlias, &py.None().into_bound(py)),
            (JobSlot::Id, &job_id),
            (JobSlot::Func, func),
            (JobSlot::FuncRef, &func_ref),
            (JobSlot::Args, args.as_any()),
            (JobSlot::Kwargs, kwargs.as_any()),
            (JobSlot::Name, &name),
            (JobSlot::Trigger, &trigger),
            (JobSlot::Executor, executor),
        ],
    )?;
    for (option, value) in [(JobSlot::MisfireGraceTime, &grace), (JobSlot::Coalesce, &coalesce), (JobSlot::MaxInstances, &instances)] {
        if let OptionArg::Given(value) = value {
            set_job_attr(&job, option, value)?;
        }
    }

    // Jobs only go into job stores once the scheduler (and so the stores) runs. As the
    // reference's add_job does, the state is read, and the job completed and stored,
    // in one section under the job store lock.
    let missing = Missing {
        options: [&grace, &coalesce, &instances].map(|option| matches!(option, OptionArg::Default)),
        next_run_time: true,
    };
    let pending = with_store_lock(scheduler, || {
        let stopped = scheduler.get(intern!(py, "state"))?.extract::<i64>().is_ok_and(|state| state == STATE_STOPPED);
        if stopped {
            let entry = PyTuple::new(py, [job.clone(), jobstore.clone(), replace_existing.clone()])?;
            scheduler.get(intern!(py, "_pending_jobs"))?.call_method1(intern!(py, "append"), (entry,))?;
            return Ok(true);
        }
        let known_utc = complete_job(scheduler, lib, &job, &trigger, &missing, None, plain_defaults(scheduler)?.as_ref())?;
        store_job(scheduler, lib, &job, &trigger, known_utc, jobstore, replace_existing, false)?;
        Ok(false)
    })?;
    if pending {
        scheduler.get(intern!(py, "_logger"))?.call_method1(intern!(py, "info"), (intern!(py, TENTATIVE_MESSAGE),))?;
        return Ok(Some(job));
    }
    report_job_added(scheduler, &job, jobstore)?;
    Ok(Some(job))
}

/// `_new_job_id()`: when it is the library's, called without a Python call.
fn new_job_id<'py>(lib: &Library, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    let function = global(&lib.job_globals, intern!(py, "_new_job_id"))?;
    if function.is(lib.new_job_id.bind(py)) {
        return Ok(super::job_ids::new_job_id(py)?.into_any());
    }
    function.call0()
}

/// `_store_job(job, jobstore, replace_existing)`, called with the job store lock held.
/// `known_utc` is the UTC instant of the job's next run time, when `complete_job` set
/// it and knows it. `pending` tells a job `start()` stores from its pending list.
#[allow(clippy::too_many_arguments)]
fn store_job<'py>(
    scheduler: &PlainObject<'py>,
    lib: &Library,
    job: &Bound<'py, PyAny>,
    trigger: &Bound<'py, PyAny>,
    known_utc: Option<i64>,
    jobstore: &Bound<'py, PyAny>,
    replace_existing: &Bound<'py, PyAny>,
    pending: bool,
) -> PyResult<()> {
    let py = scheduler.object().py();
    let stores = scheduler.get(intern!(py, "_jobstores"))?;
    let store = match stores.get_item(jobstore) {
        Ok(store) => store,
        // The Python method raises the library's error for an unknown alias.
        Err(_) => scheduler.object().call_method1(intern!(py, "_lookup_jobstore"), (jobstore,))?,
    };
    let replace = replace_existing.is_truthy()?;
    if let Some(memory) = native_memory_store(&store, lib)? {
        let id = stored_id_key(&job_attr(job, JobSlot::Id)?)?;
        let key = match known_utc {
            Some(utc) => RunKey::At(utc),
            None => {
                let next_run_time = job_attr(job, JobSlot::NextRunTime)?;
                if next_run_time.is_none() {
                    RunKey::Paused
                } else {
                    match trigger_result_utc(trigger, &next_run_time)? {
                        Some(utc) => RunKey::At(utc),
                        None => RunKey::At(zones::utc_micros(&next_run_time)?),
                    }
                }
            }
        };
        let watch = if pending { Watch::AtPasses } else { Watch::AtNextChange };
        memory.borrow().store_job(job, id, key, replace, watch)?;
    } else if let Err(error) = store.call_method1(intern!(py, "add_job"), (job,)) {
        if !error.is_instance(py, lib.conflicting_id_error.bind(py)) || !replace {
            return Err(error);
        }
        store.call_method1(intern!(py, "update_job"), (job,))?;
    }
    set_job_attr(job, JobSlot::JobstoreAlias, jobstore)
}

/// The store as the native memory store, when its `add_job` and `update_job` are the
/// native ones (neither a subclass nor the instance replaced them).
fn native_memory_store<'a, 'py>(store: &'a Bound<'py, PyAny>, lib: &Library) -> PyResult<Option<&'a Bound<'py, PyMemoryJobStore>>> {
    let py = store.py();
    let Ok(memory) = store.cast::<PyMemoryJobStore>() else { return Ok(None) };
    let methods = [(intern!(py, "add_job"), &lib.native_add_job), (intern!(py, "update_job"), &lib.native_update_job)];
    Ok(are_library_methods(store, &methods)?.then_some(memory))
}

/// What `_complete_job` fills in on a job: the options it has no value for
/// (`misfire_grace_time`, `coalesce`, `max_instances`), and whether it needs its first
/// run time.
struct Missing {
    options: [bool; 3],
    next_run_time: bool,
}

impl Missing {
    /// Read from the job itself, as `_complete_job` reads it (`hasattr`); for a `Job`
    /// of exactly the library's class, from its slots.
    fn of(job: &Bound<'_, PyAny>) -> PyResult<Missing> {
        let py = job.py();
        let lacks = |slot: JobSlot, name: &Bound<'_, PyString>| -> PyResult<bool> {
            match job_has(job, slot) {
                Some(has) => Ok(!has),
                None => Ok(!job.hasattr(name)?),
            }
        };
        Ok(Missing {
            options: [
                lacks(JobSlot::MisfireGraceTime, intern!(py, "misfire_grace_time"))?,
                lacks(JobSlot::Coalesce, intern!(py, "coalesce"))?,
                lacks(JobSlot::MaxInstances, intern!(py, "max_instances"))?,
            ],
            next_run_time: lacks(JobSlot::NextRunTime, intern!(py, "next_run_time"))?,
        })
    }
}

/// `_complete_job(scheduler, job, now)`: the defaults for the options not given, and
/// the trigger's first fire time after `now` (the current time when `None`). Defaults
/// that need `_modify`'s checks are left to the Python function, and a first fire time
/// that needs converting to `_modify`. Returns the UTC instant of the next run time it
/// set, when the trigger told it.
fn complete_job<'py>(
    scheduler: &PlainObject<'py>,
    lib: &Library,
    job: &Bound<'py, PyAny>,
    trigger: &Bound<'py, PyAny>,
    missing: &Missing,
    now: Option<&Bound<'py, PyAny>>,
    defaults: Option<&[Bound<'py, PyAny>; 3]>,
) -> PyResult<Option<i64>> {
    let py = scheduler.object().py();
    let Some(defaults) = defaults else {
        global(&lib.scheduler_globals, intern!(py, "_complete_job"))?.call1((scheduler.object(), job, now))?;
        return Ok(None);
    };
    // The first run time, and whether it is known to be aware (a start date computed
    // in a zone the core knows).
    let next_run_time = if !missing.next_run_time {
        None
    } else if let Some((start, utc)) = start_date_ahead(lib, trigger, now)? {
        Some((start, utc, true))
    } else {
        let now = match now {
            Some(now) => now.clone(),
            None => current_time(scheduler, lib)?,
        };
        let (next, utc) = ask_next_fire_time(trigger, &py.None().into_bound(py), &now)?;
        Some((next, utc, false))
    };
    // The options' defaults and an aware first run time are written together.
    let none = py.None().into_bound(py);
    let mut writes: [(JobSlot, &Bound<'py, PyAny>); 4] = [(JobSlot::NextRunTime, &none); 4];
    let mut count = 0;
    let slots = [JobSlot::MisfireGraceTime, JobSlot::Coalesce, JobSlot::MaxInstances];
    for ((slot, lacking), default) in slots.into_iter().zip(missing.options).zip(defaults) {
        if lacking {
            writes[count] = (slot, default);
            count += 1;
        }
    }
    let plain_next = match &next_run_time {
        Some((next, _, aware)) if *aware || next.is_none() || is_aware(next) => {
            writes[count] = (JobSlot::NextRunTime, next);
            count += 1;
            true
        }
        _ => false,
    };
    set_job_attrs(job, &writes[..count])?;
    match next_run_time {
        Some((_, utc, _)) if plain_next => Ok(utc),
        Some((next, _, _)) => {
            let changes = PyDict::new(py);
            changes.set_item(intern!(py, "next_run_time"), next)?;
            job.call_method(intern!(py, "_modify"), (), Some(&changes))?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// The first run time of a job added with an interval trigger whose start date is
/// still ahead: the start date itself (see `PyIntervalTrigger::start_date_ahead`),
/// without making the current time a datetime and asking the trigger. Only for the
/// time `add_job` reads from the standard clock (`now` not given).
fn start_date_ahead<'py>(lib: &Library, trigger: &Bound<'py, PyAny>, now: Option<&Bound<'py, PyAny>>) -> PyResult<Option<(Bound<'py, PyAny>, Option<i64>)>> {
    let py = trigger.py();
    if now.is_some() || !global(&lib.scheduler_globals, intern!(py, "datetime"))?.is(lib.stdlib_datetime.bind(py)) || !is_native_interval(trigger)? {
        return Ok(None);
    }
    let Ok(native) = trigger.cast::<PyIntervalTrigger>() else { return Ok(None) };
    let Ok(native) = native.try_borrow() else { return Ok(None) };
    Ok(native.start_date_ahead(py, zones::now_utc_micros()).map(|(start, utc)| (start.into_bound(py), Some(utc))))
}

/// `datetime.now(scheduler.timezone)`, through the scheduler module's `datetime`
/// (which tests replace); computed natively while that is the standard one.
fn current_time<'py>(scheduler: &PlainObject<'py>, lib: &Library) -> PyResult<Bound<'py, PyAny>> {
    let py = scheduler.object().py();
    let clock = global(&lib.scheduler_globals, intern!(py, "datetime"))?;
    let timezone = scheduler.get(intern!(py, "timezone"))?;
    if clock.is(lib.stdlib_datetime.bind(py)) {
        if let Some(now) = zones::now_plus(&timezone, 0)? {
            return Ok(now);
        }
    }
    clock.call_method1(intern!(py, "now"), (timezone,))
}

/// Makes room in each native memory store for the pending jobs bound for it.
fn reserve_room(scheduler: &PlainObject<'_>, lib: &Library, batch: &Bound<'_, PyList>) -> PyResult<()> {
    let py = scheduler.object().py();
    let Ok(stores) = scheduler.get(intern!(py, "_jobstores"))?.cast_into::<PyDict>() else { return Ok(()) };
    let counts = PyDict::new(py);
    for entry in batch.iter() {
        let Ok(alias) = entry.get_item(1) else { continue };
        // Only aliases that are plain strings: counting must not run Python code.
        if exact_str(&alias) {
            let count = counts.get_item(&alias)?.map_or(Ok(0), |count| count.extract::<usize>())?;
            counts.set_item(alias, count + 1)?;
        }
    }
    for (alias, count) in counts.iter() {
        if let Some(store) = stores.get_item(alias)? {
            if let Some(memory) = native_memory_store(&store, lib)? {
                memory.borrow().reserve(count.extract()?);
            }
        }
    }
    Ok(())
}

/// How many pending entries were stored, and the index and error of the one that
/// failed, if one did.
type PendingOutcome = (usize, Option<(usize, PyErr)>);

/// The jobs added before `start()`, moved into their stores as
/// `BaseScheduler._schedule_pending_jobs` does, with `now` as the time their first run
/// times are computed from. `batch` holds `(job, jobstore, replace_existing)` entries.
/// Returns how many entries from the start were stored and, if the next one failed,
/// its index and error (the entries from there on are not stored); `None` when a
/// method of the add path has been replaced, for the Python code to call it.
#[pyfunction]
pub fn store_pending_jobs<'py>(
    scheduler: &Bound<'py, PyAny>,
    batch: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<Option<PendingOutcome>> {
    let py = scheduler.py();
    let lib = library(py)?;
    let Ok(batch) = batch.cast::<PyList>() else { return Ok(None) };
    let Some(scheduler) = plain_scheduler(scheduler, lib)? else {
        return Ok(None);
    };
    let scheduler = &scheduler;
    let job_class = lib.job_class.bind(py);
    let plain_job = job_class.getattr(intern!(py, "_modify"))?.is(lib.plain_modify.bind(py));
    // Read once: nothing in the loop can reconfigure the scheduler.
    let defaults = plain_defaults(scheduler)?;
    reserve_room(scheduler, lib, batch)?;
    for (index, entry) in batch.iter().enumerate() {
        let outcome = (|| -> PyResult<()> {
            let (job, jobstore, replace_existing) = entry.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)>()?;
            let trigger = job.getattr(intern!(py, "trigger"))?;
            if plain_job && job.get_type().is(job_class) {
                let known_utc = complete_job(scheduler, lib, &job, &trigger, &Missing::of(&job)?, Some(now), defaults.as_ref())?;
                store_job(scheduler, lib, &job, &trigger, known_utc, &jobstore, &replace_existing, true)
            } else {
                global(&lib.scheduler_globals, intern!(py, "_complete_job"))?.call1((scheduler.object(), &job, now))?;
                store_job(scheduler, lib, &job, &trigger, None, &jobstore, &replace_existing, true)
            }
        })();
        if let Err(error) = outcome {
            return Ok(Some((index, Some((index, error)))));
        }
    }
    Ok(Some((batch.len(), None)))
}
