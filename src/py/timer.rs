//! Timer precision for the thread that waits for the next run.
//!
//! Linux lets a sleeping thread's timer fire up to its "timer slack" late (50 µs by
//! default) so that wake-ups can be batched. The scheduler's loop sleeps until a job
//! is due, so that slack is lateness added to every run; one nanosecond of slack
//! removes it (PERF-NOTES: p99 lateness 200 µs to 115 µs).

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
