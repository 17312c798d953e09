//! The first phase of a scheduler pass over a `MemoryJobStore`, done natively: find
//! the due jobs, list their run times, and reschedule or remove them.
//!
//! It does what `BaseScheduler._collect_job_run` does for each due job, for the jobs
//! it can handle without judgement calls: those of the exact `Job` class whose
//! executor exists. Every other due job is handed, in its turn, to the Python path
//! (`python_path`), which logs and reports as it always does, so the jobs of a pass
//! are processed in the store's order whichever path takes them.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyException;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyList, PyString, PyTuple, PyTzInfoAccess};

use super::calendarinterval::PyCalendarIntervalTrigger;
use super::common::{untrack, NativeTrigger};
use super::cron::PyCronTrigger;
use super::date::PyDateTrigger;
use super::gc_pause::GcPause;
use super::interval::PyIntervalTrigger;
use super::jobstores::PyMemoryJobStore;
use super::version_tags::remembered_yes;
use super::slots::{job_attr, set_job_attr, JobSlot};
use super::zones;
use crate::jobstore::{JobKey, RunKey};

/// What processing one job decided, before anything is changed.
struct Decision<'py> {
    run_times: Bound<'py, PyList>,
    /// The next fire time after the last run and its UTC instant, `None` when the
    /// trigger is done.
    following: Option<(Bound<'py, PyAny>, i64)>,
}

/// Appends `(job, executor, run_times, jobstore_alias)` to `runs` and
/// `(job_id, jobstore_alias)` to `removed` as `_collect_job_run` would, calling
/// `python_path(job)` for the jobs it leaves to Python. Returns the first exception
/// raised while processing a job (that job is left as it was, still due), or `None`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn collect_due_runs<'py>(
    store: &Bound<'py, PyMemoryJobStore>,
    now: &Bound<'py, PyAny>,
    jobstore_alias: &Bound<'py, PyAny>,
    executors: &Bound<'py, PyDict>,
    job_type: &Bound<'py, PyAny>,
    runs: &Bound<'py, PyList>,
    removed: &Bound<'py, PyList>,
    python_path: &Bound<'py, PyAny>,
) -> PyResult<Option<PyErr>> {
    let py = store.py();
    let now_at = zones::utc_micros(now)?;
    let gc = GcPause::new(py, now_zone_is_native(now)?)?;
    let pass = Pass { store, now, now_at, jobstore_alias, executors, job_type, runs, removed, python_path, gc: &gc };
    // The due jobs are read a page at a time, each page processed while what it read
    // is still in the processor's cache: a burst of tens of thousands of due jobs,
    // read all at once, would be fetched from memory twice. A page starts after the
    // last job processed, so no job is processed twice; a job the pass reschedules
    // moves past `now` and is not read again.
    let mut failure = None;
    let mut cursor: Option<(i64, JobKey)> = None;
    loop {
        // References are taken under the store's lock; all Python work happens after it.
        let after = cursor.as_ref().map(|(at, id)| (*at, id));
        let page: Vec<DueEntry> = store.borrow().due_page(py, now_at, after, DUE_PAGE)?;
        let read = page.len();
        let (page_failure, last) = pass.process(page, None)?;
        if failure.is_none() {
            failure = page_failure;
        }
        match last {
            Some((_, key)) if read == DUE_PAGE => cursor = Some(key),
            _ => return Ok(failure),
        }
    }
}

/// How many due jobs a pass reads from the store at a time.
const DUE_PAGE: usize = 1024;

/// The first exception of a slice, the cursor for the next one, and whether due jobs
/// may remain after it.
type SliceOutcome = (Option<PyErr>, Option<(i64, String)>, bool);

/// `collect_due_runs` for one slice of a pass: the due jobs after `cursor` (`None`
/// for the first slice), at most `limit` of them, and no more once `budget` seconds
/// have gone by. Returns `(failure, cursor, more)`: the first exception as above, the
/// cursor for the next slice, and whether due jobs may remain after it. The sliced
/// pass of the event-loop schedulers calls it with the job store lock held, and lets
/// its loop run between two calls.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn collect_due_slice<'py>(
    store: &Bound<'py, PyMemoryJobStore>,
    now: &Bound<'py, PyAny>,
    cursor: Option<(i64, String)>,
    limit: usize,
    budget: f64,
    jobstore_alias: &Bound<'py, PyAny>,
    executors: &Bound<'py, PyDict>,
    job_type: &Bound<'py, PyAny>,
    runs: &Bound<'py, PyList>,
    removed: &Bound<'py, PyList>,
    python_path: &Bound<'py, PyAny>,
) -> PyResult<SliceOutcome> {
    let py = store.py();
    let deadline = Instant::now() + Duration::try_from_secs_f64(budget.max(0.0)).unwrap_or(Duration::MAX / 2);
    let now_at = zones::utc_micros(now)?;
    let after = cursor.as_ref().map(|(at, id)| (*at, JobKey::new(id)));
    let due: Vec<DueEntry> = store.borrow().due_page(py, now_at, after.as_ref().map(|(at, id)| (*at, id)), limit)?;
    let read = due.len();
    let gc = GcPause::new(py, now_zone_is_native(now)?)?;
    let pass = Pass { store, now, now_at, jobstore_alias, executors, job_type, runs, removed, python_path, gc: &gc };
    let (failure, last) = pass.process(due, Some(deadline))?;
    let processed = last.as_ref().map_or(0, |(index, _)| index + 1);
    let more = read == limit || processed < read;
    let cursor = last.map(|(_, (at, id))| (at, id.to_string())).or(cursor);
    Ok((failure, cursor, more))
}

/// Whether the pass's `now` is in a zone the core knows: every trigger reads it, and
/// reading one in another zone asks its `utcoffset()` in Python.
fn now_zone_is_native(now: &Bound<'_, PyAny>) -> PyResult<bool> {
    match now.cast::<PyDateTime>().ok().and_then(|now| now.get_tzinfo()) {
        Some(tz) => Ok(matches!(zones::resolve(&tz)?, zones::AnyZone::Native(_))),
        None => Ok(false),
    }
}

/// A due job as read from the store: its id, run key and the job object.
type DueEntry = (JobKey, i64, Py<PyAny>);

/// What processing a store's due jobs needs.
struct Pass<'a, 'py> {
    store: &'a Bound<'py, PyMemoryJobStore>,
    now: &'a Bound<'py, PyAny>,
    now_at: i64,
    jobstore_alias: &'a Bound<'py, PyAny>,
    executors: &'a Bound<'py, PyDict>,
    job_type: &'a Bound<'py, PyAny>,
    runs: &'a Bound<'py, PyList>,
    removed: &'a Bound<'py, PyList>,
    python_path: &'a Bound<'py, PyAny>,
    /// Collections held off while the pass makes its runs' containers; lifted before
    /// any Python code runs.
    gc: &'a GcPause<'py>,
}

impl<'py> Pass<'_, 'py> {
    /// Processes `due` in order, stopping after the job during which `deadline` passed.
    /// Returns the first exception of a job and the index and run key of the last job
    /// processed.
    #[allow(clippy::type_complexity)]
    fn process(&self, due: Vec<DueEntry>, deadline: Option<Instant>) -> PyResult<(Option<PyErr>, Option<(usize, (i64, JobKey))>)> {
        let mut failure = None;
        let mut last = None;
        for (index, (id, at, job)) in due.into_iter().enumerate() {
            self.process_one(&id, at, job.into_bound(self.store.py()), &mut failure)?;
            last = Some((index, (at, id)));
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                break;
            }
        }
        Ok((failure, last))
    }

    fn process_one(&self, id: &JobKey, at: i64, job: Bound<'py, PyAny>, failure: &mut Option<PyErr>) -> PyResult<()> {
        let py = job.py();
        let Pass { store, now, now_at, jobstore_alias, executors, job_type, runs, removed, python_path, gc } = self;
        // The Python path, as _collect_due_runs runs it: an Exception is remembered and
        // the pass goes on; anything else (KeyboardInterrupt) ends the pass.
        let take_python_path = |job: Bound<'py, PyAny>, failure: &mut Option<PyErr>| -> PyResult<()> {
            gc.resume()?;
            match python_path.call1((job,)) {
                Ok(_) => Ok(()),
                Err(error) if error.is_instance_of::<PyException>(py) => {
                    failure.get_or_insert(error);
                    Ok(())
                }
                Err(error) => Err(error),
            }
        };
        if !std::ptr::eq(job.get_type_ptr(), job_type.as_ptr().cast()) {
            return take_python_path(job, failure);
        }
        let Ok(Some(executor)) = job_attr(&job, JobSlot::Executor).and_then(|alias| {
            // Looking up an alias other than a plain string may call its __hash__.
            if !alias.is_exact_instance_of::<PyString>() {
                gc.resume()?;
            }
            super::dict_lookups::get(executors, &alias)
        }) else {
            return take_python_path(job, failure);
        };
        let decision = match decide(&job, at, now, *now_at, gc) {
            Ok(Some(decision)) => decision,
            Ok(None) => return Ok(()),
            Err(error) => {
                failure.get_or_insert(error);
                return Ok(());
            }
        };

        let Decision { run_times, following } = decision;
        if following.as_ref().is_some_and(|(value, _)| !is_aware(value)) {
            // Left to _modify's conversion, on the Python path.
            return take_python_path(job, failure);
        }
        // As on the Python path, the run is queued only once the store has taken the
        // job's new state: a job another thread removed meanwhile does not run.
        let stored = match following {
            Some((following, utc)) => {
                set_job_attr(&job, JobSlot::NextRunTime, &following)?;
                store.borrow().reschedule(id, RunKey::At(utc), *now_at)
            }
            None => {
                let taken = store.borrow().take(py, id);
                if taken {
                    removed.append(acyclic_tuple(py, [job_attr(&job, JobSlot::Id)?, (*jobstore_alias).clone()])?)?;
                }
                taken
            }
        };
        if stored {
            untrack_run_times(&run_times);
            runs.append(acyclic_tuple(py, [job, executor, run_times.into_any(), (*jobstore_alias).clone()])?)?;
        }
        Ok(())
    }
}

/// A new tuple of `items`, not tracked by the garbage collector.
///
/// A pass builds a few tuples per due job, which live until the pass ends; tracked,
/// they would start collections that walk every stored job again and again. Nothing
/// but the list it is appended to refers to a fresh tuple, and a tuple cannot change,
/// so no reference cycle can ever run through it: the collector has nothing to find.
fn acyclic_tuple<'py, const N: usize>(py: Python<'py>, items: [Bound<'py, PyAny>; N]) -> PyResult<Bound<'py, PyTuple>> {
    let tuple = PyTuple::new(py, items)?;
    untrack(tuple.as_any());
    Ok(tuple)
}

/// Takes a run's `run_times` out of the garbage collector's sight, for the same reason
/// as `acyclic_tuple`: tracked, the lists of a large pass would make the collector walk
/// every stored job, which costs more than the rest of the pass.
///
/// The list holds datetimes only, which refer to nothing that could lead back to it.
/// Listeners see it later as an event's `scheduled_run_times`; one that put into it an
/// object referring back to it would make a cycle that is never collected (a leak,
/// never a crash), which no use of the list calls for.
fn untrack_run_times(run_times: &Bound<'_, PyList>) {
    untrack(run_times.as_any());
}

/// `job._get_run_times(now)`, coalesced, and the fire time after the last of them.
/// `at` is the job's next run time as the store has it (in UTC microseconds).
/// The collector's pause is lifted first unless asking the trigger certainly runs no
/// Python code (see `NativeTrigger::runs_no_python`).
fn decide<'py>(job: &Bound<'py, PyAny>, at: i64, now: &Bound<'py, PyAny>, now_at: i64, gc: &GcPause<'py>) -> PyResult<Option<Decision<'py>>> {
    let py = job.py();
    let trigger = job_attr(job, JobSlot::Trigger)?;
    let get_next = intern!(py, "get_next_fire_time");
    let mut next = job_attr(job, JobSlot::NextRunTime)?;
    if next.is_none() {
        return Ok(None);
    }
    let native = NativeView::of(&trigger)?;
    if !native.is_some_and(|view| view.runs_no_python(&trigger)) {
        gc.resume()?;
    }
    // A native trigger is asked directly, as its Python method would be.
    let next_fire_time = |previous: &Bound<'py, PyAny>| -> PyResult<Bound<'py, PyAny>> {
        match native.and_then(|view| view.with(&trigger, |native| native.next_fire_time(py, previous, now))) {
            Some(answer) => Ok(answer?.into_bound(py)),
            None => trigger.call_method1(get_next, (previous, now)),
        }
    };
    let utc_of = |value: &Bound<'py, PyAny>| -> PyResult<i64> {
        match native.as_ref().and_then(|view| view.cached_utc(&trigger, value)) {
            Some(utc) => Ok(utc),
            None => {
                // Reading a datetime may ask its zone, in Python.
                gc.resume()?;
                zones::utc_micros(value)
            }
        }
    };
    let run_times = PyList::empty(py);
    let mut next_at = at;
    while next_at <= now_at {
        run_times.append(&next)?;
        next = next_fire_time(&next)?;
        if next.is_none() {
            break;
        }
        next_at = utc_of(&next)?;
    }
    let Ok(last) = run_times.get_item(run_times.len().wrapping_sub(1)) else {
        return Ok(None);
    };
    let run_times = if job_attr(job, JobSlot::Coalesce)?.is_truthy()? {
        PyList::new(py, [&last])?
    } else {
        run_times
    };
    // The loop's last call was get_next_fire_time(last, now): a native trigger with
    // no jitter answers the same again. Any other trigger is asked again, as the
    // Python path does (jitter is drawn anew).
    let deterministic = native.as_ref().is_some_and(|view| view.is_deterministic(&trigger));
    let following = if deterministic { next } else { next_fire_time(&last)? };
    let following = match following.is_none() {
        true => None,
        false => {
            let utc = utc_of(&following)?;
            Some((following, utc))
        }
    };
    Ok(Some(Decision { run_times, following }))
}

/// A native trigger whose `get_next_fire_time` is its own (not overridden).
#[derive(Clone, Copy)]
enum NativeView {
    Interval,
    Cron,
    CalendarInterval,
    Date,
}

impl NativeView {
    fn of(trigger: &Bound<'_, PyAny>) -> PyResult<Option<NativeView>> {
        let py = trigger.py();
        let kind = if trigger.cast::<PyIntervalTrigger>().is_ok() {
            NativeView::Interval
        } else if trigger.cast::<PyCronTrigger>().is_ok() {
            NativeView::Cron
        } else if trigger.cast::<PyCalendarIntervalTrigger>().is_ok() {
            NativeView::CalendarInterval
        } else if trigger.cast::<PyDateTrigger>().is_ok() {
            NativeView::Date
        } else {
            return Ok(None);
        };
        let base = match kind {
            NativeView::Interval => py.get_type::<PyIntervalTrigger>(),
            NativeView::Cron => py.get_type::<PyCronTrigger>(),
            NativeView::CalendarInterval => py.get_type::<PyCalendarIntervalTrigger>(),
            NativeView::Date => py.get_type::<PyDateTrigger>(),
        };
        let name = intern!(py, "get_next_fire_time");
        let class = trigger.get_type();
        // Remembered until the class changes: a pass asks this of every due job.
        let own = remembered_yes((base.as_ptr() as usize, 0), &class, [None, None], || {
            Ok(class.getattr(name)?.is(&base.getattr(name)?))
        })?;
        Ok(own.then_some(kind))
    }

    fn with<R>(self, trigger: &Bound<'_, PyAny>, ask: impl FnOnce(&dyn NativeTrigger) -> R) -> Option<R> {
        // Borrowed only for the question: no Python code runs meanwhile.
        Some(match self {
            NativeView::Interval => ask(&*trigger.cast::<PyIntervalTrigger>().ok()?.try_borrow().ok()?),
            NativeView::Cron => ask(&*trigger.cast::<PyCronTrigger>().ok()?.try_borrow().ok()?),
            NativeView::CalendarInterval => ask(&*trigger.cast::<PyCalendarIntervalTrigger>().ok()?.try_borrow().ok()?),
            NativeView::Date => ask(&*trigger.cast::<PyDateTrigger>().ok()?.try_borrow().ok()?),
        })
    }

    fn cached_utc(self, trigger: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> Option<i64> {
        self.with(trigger, |native| native.cached_utc(value)).flatten()
    }

    fn is_deterministic(self, trigger: &Bound<'_, PyAny>) -> bool {
        self.with(trigger, |native| native.is_deterministic(trigger.py())).unwrap_or(false)
    }

    fn runs_no_python(self, trigger: &Bound<'_, PyAny>) -> bool {
        self.with(trigger, |native| native.runs_no_python()).unwrap_or(false)
    }
}

/// The UTC instant of `value` (microseconds) when it is what the native `trigger`
/// returned last, known without reading the datetime again.
pub fn trigger_result_utc(trigger: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    Ok(NativeView::of(trigger)?.and_then(|view| view.cached_utc(trigger, value)))
}

/// `trigger.get_next_fire_time(previous_fire_time, now)`: a native trigger whose method
/// is its own is asked directly, any other through its Python method. A native
/// trigger's answer comes with its UTC instant (microseconds), known without reading
/// the datetime.
pub(crate) fn ask_next_fire_time<'py>(
    trigger: &Bound<'py, PyAny>,
    previous_fire_time: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Option<i64>)> {
    let py = trigger.py();
    let Some(view) = NativeView::of(trigger)? else {
        return Ok((trigger.call_method1(intern!(py, "get_next_fire_time"), (previous_fire_time, now))?, None));
    };
    match view.with(trigger, |native| native.next_fire_time(py, previous_fire_time, now)) {
        Some(answer) => {
            let answer = answer?.into_bound(py);
            let utc = view.cached_utc(trigger, &answer);
            Ok((answer, utc))
        }
        None => Ok((trigger.call_method1(intern!(py, "get_next_fire_time"), (previous_fire_time, now))?, None)),
    }
}

/// Whether `trigger` is a native interval trigger whose `get_next_fire_time` is its
/// own.
pub(crate) fn is_native_interval(trigger: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(matches!(NativeView::of(trigger)?, Some(NativeView::Interval)))
}

/// Whether `_modify(next_run_time=value)` would store `value` as it is.
pub(crate) fn is_aware(value: &Bound<'_, PyAny>) -> bool {
    value.cast::<PyDateTime>().map(|dt| dt.get_tzinfo().is_some()).unwrap_or(false)
}
