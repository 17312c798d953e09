//! The compiled form a trigger type built last, shared with the next trigger built
//! alike.
//!
//! Programs add many jobs with the same trigger arguments (the same `add_job` call in a
//! loop, or one per user with the same schedule); each trigger would otherwise hold its
//! own copy of the same compiled form.

use std::sync::Arc;

use parking_lot::Mutex;

pub struct LastBuilt<T>(Mutex<Option<Arc<T>>>);

impl<T> LastBuilt<T> {
    pub const fn new() -> Self {
        LastBuilt(parking_lot::const_mutex(None))
    }

    /// The form built last if `alike(it, &built)`; else `built`, remembered in its place.
    /// `alike` runs under the lock, so it must only compare. Whatever is dropped (the
    /// form not kept, which may hold Python objects) is dropped after the lock.
    pub fn share(&self, built: T, alike: impl Fn(&T, &T) -> bool) -> Arc<T> {
        let mut last = self.0.lock();
        if let Some(shared) = last.as_ref().filter(|last| alike(last, &built)) {
            let shared = shared.clone();
            drop(last);
            drop(built);
            return shared;
        }
        let built = Arc::new(built);
        let replaced = last.replace(built.clone());
        drop(last);
        drop(replaced);
        built
    }
}

impl<T> Default for LastBuilt<T> {
    fn default() -> Self {
        LastBuilt::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_alike_the_last_one_is_shared() {
        let last = LastBuilt::new();
        let first = last.share((1, "a"), |a, b| a == b);
        let again = last.share((1, "a"), |a, b| a == b);
        assert!(Arc::ptr_eq(&first, &again));
    }

    #[test]
    fn a_different_form_is_kept_apart_and_replaces_the_last_one() {
        let last = LastBuilt::new();
        let first = last.share(1, |a, b| a == b);
        let other = last.share(2, |a, b| a == b);
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!((*first, *other), (1, 2));
        // Only the last form is remembered.
        let first_again = last.share(1, |a, b| a == b);
        assert!(!Arc::ptr_eq(&first, &first_again));
        assert!(Arc::ptr_eq(&first_again, &last.share(1, |a, b| a == b)));
    }

    #[test]
    fn nothing_is_shared_when_alike_says_no() {
        let last = LastBuilt::new();
        let first = last.share(1, |_, _| false);
        let second = last.share(1, |_, _| false);
        assert!(!Arc::ptr_eq(&first, &second));
    }
}
