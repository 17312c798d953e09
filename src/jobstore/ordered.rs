//! The in-memory job store's index: jobs by id, and ids ordered by next run time.
//!
//! The order is the reference's: ascending next run time, ties broken by job id, and
//! paused jobs (no next run time) last. Adding, updating and removing a job are
//! O(log n); due jobs are read from the front.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use super::key_hasher::KeyHashing;
use super::JobKey;
use crate::time::Micros;

/// Where a job sorts: by its next run time, paused jobs after every scheduled one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunKey {
    At(Micros),
    Paused,
}

impl RunKey {
    /// The key as the index stores it: the run time, or the largest value for a paused
    /// job. A key of 8 bytes instead of 16 makes each entry of both maps smaller. (No
    /// datetime is that late: year 9999 ends near 2.5e17 microseconds.)
    fn packed(self) -> Micros {
        match self {
            RunKey::At(at) => at.min(Micros::MAX - 1),
            RunKey::Paused => Micros::MAX,
        }
    }
}

#[derive(Debug)]
pub enum StoreError {
    /// A job with this id is already stored.
    Conflict,
    /// No job with this id is stored.
    Missing,
}

/// Jobs of any type `J`, indexed by id and ordered by run time.
#[derive(Debug)]
pub struct OrderedJobs<J> {
    order: BTreeSet<(Micros, JobKey)>,
    jobs: HashMap<JobKey, (J, Micros), KeyHashing>,
}

impl<J> Default for OrderedJobs<J> {
    fn default() -> Self {
        OrderedJobs { order: BTreeSet::new(), jobs: HashMap::default() }
    }
}

impl<J> OrderedJobs<J> {
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    pub fn get(&self, id: &JobKey) -> Option<&J> {
        self.jobs.get(id).map(|(job, _)| job)
    }

    /// A stored job to change in place, with its packed run key (`Micros::MAX` for a
    /// paused job).
    pub fn get_mut(&mut self, id: &JobKey) -> Option<(&mut J, Micros)> {
        self.jobs.get_mut(id).map(|(job, key)| (job, *key))
    }

    pub fn add(&mut self, id: JobKey, job: J, key: RunKey) -> Result<(), StoreError> {
        match self.jobs.entry(id) {
            Entry::Occupied(_) => Err(StoreError::Conflict),
            Entry::Vacant(vacant) => {
                let key = key.packed();
                self.order.insert((key, vacant.key().clone()));
                vacant.insert((job, key));
                Ok(())
            }
        }
    }

    /// Replaces a stored job, moving it if its run time changed; returns the old one.
    pub fn update(&mut self, id: &JobKey, job: J, key: RunKey) -> Result<J, StoreError> {
        let entry = self.jobs.get_mut(id).ok_or(StoreError::Missing)?;
        let old_job = std::mem::replace(&mut entry.0, job);
        move_entry(&mut self.order, &mut entry.1, id, key);
        Ok(old_job)
    }

    /// Moves a stored job to a new run time, keeping the job itself.
    pub fn reschedule(&mut self, id: &JobKey, key: RunKey) -> Result<(), StoreError> {
        let entry = self.jobs.get_mut(id).ok_or(StoreError::Missing)?;
        move_entry(&mut self.order, &mut entry.1, id, key);
        Ok(())
    }

    pub fn remove(&mut self, id: &JobKey) -> Result<J, StoreError> {
        let (stored_id, (job, key)) = self.jobs.remove_entry(id).ok_or(StoreError::Missing)?;
        self.order.remove(&(key, stored_id));
        Ok(job)
    }

    /// Makes room for `additional` more jobs at once, rather than growing the index
    /// step by step while a batch is added.
    pub fn reserve(&mut self, additional: usize) {
        self.jobs.reserve(additional);
    }

    /// Empties the store, handing back the jobs (so that the caller chooses where they
    /// are dropped).
    pub fn take_all(&mut self) -> Vec<J> {
        self.order.clear();
        self.jobs.drain().map(|(_, (job, _))| job).collect()
    }

    /// Jobs due at `now` (run time at or before it), earliest first.
    pub fn due(&self, now: Micros) -> impl Iterator<Item = &J> {
        self.due_entries(now).map(|(_, _, job)| job)
    }

    /// Jobs due at `now` with their ids and run times, earliest first.
    pub fn due_entries(&self, now: Micros) -> impl Iterator<Item = (&JobKey, Micros, &J)> {
        self.due_from(std::ops::Bound::Unbounded, now)
    }

    /// Up to `limit` jobs due at `now` that sort after `after` (a run time and id a
    /// previous page ended with), earliest first: a burst of due jobs read a page at a
    /// time, without reading again the jobs already taken.
    pub fn due_page(&self, now: Micros, after: Option<(Micros, &JobKey)>, limit: usize) -> Vec<(&JobKey, Micros, &J)> {
        use std::ops::Bound;
        let start = match after {
            Some((at, id)) => Bound::Excluded((at, id.clone())),
            None => Bound::Unbounded,
        };
        self.due_from(start, now).take(limit).collect()
    }

    fn due_from(&self, start: std::ops::Bound<(Micros, JobKey)>, now: Micros) -> impl Iterator<Item = (&JobKey, Micros, &J)> {
        let end = RunKey::At(now).packed();
        self.order
            .range((start, std::ops::Bound::Unbounded))
            .take_while(move |(key, _)| *key <= end)
            .filter_map(|(key, id)| self.get(id).map(|job| (id, *key, job)))
    }

    /// Every job, earliest first, paused jobs last.
    pub fn all(&self) -> impl Iterator<Item = &J> {
        self.order.iter().filter_map(|(_, id)| self.get(id))
    }

    /// Every job with its id, earliest first, paused jobs last.
    pub fn all_entries(&self) -> impl Iterator<Item = (&JobKey, &J)> {
        self.order.iter().filter_map(|(_, id)| self.get(id).map(|job| (id, job)))
    }

    /// Up to `limit` ids in order after the run key and id `after` (from the first job
    /// when `None`), with their run keys: a walk over every job, a stretch at a time.
    pub fn ids_after(&self, after: Option<&(Micros, JobKey)>, limit: usize) -> Vec<(Micros, JobKey)> {
        use std::ops::Bound;
        let start = match after {
            Some(after) => Bound::Excluded(after.clone()),
            None => Bound::Unbounded,
        };
        self.order.range((start, Bound::Unbounded)).take(limit).cloned().collect()
    }

    /// The first job in order, which tells the next run time (if it isn't paused).
    pub fn first(&self) -> Option<&J> {
        self.order.first().and_then(|(_, id)| self.get(id))
    }
}

/// Gives job `id`, whose run key is `stored`, the run key `key`, in the ordered set too.
fn move_entry(order: &mut BTreeSet<(Micros, JobKey)>, stored: &mut Micros, id: &JobKey, key: RunKey) {
    let key = key.packed();
    let old_key = std::mem::replace(stored, key);
    if old_key != key {
        order.remove(&(old_key, id.clone()));
        order.insert((key, id.clone()));
    }
}

// Test-only code, never built into the extension: an `unwrap()` here is an assertion
// that fails the test, not a panic that could reach Python.
#[cfg(test)]
mod tests {
    use super::*;

    fn k(id: &str) -> JobKey {
        JobKey::new(id)
    }

    fn ids(store: &OrderedJobs<&'static str>) -> Vec<&'static str> {
        store.all().copied().collect()
    }

    #[test]
    fn orders_by_run_time_then_id_with_paused_last() {
        let mut store = OrderedJobs::default();
        store.add(k("b"), "b", RunKey::At(10)).unwrap();
        store.add(k("p"), "p", RunKey::Paused).unwrap();
        store.add(k("a"), "a", RunKey::At(10)).unwrap();
        store.add(k("c"), "c", RunKey::At(5)).unwrap();
        assert_eq!(ids(&store), ["c", "a", "b", "p"]);
        assert_eq!(store.due(10).copied().collect::<Vec<_>>(), ["c", "a", "b"]);
        assert_eq!(store.due(9).copied().collect::<Vec<_>>(), ["c"]);
        assert_eq!(store.first(), Some(&"c"));
    }

    #[test]
    fn update_moves_and_errors_name_the_problem() {
        let mut store = OrderedJobs::default();
        store.add(k("a"), 1, RunKey::At(10)).unwrap();
        store.add(k("b"), 2, RunKey::At(20)).unwrap();
        assert!(matches!(store.add(k("a"), 3, RunKey::At(1)), Err(StoreError::Conflict)));
        assert_eq!(store.update(&k("a"), 4, RunKey::At(30)).unwrap(), 1);
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 4]);
        assert!(matches!(store.update(&k("x"), 5, RunKey::Paused), Err(StoreError::Missing)));
        assert_eq!(store.remove(&k("b")).unwrap(), 2);
        assert!(matches!(store.remove(&k("b")), Err(StoreError::Missing)));
        assert_eq!(store.take_all(), [4]);
        assert!(store.is_empty());
    }

    #[test]
    fn reschedule_moves_a_job_and_due_entries_carry_ids_and_times() {
        let mut store = OrderedJobs::default();
        store.add(k("a"), 1, RunKey::At(10)).unwrap();
        store.add(k("b"), 2, RunKey::At(20)).unwrap();
        store.add(k("p"), 3, RunKey::Paused).unwrap();
        store.reschedule(&k("a"), RunKey::At(30)).unwrap();
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 1, 3]);
        let due: Vec<_> = store.due_entries(30).map(|(id, at, job)| (id.to_string(), at, *job)).collect();
        assert_eq!(due, [("b".to_string(), 20, 2), ("a".to_string(), 30, 1)]);
        // Rescheduling to the same time, or a job that is gone, changes nothing.
        store.reschedule(&k("b"), RunKey::At(20)).unwrap();
        assert!(matches!(store.reschedule(&k("x"), RunKey::At(1)), Err(StoreError::Missing)));
        store.reschedule(&k("a"), RunKey::Paused).unwrap();
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 1, 3]);
        assert_eq!(store.remove(&k("a")).unwrap(), 1);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn due_pages_resume_after_the_last_job_taken() {
        let mut store = OrderedJobs::default();
        for (id, at) in [("a", 1), ("b", 1), ("c", 2), ("d", 3), ("e", 9)] {
            store.add(k(id), id, RunKey::At(at)).unwrap();
        }
        store.add(k("p"), "p", RunKey::Paused).unwrap();
        let page = |after: Option<(i64, &str)>| -> Vec<&str> {
            let after = after.map(|(at, id)| (at, k(id)));
            store.due_page(3, after.as_ref().map(|(at, id)| (*at, id)), 2).into_iter().map(|(_, _, job)| *job).collect()
        };
        assert_eq!(page(None), ["a", "b"]);
        assert_eq!(page(Some((1, "b"))), ["c", "d"]);
        assert_eq!(page(Some((3, "d"))), Vec::<&str>::new());
        // A cursor whose job has gone still resumes at the right place.
        assert_eq!(page(Some((1, "aa"))), ["b", "c"]);
    }

    #[test]
    fn packed_and_text_ids_share_one_order() {
        let hex = ["0000000000000000000000000000000a", "ffffffffffffffffffffffffffffffff"];
        let mut store = OrderedJobs::default();
        for id in [hex[1], "1", hex[0], "zz", "0"] {
            store.add(k(id), id, RunKey::At(7)).unwrap();
        }
        store.add(k("late"), "late", RunKey::At(8)).unwrap();
        assert_eq!(ids(&store), ["0", hex[0], "1", hex[1], "zz", "late"]);
        assert!(matches!(store.add(k(hex[0]), "again", RunKey::At(1)), Err(StoreError::Conflict)));
        assert_eq!(store.remove(&k(hex[1])).unwrap(), hex[1]);
        assert_eq!(store.due(7).copied().collect::<Vec<_>>(), ["0", hex[0], "1", "zz"]);
    }
}
