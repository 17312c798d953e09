//! The worker pool under `ThreadPoolExecutor`: a queue of work items and the
//! bookkeeping that decides when another worker thread must be started.
//!
//! The pool never starts threads itself. `submit` tells the caller to start worker
//! number `n` (the bindings start it as a `threading.Thread`, so that it keeps its
//! Python thread state for its whole life), and each worker pulls items with
//! [`Worker::next`] until the pool is closed and the queue is empty.
//!
//! Thread creation follows `concurrent.futures.ThreadPoolExecutor`, so that a program
//! sees the same threads as with APScheduler: workers start lazily, one per submission
//! that finds no idle worker, up to `max_workers`. A worker counts as idle each time it
//! finishes an item, and each submission that finds an idle worker uses one of those
//! counts up, whether or not that worker is still waiting; this over-count is the
//! reference's too (its idle semaphore), and keeping it keeps the thread counts equal.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

/// What a successful [`WorkerPool::submit`] asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// An idle or busy worker will take the item; nothing to do.
    Queued,
    /// Start the worker with this index (0-based, in start order).
    StartWorker(usize),
}

/// The pool is closed; the rejected item is handed back so that the caller drops it
/// where it chooses (for Python objects: while attached, outside any lock).
#[derive(Debug)]
pub struct Closed<T>(pub T);

#[derive(Debug, Default)]
struct Counts {
    /// Finished items not yet matched by a submission (the reference's idle semaphore).
    idle: AtomicUsize,
    /// Workers started or being started.
    started: AtomicUsize,
    /// Set in a forked child, whose copy of the pool belongs to the parent.
    abandoned: AtomicBool,
}

/// A multi-producer queue of `T` served by up to `max_workers` workers.
#[derive(Debug)]
pub struct WorkerPool<T> {
    /// `None` once closed. Dropping the last sender is what tells the workers to stop
    /// once the queue is empty.
    sender: Mutex<Option<Sender<T>>>,
    receiver: Receiver<T>,
    counts: Arc<Counts>,
    max_workers: usize,
}

/// One worker's end of the queue. It does not keep the pool open: when the pool is
/// closed or dropped, [`Worker::next`] returns the items left and then `None`.
#[derive(Debug)]
pub struct Worker<T> {
    receiver: Receiver<T>,
    counts: Arc<Counts>,
}

impl<T> WorkerPool<T> {
    pub fn new(max_workers: NonZeroUsize) -> Self {
        let (sender, receiver) = crossbeam_channel::unbounded();
        WorkerPool {
            sender: Mutex::new(Some(sender)),
            receiver,
            counts: Arc::default(),
            max_workers: max_workers.get(),
        }
    }

    pub fn max_workers(&self) -> usize {
        self.max_workers
    }

    /// Queues `item`, then says whether a worker must be started for it.
    pub fn submit(&self, item: T) -> Result<Submitted, Closed<T>> {
        // The lock only orders sends against `close`; an unbounded send never blocks.
        let sent = match self.sender.lock().as_ref() {
            Some(sender) => sender.send(item).map_err(|error| Closed(error.0)),
            None => Err(Closed(item)),
        };
        sent?;
        if self.counts.idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1)).is_ok() {
            return Ok(Submitted::Queued);
        }
        let max = self.max_workers;
        match self.counts.started.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)) {
            Ok(index) => Ok(Submitted::StartWorker(index)),
            Err(_) => Ok(Submitted::Queued),
        }
    }

    /// Gives back the slot of a worker that `submit` asked for but that could not be
    /// started, so that a later submission tries again.
    pub fn worker_not_started(&self) {
        let _ = self.counts.started.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// A handle for a new worker thread.
    pub fn worker(&self) -> Worker<T> {
        Worker { receiver: self.receiver.clone(), counts: Arc::clone(&self.counts) }
    }

    /// Refuses further items. Workers finish the queued ones, then stop. Returns
    /// `false` if the pool was already closed.
    pub fn close(&self) -> bool {
        let sender = self.sender.lock().take();
        sender.is_some()
    }

    pub fn is_closed(&self) -> bool {
        self.sender.lock().is_none()
    }

    /// Removes and returns every item still queued.
    pub fn drain(&self) -> Vec<T> {
        self.receiver.try_iter().collect()
    }

    /// Workers started so far (minus those that could not be started).
    pub fn started(&self) -> usize {
        self.counts.started.load(Ordering::Acquire)
    }

    /// Items waiting for a worker.
    pub fn queued(&self) -> usize {
        self.receiver.len()
    }

    /// Marks the pool as left behind by a fork: in the child, the channel's waits may
    /// have been cut in the middle by the fork (its internal locks are taken by workers
    /// that wait without the GIL, and those threads do not exist in the child), so the
    /// child must never use it again. A worker that goes on in the child (the one that
    /// forked, from a job) sees [`Worker::abandoned`] and stops. Only an atomic is
    /// written; the channel is not touched.
    pub fn abandon(&self) {
        self.counts.abandoned.store(true, Ordering::Release);
    }
}

impl<T> Worker<T> {
    /// Waits for the next item. `None` once the pool is closed (or dropped) and the
    /// queue is empty: the worker should then end.
    pub fn next(&self) -> Option<T> {
        self.receiver.recv().ok()
    }

    /// The next item if one is queued now, without waiting. `None` says nothing about
    /// whether the pool is closed; [`Worker::next`] does.
    pub fn try_next(&self) -> Option<T> {
        self.receiver.try_recv().ok()
    }

    /// Records that this worker has finished an item and is free for another.
    pub fn finished(&self) {
        self.counts.idle.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the pool was abandoned ([`WorkerPool::abandon`]): the worker must then
    /// end without touching the queue again.
    pub fn abandoned(&self) -> bool {
        self.counts.abandoned.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::thread;

    fn pool<T>(max_workers: usize) -> WorkerPool<T> {
        WorkerPool::new(NonZeroUsize::new(max_workers).unwrap())
    }

    #[test]
    fn starts_workers_lazily_up_to_the_maximum() {
        let pool = pool::<u32>(2);
        assert_eq!(pool.submit(1).unwrap(), Submitted::StartWorker(0));
        assert_eq!(pool.submit(2).unwrap(), Submitted::StartWorker(1));
        assert_eq!(pool.submit(3).unwrap(), Submitted::Queued);
        assert_eq!(pool.started(), 2);
        assert_eq!(pool.queued(), 3);
    }

    #[test]
    fn an_idle_worker_is_reused_instead_of_starting_another() {
        let pool = pool::<u32>(4);
        assert_eq!(pool.submit(1).unwrap(), Submitted::StartWorker(0));
        let worker = pool.worker();
        assert_eq!(worker.next(), Some(1));
        worker.finished();
        assert_eq!(pool.submit(2).unwrap(), Submitted::Queued);
        // The idle count was used up by item 2, so item 3 needs a new worker.
        assert_eq!(pool.submit(3).unwrap(), Submitted::StartWorker(1));
    }

    #[test]
    fn a_worker_that_could_not_start_frees_its_slot() {
        let pool = pool::<u32>(1);
        assert_eq!(pool.submit(1).unwrap(), Submitted::StartWorker(0));
        pool.worker_not_started();
        assert_eq!(pool.submit(2).unwrap(), Submitted::StartWorker(0));
        pool.worker_not_started();
        pool.worker_not_started();
        assert_eq!(pool.started(), 0);
    }

    #[test]
    fn workers_drain_the_queue_after_close_then_stop() {
        let pool = pool::<u32>(1);
        pool.submit(1).unwrap();
        pool.submit(2).unwrap();
        let worker = pool.worker();
        assert!(pool.close());
        assert!(!pool.close());
        assert!(pool.is_closed());
        assert!(matches!(pool.submit(3), Err(Closed(3))));
        assert_eq!(worker.try_next(), Some(1));
        assert_eq!(worker.next(), Some(2));
        assert_eq!(worker.try_next(), None);
        assert_eq!(worker.next(), None);
    }

    #[test]
    fn dropping_the_pool_stops_its_workers() {
        let pool = pool::<u32>(1);
        let worker = pool.worker();
        pool.submit(7).unwrap();
        drop(pool);
        assert_eq!(worker.next(), Some(7));
        assert_eq!(worker.next(), None);
    }

    #[test]
    fn an_abandoned_pool_tells_its_workers() {
        let pool = pool::<u32>(1);
        let worker = pool.worker();
        assert!(!worker.abandoned());
        pool.abandon();
        assert!(worker.abandoned());
        assert!(pool.worker().abandoned());
    }

    #[test]
    fn drain_takes_what_no_worker_has_taken() {
        let pool = pool::<u32>(1);
        for item in 0..5 {
            pool.submit(item).unwrap();
        }
        assert_eq!(pool.worker().next(), Some(0));
        assert_eq!(pool.drain(), [1, 2, 3, 4]);
        assert_eq!(pool.queued(), 0);
    }

    #[test]
    fn many_producers_and_workers_run_every_item_once() {
        let pool = Arc::new(pool::<u64>(4));
        let sum = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        let mut producers = Vec::new();
        let (start_tx, start_rx) = crossbeam_channel::unbounded::<usize>();
        for producer in 0..4u64 {
            let pool = Arc::clone(&pool);
            let start_tx = start_tx.clone();
            producers.push(thread::spawn(move || {
                for item in 0..1000u64 {
                    if let Submitted::StartWorker(index) = pool.submit(producer * 1000 + item).unwrap() {
                        start_tx.send(index).unwrap();
                    }
                }
            }));
        }
        drop(start_tx);
        for index in start_rx.iter() {
            let worker = pool.worker();
            let sum = Arc::clone(&sum);
            workers.push((index, thread::spawn(move || {
                while let Some(item) = worker.next() {
                    sum.fetch_add(item, Ordering::Relaxed);
                    worker.finished();
                }
            })));
        }
        for producer in producers {
            producer.join().unwrap();
        }
        pool.close();
        let mut indexes: Vec<usize> = Vec::new();
        for (index, worker) in workers {
            worker.join().unwrap();
            indexes.push(index);
        }
        indexes.sort_unstable();
        assert!(!indexes.is_empty() && indexes.len() <= 4);
        assert_eq!(indexes, (0..indexes.len()).collect::<Vec<_>>());
        assert_eq!(sum.load(Ordering::Relaxed), (0..4000u64).sum::<u64>());
    }
}
