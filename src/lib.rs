//! apscheduler-rs: the engine of a drop-in replacement for APScheduler 3.x.
//!
//! The core modules (`time`, `triggers`, `jobstore`, `executor`) know nothing of
//! Python and are tested with plain `cargo test`. The `py` module, built only with the
//! `python` feature, is the one place that uses PyO3: it converts Python values and
//! exposes the core as the private extension module `apscheduler._core`.

pub mod executor;
pub mod jobstore;
pub mod time;
pub mod triggers;

#[cfg(feature = "python")]
mod py;
