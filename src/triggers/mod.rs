//! The trigger algorithms, free of Python: each takes wall-clock values and a zone and
//! answers `get_next_fire_time` the way the reference's trigger of the same name does.

pub mod calendarinterval;
pub mod cron;
pub mod interval;
pub mod last_built;
