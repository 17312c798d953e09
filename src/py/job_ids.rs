//! Generated job ids: `uuid.uuid4().hex` in form (32 hex digits, version nibble 4, the
//! RFC 4122 variant), from `os.urandom()` as uuid4's are.
//!
//! `uuid4()` costs about 2 µs a call (a system call, a `UUID` object, validation), so
//! random bytes are read for a batch of ids at once and each id is formatted when it
//! is handed out. A forked child must not hand out the ids its parent still holds:
//! `apscheduler.job` forgets the batch after a fork (`forget_job_ids`).

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// Ids per batch of random bytes.
const BATCH: usize = 256;
const ID_BYTES: usize = 16;

/// The random bytes read and how many of them were handed out.
struct Unused {
    bytes: Vec<u8>,
    used: usize,
}

// Its lock is taken with the GIL held and never held across a Python call.
static UNUSED: Mutex<Unused> = Mutex::new(Unused { bytes: Vec::new(), used: 0 });

/// `_new_job_id()`: a new id.
#[pyfunction]
pub fn new_job_id(py: Python<'_>) -> PyResult<Bound<'_, PyString>> {
    let random = match take() {
        Some(random) => random,
        None => {
            // The batch is used up: read a new one, then take from it. If another
            // thread installed one meanwhile, the newest wins; ids are never reused.
            let bytes = py.import("os")?.getattr("urandom")?.call1((BATCH * ID_BYTES,))?;
            let bytes = bytes.cast::<PyBytes>()?.as_bytes().to_vec();
            let mut unused = UNUSED.lock();
            *unused = Unused { bytes, used: 0 };
            take_from(&mut unused).ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("os.urandom() returned too few bytes"))?
        }
    };
    let digits = hex_id(random);
    // Only ASCII hex digits were written.
    Ok(PyString::new(py, std::str::from_utf8(&digits).unwrap_or_default()))
}

/// Forgets the random bytes not handed out yet (in a forked child).
#[pyfunction]
pub fn forget_job_ids() {
    *UNUSED.lock() = Unused { bytes: Vec::new(), used: 0 };
}

fn take() -> Option<[u8; ID_BYTES]> {
    take_from(&mut UNUSED.lock())
}

fn take_from(unused: &mut Unused) -> Option<[u8; ID_BYTES]> {
    let next = unused.bytes.get(unused.used..unused.used + ID_BYTES)?;
    let random: [u8; ID_BYTES] = next.try_into().ok()?;
    unused.used += ID_BYTES;
    Some(random)
}

/// The hex digits of a version 4 UUID made of `random`: byte 6 carries the version in
/// its high nibble, byte 8 the variant in its two high bits.
fn hex_id(mut random: [u8; ID_BYTES]) -> [u8; 2 * ID_BYTES] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    random[6] = (random[6] & 0x0f) | 0x40;
    random[8] = (random[8] & 0x3f) | 0x80;
    let mut digits = [0u8; 2 * ID_BYTES];
    for (byte, pair) in random.iter().zip(digits.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    digits
}
