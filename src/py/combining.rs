//! The search of `AndTrigger`: the earliest time all its triggers agree on.

use pyo3::prelude::*;
use pyo3::types::PyDateAccess;

use super::cron::PyCronTrigger;

/// Years after which DST rules of every zone follow their fixed POSIX rule.
const PERIODIC_FROM_YEAR: i32 = 2100;

/// Rounds after which triggers that are not all cron triggers are taken never to agree
/// (about a second of searching).
const MAX_ROUNDS: u32 = 1_000_000;

/// Asks every trigger for its next fire time and moves `now` to the latest answer until
/// they all agree. Returns the agreed time (before jitter), or `None`.
///
/// Differs from APScheduler: the reference passes `previous_fire_time` again on every
/// round, so whenever the triggers disagree on the first round it repeats that round
/// for ever. Here later rounds ask for times from the latest candidate on, without a
/// previous fire time. A search that can no longer succeed also ends with `None`
/// instead of running for ever: when a round brings no progress, or when cron triggers
/// have disagreed over a whole 400-year Gregorian cycle of periodic DST rules, or
/// after a million rounds for other triggers.
#[pyfunction]
pub fn and_next_fire_time<'py>(
    py: Python<'py>,
    triggers: &Bound<'py, PyAny>,
    previous_fire_time: &Bound<'py, PyAny>,
    now: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let triggers: Vec<Bound<'py, PyAny>> = triggers.try_iter()?.collect::<PyResult<_>>()?;
    if triggers.is_empty() {
        // min() of nothing raises in the reference.
        return Err(pyo3::exceptions::PyValueError::new_err("min() arg is an empty sequence"));
    }
    let horizon = cron_horizon(&triggers, now);
    let method = pyo3::intern!(py, "get_next_fire_time");
    let mut previous = previous_fire_time.clone();
    let mut now = now.clone();
    for _ in 0..MAX_ROUNDS {
        let mut fire_times = Vec::with_capacity(triggers.len());
        for trigger in &triggers {
            let fire_time = trigger.call_method1(method, (&previous, &now))?;
            if fire_time.is_none() {
                return Ok(fire_time);
            }
            fire_times.push(fire_time);
        }
        let mut earliest = &fire_times[0];
        let mut latest = &fire_times[0];
        for fire_time in &fire_times[1..] {
            if fire_time.lt(earliest)? {
                earliest = fire_time;
            }
            if fire_time.gt(latest)? {
                latest = fire_time;
            }
        }
        if earliest.eq(latest)? {
            return Ok(fire_times.swap_remove(0));
        }
        if previous.is_none() && latest.eq(&now)? {
            return Ok(py.None().into_bound(py));
        }
        if let (Some(horizon), Ok(dt)) = (horizon, latest.cast::<pyo3::types::PyDateTime>()) {
            if dt.get_year() > horizon {
                return Ok(py.None().into_bound(py));
            }
        }
        now = latest.clone();
        previous = py.None().into_bound(py);
    }
    Ok(py.None().into_bound(py))
}

/// The year past which cron triggers that still disagree never will.
fn cron_horizon(triggers: &[Bound<'_, PyAny>], now: &Bound<'_, PyAny>) -> Option<i32> {
    let mut period: u64 = 1;
    for trigger in triggers {
        let cron = trigger.cast::<PyCronTrigger>().ok()?;
        let years = cron.borrow().year_period();
        period = period.saturating_mul(years) / gcd(period, years);
    }
    let start = now.cast::<pyo3::types::PyDateTime>().ok()?.get_year().max(PERIODIC_FROM_YEAR);
    let span = i32::try_from(period.saturating_mul(400)).ok()?;
    start.checked_add(span)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}
