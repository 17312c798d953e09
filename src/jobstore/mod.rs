//! The in-memory job store's index, free of Python: job ids in a compact form, and
//! jobs ordered by next run time.

mod key;
mod key_hasher;
mod ordered;

pub use key::JobKey;
pub use ordered::{OrderedJobs, RunKey, StoreError};
