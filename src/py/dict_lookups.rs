//! Dictionary lookups remembered while the dictionary is unchanged.
//!
//! The add path reads about twenty entries a job from the same few dictionaries: the
//! scheduler's attributes, its job defaults, module globals. Each lookup costs CPython
//! about a hundred instructions. A dict takes a fresh version tag, never handed out
//! before, at its creation and at every change (see `version_tags`, which finds the
//! tag and checks that behaviour): so while a dict's tag reads as it did when a key
//! was found, the dict still holds the same value under that key, and the value is
//! alive. That makes a remembered answer a few compares.
//!
//! Only exact dicts and exact `str` keys are remembered: such a key is found by its
//! hash and `str` equality, so the answer depends on nothing but the dict's contents.
//! (Only a key of another type with an `__eq__` of its own, in the same dict, could
//! make a lookup run Python code; were that code to change the dict, its new tag would
//! never match the one remembered.) The key is held by the table, so its address cannot
//! come back as another string's. Wherever the tag cannot be read, every lookup is
//! made in full.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::version_tags::dict_version;

/// One remembered lookup: `dict` (an address), its tag then, the key and the value's
/// address, borrowed from the dict.
struct Entry {
    dict: usize,
    tag: u64,
    key: Option<Py<PyAny>>,
    value: usize,
}

const EMPTY: Entry = Entry { dict: 0, tag: 0, key: None, value: 0 };

/// Two-way set-associative by (dict, key) address: a job's twenty lookups, in a handful
/// of dicts, find their places free of one another.
const SETS: usize = 128;

const EMPTY_SET: [Entry; 2] = [EMPTY, EMPTY];

static TABLE: Mutex<[[Entry; 2]; SETS]> = Mutex::new([EMPTY_SET; SETS]);

fn set_of(dict: usize, key: usize) -> usize {
    // The high bits of a multiplicative hash mix every bit of both addresses.
    let mixed = (dict ^ key.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    mixed >> (usize::BITS - SETS.trailing_zeros())
}

impl Entry {
    fn holds(&self, dict: usize, tag: u64, key: usize) -> bool {
        self.dict == dict && self.tag == tag && self.key.as_ref().is_some_and(|k| k.as_ptr() as usize == key)
    }
}

/// `dict.get(key)`, `None` for a missing key, remembered as described above.
pub(crate) fn get<'py>(dict: &Bound<'py, PyDict>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = dict.py();
    let rememberable = dict.is_exact_instance_of::<PyDict>() && key.is_exact_instance_of::<PyString>();
    let Some(tag) = dict_version(dict).filter(|_| rememberable) else { return plain_get(dict, key) };
    let (dict_address, key_address) = (dict.as_ptr() as usize, key.as_ptr() as usize);
    let set = set_of(dict_address, key_address);
    {
        let table = TABLE.lock();
        if let Some(entry) = table[set].iter().find(|entry| entry.holds(dict_address, tag, key_address)) {
            // SAFETY: the dict is alive (borrowed by the caller) and unchanged since the
            // value was found in it, so it still holds a reference to the value; a new
            // one is taken at once, with the GIL held.
            return Ok(Some(unsafe { Bound::from_borrowed_ptr(py, entry.value as *mut pyo3::ffi::PyObject) }));
        }
    }
    let found = plain_get(dict, key)?;
    if let Some(value) = &found {
        let entry = Entry { dict: dict_address, tag, key: Some(key.clone().unbind()), value: value.as_ptr() as usize };
        // The newest goes first; the older of the two is let go, after the lock.
        let evicted = {
            let mut table = TABLE.lock();
            let [first, second] = &mut table[set];
            std::mem::replace(second, std::mem::replace(first, entry))
        };
        drop(evicted);
    }
    Ok(found)
}

/// `dict.get(key)` with the C API's lookup and nothing around it.
pub(crate) fn plain_get<'py>(dict: &Bound<'py, PyDict>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = dict.py();
    // SAFETY: both are live objects (the GIL is held); the lookup returns a borrowed
    // reference, which is taken as a new one before anything else runs, or NULL, with
    // an exception set only if the lookup failed (an unhashable key, a failing __eq__).
    unsafe {
        let value = pyo3::ffi::PyDict_GetItemWithError(dict.as_ptr(), key.as_ptr());
        if !value.is_null() {
            return Ok(Some(Bound::from_borrowed_ptr(py, value)));
        }
        if pyo3::ffi::PyErr_Occurred().is_null() {
            Ok(None)
        } else {
            Err(PyErr::fetch(py))
        }
    }
}
