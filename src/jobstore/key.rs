//! A job id as the store's index keeps it.
//!
//! The library names jobs with `uuid4().hex`: 32 lowercase hexadecimal digits. Kept as
//! text, each such id cost the index a separate allocation of 64 bytes, shared by its
//! two maps, and every comparison in the ordered map followed a pointer to it. Packed
//! into 16 bytes, it lives inside the index's entries. Any other id stays text.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A job id: the 32 lowercase hex digits of a library-made id as two big-endian
/// halves, or any other id as text. Ids are ordered as the strings are, whatever
/// their form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum JobKey {
    Hex([u64; 2]),
    Text(Arc<str>),
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

impl JobKey {
    /// The key of `id`. An id of exactly 32 lowercase hex digits is always packed, so
    /// that one id has only one form and the derived equality and hash are sound.
    pub fn new(id: &str) -> JobKey {
        match pack(id.as_bytes()) {
            Some(halves) => JobKey::Hex(halves),
            None => JobKey::Text(Arc::from(id)),
        }
    }

    /// Whether `id` is this key's id, compared without rendering or allocating.
    pub fn is_key_of(&self, id: &str) -> bool {
        match self {
            JobKey::Hex(halves) => pack(id.as_bytes()).as_ref() == Some(halves),
            JobKey::Text(text) => **text == *id,
        }
    }

    /// Calls `with` on the id's text, rendering a packed id on the stack.
    pub fn with_text<R>(&self, with: impl FnOnce(&str) -> R) -> R {
        match self {
            JobKey::Hex(halves) => {
                let digits = unpack(halves);
                // Only ASCII digits and letters were written, so this cannot fail.
                with(std::str::from_utf8(&digits).unwrap_or_default())
            }
            JobKey::Text(text) => with(text),
        }
    }
}

fn pack(id: &[u8]) -> Option<[u64; 2]> {
    if id.len() != 32 {
        return None;
    }
    // Without a branch per digit: the digits of random ids would mispredict about
    // one branch in three.
    let mut halves = [0u64; 2];
    let mut valid = true;
    for (half, digits) in halves.iter_mut().zip(id.chunks_exact(16)) {
        for &digit in digits {
            let decimal = digit.wrapping_sub(b'0') < 10;
            let letter = digit.wrapping_sub(b'a') < 6;
            valid &= decimal | letter;
            // '0'..='9' are 0x30..=0x39 and 'a'..='f' are 0x61..=0x66: the low four
            // bits give the value, plus 9 for a letter (bit 6 set).
            let value = (digit & 0x0f) + 9 * ((digit >> 6) & 1);
            *half = (*half << 4) | u64::from(value);
        }
    }
    valid.then_some(halves)
}

fn unpack(halves: &[u64; 2]) -> [u8; 32] {
    let mut digits = [0u8; 32];
    for (half, out) in halves.iter().zip(digits.chunks_exact_mut(16)) {
        for (index, digit) in out.iter_mut().enumerate() {
            *digit = HEX_DIGITS[((half >> (60 - 4 * index)) & 0xf) as usize];
        }
    }
    digits
}

impl Ord for JobKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            // Fixed-width lowercase hex sorts as the numbers it spells.
            (JobKey::Hex(a), JobKey::Hex(b)) => a.cmp(b),
            (JobKey::Text(a), JobKey::Text(b)) => a.cmp(b),
            // Byte order of UTF-8 text is the code point order Python compares by.
            (JobKey::Hex(a), JobKey::Text(b)) => unpack(a).as_slice().cmp(b.as_bytes()),
            (JobKey::Text(a), JobKey::Hex(b)) => a.as_bytes().cmp(unpack(b).as_slice()),
        }
    }
}

impl PartialOrd for JobKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|text| f.write_str(text))
    }
}

impl fmt::Debug for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|text| fmt::Debug::fmt(text, f))
    }
}

// Test-only code, never built into the extension: an `unwrap()` here is an assertion
// that fails the test, not a panic that could reach Python.
#[cfg(test)]
mod tests {

    #[test]
    fn a_key_knows_its_own_id_only() {
        let hex = "0123456789abcdef0123456789abcdef";
        for id in [hex, "plain", ""] {
            let key = JobKey::new(id);
            assert!(key.is_key_of(id));
            assert!(!key.is_key_of("0123456789abcdef0123456789abcdeF"));
            assert!(!key.is_key_of("other"));
        }
        assert!(!JobKey::new(hex).is_key_of("1123456789abcdef0123456789abcdef"));
    }
    use super::*;

    const MADE: &str = "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8c";

    #[test]
    fn library_ids_are_packed_and_read_back() {
        let key = JobKey::new(MADE);
        assert!(matches!(key, JobKey::Hex(_)));
        assert_eq!(key.to_string(), MADE);
        for other in ["job", "", "0F3A9C2B7D4E4F1A8B6C5D2E1F0A9B8C", &MADE[1..], "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8g", "é"] {
            let key = JobKey::new(other);
            assert!(matches!(key, JobKey::Text(_)), "{other:?}");
            assert_eq!(key.to_string(), other);
        }
    }

    #[test]
    fn only_lowercase_hex_digits_are_packed() {
        for byte in 0u8..128 {
            let id: String = std::iter::once(char::from(byte)).chain(MADE.chars().skip(1)).collect();
            let hex = byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte);
            assert_eq!(matches!(JobKey::new(&id), JobKey::Hex(_)), hex, "{byte}");
            assert_eq!(JobKey::new(&id).to_string(), id);
        }
    }

    #[test]
    fn keys_sort_as_their_strings() {
        let ids = [
            MADE,
            "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8",
            "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8c0",
            "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8d",
            "ffffffffffffffffffffffffffffffff",
            "00000000000000000000000000000000",
            "0f3a9c2b7d4e4f1a8b6c5d2e1f0a9b8C",
            "g",
            "",
            "é",
            "1",
        ];
        for a in ids {
            for b in ids {
                assert_eq!(JobKey::new(a).cmp(&JobKey::new(b)), a.cmp(b), "{a:?} against {b:?}");
                assert_eq!(JobKey::new(a) == JobKey::new(b), a == b);
            }
        }
    }
}
