//! Timer precision for the thread that waits for the next run.
//!
//! Linux lets a sleeping thread's timer fire up to its "timer slack" late (50 µs by
//! default) so that wake-ups can be batched. The scheduler's loop sleeps until a job
//! is due, so that slack is lateness added to every run; one nanosecond of slack
//! removes it (PERF-NOTES: p99 lateness 200 µs to 115 µs).
//!
//! Even so, a timed wait of the loop's `threading.Event` wakes about 180 µs late on
//! this kind of machine (p50; 0.3 ms at p99). So the loop sleeps until 0.6 ms before
//! a due run, makes a pass then (the first pass after a sleep is the slow one, on
//! cold caches), and spins, without the GIL, through the rest (`spin_for`; see
//! `apscheduler/schedulers/blocking.py`).

use std::time::{Duration, Instant};

use pyo3::prelude::*;

/// Sets the calling thread's timer slack to 1 ns. Returns whether it could (only
/// Linux can).
#[pyfunction]
pub fn tighten_timer_slack() -> bool {
    #[cfg(target_os = "linux")]
    {
        const PR_SET_TIMERSLACK: std::os::raw::c_int = 29;
        extern "C" {
            fn prctl(option: std::os::raw::c_int, ...) -> std::os::raw::c_int;
        }
        // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and affects only the
        // calling thread.
        unsafe { prctl(PR_SET_TIMERSLACK, 1 as std::os::raw::c_ulong) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Spins, without the GIL, for `seconds` (at most a millisecond): the end of the
/// loop's wait for a due run, which a timed wait would overshoot.
#[pyfunction]
pub fn spin_for(py: Python<'_>, seconds: f64) {
    // Also ends at once for NaN.
    if seconds.is_nan() || seconds <= 0.0 {
        return;
    }
    let end = Instant::now() + Duration::from_secs_f64(seconds.min(0.001));
    py.detach(|| {
        while Instant::now() < end {
            std::hint::spin_loop();
        }
    });
}
