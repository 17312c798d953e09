//! The native base of `apscheduler.jobstores.memory.MemoryJobStore`.
//!
//! Jobs are stored as the Python objects they are; their id and next run time are read
//! when they are added or updated, as the reference reads them then. A job that
//! nothing else holds and that is not due soon is kept in a compact form instead
//! (`dormant_jobs`), and made an object again whenever it is read.

use std::collections::VecDeque;

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString};

use super::dormant_jobs::{self, Released, Shapes, Sleep, Stored};
use super::stored_jobs_gc;
use super::zones;
use crate::jobstore::{JobKey, OrderedJobs, RunKey, StoreError};

/// A job due within this many microseconds stays an object: it would be woken again
/// right away. Waking and putting to sleep cost about 2 µs per run, which a fan-out
/// of thousands of jobs firing every second would pay on every run. A job that runs
/// once sleeps however soon it is due.
const AT_REST_AFTER: i64 = 1_000_000;

/// How many candidates a change looks at, at most, and how many a pass does. Bounded
/// so that neither takes long when `start()` has just stored thousands of jobs: a
/// pass puts 256 of them to sleep in about 0.15 ms. A change looks at them only once
/// `SETTLE_ON_CHANGE` have gathered: the jobs added one after another are put to sleep
/// sixteen at a time, which spreads the fixed cost of a look (the lock, the clock,
/// the lists of what to let go) over them, and finds the jobs a caller held until its
/// next call (`job = add_job(...)` in a loop) let go by then.
const SETTLE_ON_CHANGE: usize = 16;
const SETTLE_ON_PASS: usize = 256;

/// How many times a job read from the store, or rescheduled by a pass, is looked at
/// again while something else still holds it (a caller, a running worker) before the
/// store stops trying until its next read or run.
const TRIES_AFTER_READ: u8 = 4;

#[pyclass(subclass, module = "apscheduler._core", name = "MemoryJobStore")]
pub struct PyMemoryJobStore {
    // Fork safety: this lock is only ever taken by a thread that holds the GIL, and let
    // go before any Python code runs or the GIL is released. `os.fork()` runs with the
    // GIL held by the forking thread, so no thread holds the lock at the fork and a
    // forked child finds it free; nothing needs resetting in the child.
    state: Mutex<StoreState>,
}

struct StoreState {
    jobs: OrderedJobs<Stored>,
    /// Jobs to put to sleep at the store's next change or pass if nothing else holds
    /// them by then, oldest first, each with how many more times to look.
    candidates: VecDeque<(JobKey, u8)>,
    /// Where the passes' walk over every job has got to (`Some(None)`: not started),
    /// when one is under way.
    sweep: Option<Option<(i64, JobKey)>>,
    shapes: Shapes,
    /// Counts the changes of stored entries: a job woken outside the lock takes its
    /// dormant form's place only if nothing changed meanwhile.
    generation: u64,
}

/// When a job just stored is looked at again, to be put to sleep.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// At the store's next change: the caller that added the job has usually let it
    /// go by then.
    AtNextChange,
    /// By the passes to come, which walk over every stored job, `SETTLE_ON_PASS` jobs
    /// a pass: `start()` stores its pending jobs while its list of them holds every one
    /// until it returns.
    AtPasses,
}

/// A job read for a caller: its id, what the caller picked along with it, the object,
/// and whether that object is the one the store holds.
struct Read<T> {
    id: JobKey,
    value: T,
    job: Py<PyAny>,
    stored: bool,
}

/// A stored entry as read under the lock: the object, or a copy of the dormant form.
enum Snapshot {
    Live(Py<PyAny>),
    Dormant(dormant_jobs::DormantJob),
}

impl Snapshot {
    fn of(py: Python<'_>, stored: &Stored) -> Snapshot {
        match stored {
            Stored::Live(job) => Snapshot::Live(job.clone_ref(py)),
            Stored::Dormant(record) => Snapshot::Dormant(record.snapshot(py)),
        }
    }
}

/// Whether a job with run key `key` is not due within `AT_REST_AFTER` of `now`.
fn at_rest(key: RunKey, now: i64) -> bool {
    match key {
        RunKey::At(at) => at.saturating_sub(now) > AT_REST_AFTER,
        RunKey::Paused => true,
    }
}


/// Drops what the store let go of, with the GIL held and no lock: a job object still
/// held elsewhere is shown to the garbage collector again.
fn release_all(py: Python<'_>, stored: Vec<Stored>) {
    for entry in stored {
        release(py, entry);
    }
}

fn release(py: Python<'_>, stored: Stored) {
    match stored {
        Stored::Live(job) => stored_jobs_gc::release(py, job),
        Stored::Dormant(record) => drop(record),
    }
}

/// `release` for the entry an update replaced with `stored`, unless it is that very
/// object.
fn release_replaced(stored: &Bound<'_, PyAny>, replaced: Stored) {
    match replaced {
        Stored::Live(replaced) => stored_jobs_gc::release_replaced(stored, replaced),
        dormant => release(stored.py(), dormant),
    }
}

fn store_error<'py>(py: Python<'py>, name: &str, job_id: &Bound<'py, PyAny>) -> PyErr {
    static BASE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let error = BASE
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("apscheduler.jobstores.base")?.unbind()) })
        .and_then(|module| module.bind(py).getattr(name))
        .and_then(|class| class.call1((job_id,)));
    match error {
        Ok(error) => PyErr::from_value(error),
        Err(error) => error,
    }
}

/// The index's key for a job id; `None` for an id that is not a string, which no
/// stored job can have.
fn job_key(id: &Bound<'_, PyAny>) -> Option<JobKey> {
    let id = id.cast::<PyString>().ok()?;
    Some(JobKey::new(super::common::text(id).ok()?))
}

/// The index's key for the id of a job being stored. The index keeps string ids only:
/// `Job` itself accepts no other kind.
pub(crate) fn stored_id_key(id: &Bound<'_, PyAny>) -> PyResult<JobKey> {
    Ok(JobKey::new(super::common::text(id.cast::<PyString>()?)?))
}

fn job_id_key(job: &Bound<'_, PyAny>) -> PyResult<JobKey> {
    stored_id_key(&job.getattr(pyo3::intern!(job.py(), "id"))?)
}

/// Where a job sorts, from its `next_run_time`.
fn run_key(job: &Bound<'_, PyAny>) -> PyResult<RunKey> {
    let next_run_time = job.getattr(pyo3::intern!(job.py(), "next_run_time"))?;
    if next_run_time.is_none() {
        return Ok(RunKey::Paused);
    }
    Ok(RunKey::At(zones::utc_micros(&next_run_time)?))
}

impl PyMemoryJobStore {
    /// `add_job(job)` for a job whose id and run key the caller has read, with
    /// `replace_existing` as in `BaseScheduler._store_job`; `watch` tells when the job
    /// is looked at again, to be put to sleep if nothing else holds it by then.
    pub(crate) fn store_job(&self, job: &Bound<'_, PyAny>, id: JobKey, key: RunKey, replace_existing: bool, watch: Watch) -> PyResult<()> {
        let py = job.py();
        if watch == Watch::AtNextChange {
            self.settle(py, SETTLE_ON_CHANGE, SETTLE_ON_CHANGE);
        }
        let outcome = {
            let mut state = self.state.lock();
            let state = &mut *state;
            let outcome = if replace_existing && state.jobs.get(&id).is_some() {
                state.jobs.update(&id, Stored::Live(job.clone().unbind()), key).map(Some)
            } else {
                state.jobs.add(id.clone(), Stored::Live(job.clone().unbind()), key).map(|()| None)
            };
            if outcome.is_ok() {
                state.changed();
                match watch {
                    Watch::AtNextChange => state.candidates.push_back((id, 1)),
                    // (Re)started from the first job: the new ones may sort before it.
                    Watch::AtPasses => state.sweep = Some(None),
                }
            }
            outcome
        };
        match outcome {
            // A replaced job is released here, after the lock.
            Ok(replaced) => {
                stored_jobs_gc::hide(job);
                if let Some(replaced) = replaced {
                    release_replaced(job, replaced);
                }
                Ok(())
            }
            Err(_) => Err(store_error(py, "ConflictingIdError", &job.getattr("id")?)),
        }
    }

    /// Makes room for the batch of `additional` jobs `start()` is about to store.
    pub(crate) fn reserve(&self, additional: usize) {
        self.state.lock().jobs.reserve(additional);
    }

    /// Puts to sleep the oldest `limit` candidates, if nothing else holds them any more,
    /// once at least `gathered` are waiting.
    fn settle(&self, py: Python<'_>, limit: usize, gathered: usize) {
        // Found before the lock: the first call imports modules.
        let Some(classes) = dormant_jobs::classes(py) else {
            // No job can be put to sleep here.
            self.state.lock().candidates.clear();
            return;
        };
        let mut released = Released::default();
        {
            let mut state = self.state.lock();
            if state.candidates.len() < gathered.max(1) {
                return;
            }
            let now = super::zones::now_utc_micros();
            let state = &mut *state;
            let count = state.candidates.len().min(limit);
            let candidates: Vec<(JobKey, u8)> = state.candidates.drain(..count).collect();
            for (id, tries) in candidates {
                if matches!(state.try_to_sleep(py, &id, now, classes, &mut released), Some(Sleep::Held)) && tries > 1 {
                    state.candidates.push_back((id, tries - 1));
                }
            }
        }
        drop(released);
    }

    /// Puts to sleep the next `SETTLE_ON_PASS` jobs of the walk over every job, if one
    /// is under way.
    fn sweep(&self, py: Python<'_>) {
        let Some(classes) = dormant_jobs::classes(py) else { return };
        let mut released = Released::default();
        {
            let mut state = self.state.lock();
            let Some(cursor) = state.sweep.take() else { return };
            let now = super::zones::now_utc_micros();
            let stretch = state.jobs.ids_after(cursor.as_ref(), SETTLE_ON_PASS);
            for (_, id) in &stretch {
                state.try_to_sleep(py, id, now, classes, &mut released);
            }
            // A stretch shorter than asked for ends the walk.
            if stretch.len() == SETTLE_ON_PASS {
                state.sweep = Some(stretch.into_iter().last());
            }
        }
        drop(released);
    }

    /// The job objects of the entries `pick` chooses, waking dormant jobs: each woken
    /// object takes its dormant form's place in the store (unless the store changed
    /// while the job was being woken, three times in a row).
    fn objects<T>(&self, py: Python<'_>, pick: impl Fn(&OrderedJobs<Stored>) -> Vec<(JobKey, T, &Stored)>) -> PyResult<Vec<Read<T>>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            // References are taken under the lock; objects are made after it.
            let (picked, generation) = {
                let state = self.state.lock();
                let picked: Vec<(JobKey, T, Snapshot)> =
                    pick(&state.jobs).into_iter().map(|(id, value, stored)| (id, value, Snapshot::of(py, stored))).collect();
                (picked, state.generation)
            };
            let mut read = Vec::with_capacity(picked.len());
            let mut woken = Vec::new();
            for (index, (id, value, snapshot)) in picked.into_iter().enumerate() {
                let job = match snapshot {
                    Snapshot::Live(job) => job,
                    Snapshot::Dormant(record) => {
                        woken.push(index);
                        record.wake(py, &id, classes(py)?)?.unbind()
                    }
                };
                read.push(Read { id, value, job, stored: true });
            }
            if woken.is_empty() {
                return Ok(read);
            }
            let mut replaced = Vec::with_capacity(woken.len());
            {
                let mut state = self.state.lock();
                let state = &mut *state;
                if state.generation == generation {
                    for &index in &woken {
                        let Read { id, job, .. } = &read[index];
                        if let Some((entry, _)) = state.jobs.get_mut(id) {
                            replaced.push(std::mem::replace(entry, Stored::Live(job.clone_ref(py))));
                            state.candidates.push_back((id.clone(), TRIES_AFTER_READ));
                        }
                    }
                    state.changed();
                }
            }
            if !replaced.is_empty() {
                release_all(py, replaced);
                for &index in &woken {
                    stored_jobs_gc::hide(read[index].job.bind(py));
                }
                return Ok(read);
            }
            if attempts == 3 {
                for &index in &woken {
                    read[index].stored = false;
                }
                return Ok(read);
            }
        }
    }

    fn list<'py>(&self, py: Python<'py>, pick: impl Fn(&OrderedJobs<Stored>) -> Vec<(JobKey, (), &Stored)>) -> PyResult<Bound<'py, PyList>> {
        let jobs = self.objects(py, pick)?;
        PyList::new(py, jobs.into_iter().map(|read| read.job))
    }

    /// Up to `limit` due jobs after `after` as `(id, run key, job)`, for a pass; every
    /// job is the object the store holds (a job that could not be woken in its place
    /// is left for the next pass, which is due at once).
    pub(crate) fn due_page(&self, py: Python<'_>, now: i64, after: Option<(i64, &JobKey)>, limit: usize) -> PyResult<Vec<(JobKey, i64, Py<PyAny>)>> {
        // Once per pass: the jobs the pages before rescheduled are still running.
        if after.is_none() {
            self.settle(py, SETTLE_ON_PASS, 1);
            self.sweep(py);
        }
        let page = self.objects(py, |jobs| jobs.due_page(now, after, limit).into_iter().map(|(id, at, job)| (id.clone(), at, job)).collect())?;
        Ok(page.into_iter().filter(|read| read.stored).map(|Read { id, value, job, .. }| (id, value, job)).collect())
    }

    /// Moves job `id` to run key `key` after a pass at `now` ran it; `false` if it is
    /// no longer stored. A job at rest until its next run may be put to sleep once its
    /// run is over.
    pub(crate) fn reschedule(&self, id: &JobKey, key: RunKey, now: i64) -> bool {
        let mut state = self.state.lock();
        let rescheduled = state.jobs.reschedule(id, key).is_ok();
        if rescheduled && at_rest(key, now) {
            state.candidates.push_back((id.clone(), TRIES_AFTER_READ));
        }
        rescheduled
    }

    /// Takes job `id` out of the store, for a pass that ran its last run.
    pub(crate) fn take(&self, py: Python<'_>, id: &JobKey) -> bool {
        let taken = {
            let mut state = self.state.lock();
            let taken = state.jobs.remove(id).ok();
            if taken.is_some() {
                state.changed();
            }
            taken
        };
        match taken {
            Some(stored) => {
                release(py, stored);
                true
            }
            None => false,
        }
    }
}

impl StoreState {
    fn changed(&mut self) {
        self.generation += 1;
    }

    /// Puts job `id` to sleep if it is a live job at rest that nothing else holds; what
    /// `put_to_sleep` said, or `None` when the job was not a candidate at all.
    fn try_to_sleep(&mut self, py: Python<'_>, id: &JobKey, now: i64, classes: &dormant_jobs::Classes, released: &mut Released) -> Option<Sleep> {
        let (entry, at) = self.jobs.get_mut(id)?;
        let Stored::Live(job) = &*entry else { return None };
        // A paused job sorts last, at the largest key: it is at rest too. A job that
        // runs once is woken once, for its run: it may sleep until then.
        if !at_rest(RunKey::At(at), now) && !stored_jobs_gc::runs_once(job.bind(py)) {
            return None;
        }
        match dormant_jobs::put_to_sleep(job.bind(py), id, classes, &mut self.shapes, released) {
            Sleep::Done(record) => {
                if let Stored::Live(job) = std::mem::replace(entry, Stored::Dormant(record)) {
                    released.object(job);
                }
                self.changed();
                None
            }
            outcome => Some(outcome),
        }
    }
}

/// The classes dormant jobs are woken as; they were found when the jobs were put to
/// sleep, so this fails only if that was never possible.
fn classes(py: Python<'_>) -> PyResult<&dormant_jobs::Classes> {
    dormant_jobs::classes(py).ok_or_else(|| pyo3::exceptions::PySystemError::new_err("dormant jobs cannot be woken"))
}

impl Drop for PyMemoryJobStore {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        let jobs = state.jobs.take_all();
        let shapes = std::mem::take(&mut state.shapes);
        if jobs.is_empty() && shapes.is_empty() {
            return;
        }
        // A store is freed by the interpreter, with the GIL held: attaching takes no
        // lock and waits for nothing.
        Python::attach(|py| {
            release_all(py, jobs);
            drop(shapes);
        });
    }
}

#[pymethods]
impl PyMemoryJobStore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyAny>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        PyMemoryJobStore {
            state: Mutex::new(StoreState {
                jobs: OrderedJobs::default(),
                candidates: VecDeque::new(),
                sweep: None,
                shapes: Shapes::default(),
                generation: 0,
            }),
        }
    }

    fn lookup_job(&self, py: Python<'_>, job_id: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Some(id) = job_key(job_id) else { return Ok(py.None()) };
        let found = self.objects(py, |jobs| jobs.get(&id).map(|stored| (id.clone(), (), stored)).into_iter().collect())?;
        Ok(found.into_iter().next().map_or_else(|| py.None(), |read| read.job))
    }

    fn get_due_jobs<'py>(&self, py: Python<'py>, now: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let now = zones::utc_micros(now)?;
        self.list(py, |jobs| jobs.due_entries(now).map(|(id, _, stored)| (id.clone(), (), stored)).collect())
    }

    fn get_next_run_time(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let first = self.state.lock().jobs.first().map(|stored| Snapshot::of(py, stored));
        match first {
            Some(Snapshot::Live(job)) => Ok(job.bind(py).getattr(pyo3::intern!(py, "next_run_time"))?.unbind()),
            Some(Snapshot::Dormant(record)) => Ok(record.next_run_time(py, classes(py)?)?.unbind()),
            None => Ok(py.None()),
        }
    }

    fn get_all_jobs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.list(py, |jobs| jobs.all_entries().map(|(id, stored)| (id.clone(), (), stored)).collect())
    }

    fn add_job(&self, job: &Bound<'_, PyAny>) -> PyResult<()> {
        self.store_job(job, job_id_key(job)?, run_key(job)?, false, Watch::AtNextChange)
    }

    fn update_job(&self, job: &Bound<'_, PyAny>) -> PyResult<()> {
        let id = job_id_key(job)?;
        let key = run_key(job)?;
        self.settle(job.py(), SETTLE_ON_CHANGE, SETTLE_ON_CHANGE);
        let replaced = {
            let mut state = self.state.lock();
            let replaced = state.jobs.update(&id, Stored::Live(job.clone().unbind()), key);
            if replaced.is_ok() {
                state.changed();
                state.candidates.push_back((id, 1));
            }
            replaced
        };
        match replaced {
            // The replaced job is released here, after the lock.
            Ok(replaced) => {
                stored_jobs_gc::hide(job);
                release_replaced(job, replaced);
                Ok(())
            }
            Err(StoreError::Missing | StoreError::Conflict) => {
                Err(store_error(job.py(), "JobLookupError", &job.getattr("id")?))
            }
        }
    }

    fn remove_job(&self, job_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = job_id.py();
        self.settle(py, SETTLE_ON_CHANGE, SETTLE_ON_CHANGE);
        let removed = match job_key(job_id) {
            Some(id) => {
                let mut state = self.state.lock();
                let removed = state.jobs.remove(&id).ok();
                if removed.is_some() {
                    state.changed();
                }
                removed
            }
            None => None,
        };
        match removed {
            Some(stored) => {
                release(py, stored);
                Ok(())
            }
            None => Err(store_error(py, "JobLookupError", job_id)),
        }
    }

    fn remove_all_jobs(&self, py: Python<'_>) {
        let jobs = {
            let mut state = self.state.lock();
            state.changed();
            state.candidates.clear();
            state.jobs.take_all()
        };
        release_all(py, jobs);
    }

    fn shutdown(&self, py: Python<'_>) {
        self.remove_all_jobs(py);
    }

    /// How many stored jobs are kept in the compact form (for tests).
    fn _dormant_count(&self) -> usize {
        self.state.lock().jobs.all().filter(|stored| matches!(stored, Stored::Dormant(_))).count()
    }

    /// Looks at every job waiting to be put to sleep now, as the changes and passes to
    /// come would (for tests).
    fn _settle(&self, py: Python<'_>) {
        self.settle(py, usize::MAX, 1);
    }
}
