//! The in-memory job store's index: jobs by id, and ids ordered by next run time.
//!
//! The order is the reference's: ascending next run time, ties broken by job id, and
//! paused jobs (no next run time) last. Adding, updating and removing a job are
//! O(log n); due jobs are read from the front.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::time::Micros;

/// Where a job sorts: by its next run time, paused jobs after every scheduled one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RunKey {
    At(Micros),
    Paused,
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
    order: BTreeSet<(RunKey, Arc<str>)>,
    jobs: HashMap<Arc<str>, (J, RunKey)>,
}

impl<J> Default for OrderedJobs<J> {
    fn default() -> Self {
        OrderedJobs { order: BTreeSet::new(), jobs: HashMap::new() }
    }
}

impl<J> OrderedJobs<J> {
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&J> {
        self.jobs.get(id).map(|(job, _)| job)
    }

    pub fn add(&mut self, id: &str, job: J, key: RunKey) -> Result<(), StoreError> {
        if self.jobs.contains_key(id) {
            return Err(StoreError::Conflict);
        }
        let id: Arc<str> = Arc::from(id);
        self.order.insert((key, id.clone()));
        self.jobs.insert(id, (job, key));
        Ok(())
    }

    /// Replaces a stored job, moving it if its run time changed; returns the old one.
    pub fn update(&mut self, id: &str, job: J, key: RunKey) -> Result<J, StoreError> {
        let (stored_id, (old_job, old_key)) = self.jobs.remove_entry(id).ok_or(StoreError::Missing)?;
        if old_key != key {
            self.order.remove(&(old_key, stored_id.clone()));
            self.order.insert((key, stored_id.clone()));
        }
        self.jobs.insert(stored_id, (job, key));
        Ok(old_job)
    }

    /// Moves a stored job to a new run time, keeping the job itself.
    pub fn reschedule(&mut self, id: &str, key: RunKey) -> Result<(), StoreError> {
        let (stored_id, old_key) = match self.jobs.get_key_value(id) {
            Some((stored_id, (_, old_key))) => (stored_id.clone(), *old_key),
            None => return Err(StoreError::Missing),
        };
        if old_key != key {
            self.order.remove(&(old_key, stored_id.clone()));
            self.order.insert((key, stored_id.clone()));
            if let Some(entry) = self.jobs.get_mut(&stored_id) {
                entry.1 = key;
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, id: &str) -> Result<J, StoreError> {
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
        self.order
            .iter()
            .take_while(move |(key, _)| *key <= RunKey::At(now))
            .filter_map(|(_, id)| self.get(id))
    }

    /// Jobs due at `now` with their ids and run times, earliest first.
    pub fn due_entries(&self, now: Micros) -> impl Iterator<Item = (&Arc<str>, Micros, &J)> {
        self.order.iter().take_while(move |(key, _)| *key <= RunKey::At(now)).filter_map(|(key, id)| {
            let RunKey::At(at) = *key else { return None };
            self.get(id).map(|job| (id, at, job))
        })
    }

    /// Up to `limit` jobs due at `now` that sort after `after` (a run time and id a
    /// previous page ended with), earliest first: a burst of due jobs read a page at a
    /// time, without reading again the jobs already taken.
    pub fn due_page(&self, now: Micros, after: Option<(Micros, &str)>, limit: usize) -> Vec<(&Arc<str>, Micros, &J)> {
        use std::ops::Bound;
        let start = match after {
            Some((at, id)) => Bound::Excluded((RunKey::At(at), Arc::from(id))),
            None => Bound::Unbounded,
        };
        self.order
            .range((start, Bound::Unbounded))
            .take_while(|(key, _)| *key <= RunKey::At(now))
            .filter_map(|(key, id)| {
                let RunKey::At(at) = *key else { return None };
                self.get(id).map(|job| (id, at, job))
            })
            .take(limit)
            .collect()
    }

    /// Every job, earliest first, paused jobs last.
    pub fn all(&self) -> impl Iterator<Item = &J> {
        self.order.iter().filter_map(|(_, id)| self.get(id))
    }

    /// The first job in order, which tells the next run time (if it isn't paused).
    pub fn first(&self) -> Option<&J> {
        self.order.first().and_then(|(_, id)| self.get(id))
    }
}

// Test-only code, never built into the extension: an `unwrap()` here is an assertion
// that fails the test, not a panic that could reach Python.
#[cfg(test)]
mod tests {
    use super::*;

    fn ids(store: &OrderedJobs<&'static str>) -> Vec<&'static str> {
        store.all().copied().collect()
    }

    #[test]
    fn orders_by_run_time_then_id_with_paused_last() {
        let mut store = OrderedJobs::default();
        store.add("b", "b", RunKey::At(10)).unwrap();
        store.add("p", "p", RunKey::Paused).unwrap();
        store.add("a", "a", RunKey::At(10)).unwrap();
        store.add("c", "c", RunKey::At(5)).unwrap();
        assert_eq!(ids(&store), ["c", "a", "b", "p"]);
        assert_eq!(store.due(10).copied().collect::<Vec<_>>(), ["c", "a", "b"]);
        assert_eq!(store.due(9).copied().collect::<Vec<_>>(), ["c"]);
        assert_eq!(store.first(), Some(&"c"));
    }

    #[test]
    fn update_moves_and_errors_name_the_problem() {
        let mut store = OrderedJobs::default();
        store.add("a", 1, RunKey::At(10)).unwrap();
        store.add("b", 2, RunKey::At(20)).unwrap();
        assert!(matches!(store.add("a", 3, RunKey::At(1)), Err(StoreError::Conflict)));
        assert_eq!(store.update("a", 4, RunKey::At(30)).unwrap(), 1);
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 4]);
        assert!(matches!(store.update("x", 5, RunKey::Paused), Err(StoreError::Missing)));
        assert_eq!(store.remove("b").unwrap(), 2);
        assert!(matches!(store.remove("b"), Err(StoreError::Missing)));
        assert_eq!(store.take_all(), [4]);
        assert!(store.is_empty());
    }

    #[test]
    fn reschedule_moves_a_job_and_due_entries_carry_ids_and_times() {
        let mut store = OrderedJobs::default();
        store.add("a", 1, RunKey::At(10)).unwrap();
        store.add("b", 2, RunKey::At(20)).unwrap();
        store.add("p", 3, RunKey::Paused).unwrap();
        store.reschedule("a", RunKey::At(30)).unwrap();
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 1, 3]);
        let due: Vec<_> = store.due_entries(30).map(|(id, at, job)| (id.to_string(), at, *job)).collect();
        assert_eq!(due, [("b".to_string(), 20, 2), ("a".to_string(), 30, 1)]);
        // Rescheduling to the same time, or a job that is gone, changes nothing.
        store.reschedule("b", RunKey::At(20)).unwrap();
        assert!(matches!(store.reschedule("x", RunKey::At(1)), Err(StoreError::Missing)));
        store.reschedule("a", RunKey::Paused).unwrap();
        assert_eq!(store.all().copied().collect::<Vec<_>>(), [2, 1, 3]);
        assert_eq!(store.remove("a").unwrap(), 1);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn due_pages_resume_after_the_last_job_taken() {
        let mut store = OrderedJobs::default();
        for (id, at) in [("a", 1), ("b", 1), ("c", 2), ("d", 3), ("e", 9)] {
            store.add(id, id, RunKey::At(at)).unwrap();
        }
        store.add("p", "p", RunKey::Paused).unwrap();
        let page = |after: Option<(i64, &str)>| -> Vec<&str> { store.due_page(3, after, 2).into_iter().map(|(_, _, job)| *job).collect() };
        assert_eq!(page(None), ["a", "b"]);
        assert_eq!(page(Some((1, "b"))), ["c", "d"]);
        assert_eq!(page(Some((3, "d"))), Vec::<&str>::new());
        // A cursor whose job has gone still resumes at the right place.
        assert_eq!(page(Some((1, "aa"))), ["b", "c"]);
    }
}
