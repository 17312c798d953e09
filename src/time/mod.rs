//! Time primitives shared by every trigger.
//!
//! Triggers reproduce the arithmetic of Python's `datetime` module exactly, so the types
//! here model Python's notions rather than chrono's: a wall-clock time with a `fold`
//! flag, a time zone that answers `utcoffset()` and `fromutc()` the way `zoneinfo` does,
//! and float timestamps rounded the way `datetime.fromtimestamp()` rounds them.

pub mod aware;
pub mod civil;
pub mod posix;
pub mod pyfloat;
pub mod tzif;
pub mod zone;

pub use aware::Aware;
pub use zone::{TimeZone, Zone};

/// Microseconds since 1970-01-01 00:00 UTC.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
