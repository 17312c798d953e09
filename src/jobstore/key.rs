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
    // Eight digits at a time, in the lanes of a 64-bit word, without a branch per
    // digit: the digits of random ids would mispredict about one branch in three.
    let mut words = [0u32; 4];
    let mut valid = true;
    for (word, digits) in words.iter_mut().zip(id.chunks_exact(8)) {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(digits);
        let (value, ok) = pack_eight(u64::from_le_bytes(lanes));
        *word = value;
        valid &= ok;
    }
    let half = |high: u32, low: u32| u64::from(high) << 32 | u64::from(low);
    valid.then_some([half(words[0], words[1]), half(words[2], words[3])])
}

/// Eight hex digits, the first in the lowest byte of `lanes`, as the number they
/// spell, and whether all eight are '0'..='9' or 'a'..='f'.
fn pack_eight(lanes: u64) -> (u32, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Each byte's low seven bits plus a constant stays below 0x100, so no carry
    // crosses into the next byte; the high bit of each sum tells one comparison.
    let low7 = lanes & (ONES * 0x7f);
    let at_least = |bound: u64| (low7 + ONES * (0x80 - bound)) & HIGH;
    let above = |bound: u64| (low7 + ONES * (0x7f - bound)) & HIGH;
    let ascii = !lanes & HIGH;
    let decimal = at_least(0x30) & !above(0x39);
    let letter = at_least(0x61) & !above(0x66);
    let valid = (decimal | letter) & ascii == HIGH;
    // '0'..='9' are 0x30..=0x39 and 'a'..='f' are 0x61..=0x66: the low four bits
    // give the value, plus 9 for a letter (bit 6 set).
    let nibbles = (lanes & (ONES * 0x0f)) + 9 * ((lanes >> 6) & ONES);
    // Neighbouring lanes joined, the earlier digit on top: 8 x 4 bits, then 4 x 8,
    // then 2 x 16 bits.
    let bytes = ((nibbles & 0x00ff_00ff_00ff_00ff) << 4) | ((nibbles >> 8) & 0x00ff_00ff_00ff_00ff);
    let pairs = ((bytes & 0x0000_ffff_0000_ffff) << 8) | ((bytes >> 16) & 0x0000_ffff_0000_ffff);
    let value = ((pairs & 0xffff_ffff) << 16) | (pairs >> 32);
    (value as u32, valid)
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

    /// The digits one by one: what `pack` must agree with.
    fn pack_plainly(id: &[u8]) -> Option<[u64; 2]> {
        if id.len() != 32 {
            return None;
        }
        let mut halves = [0u64; 2];
        for (half, digits) in halves.iter_mut().zip(id.chunks_exact(16)) {
            for &digit in digits {
                let value = match digit {
                    b'0'..=b'9' => digit - b'0',
                    b'a'..=b'f' => digit - b'a' + 10,
                    _ => return None,
                };
                *half = (*half << 4) | u64::from(value);
            }
        }
        Some(halves)
    }

    #[test]
    fn packing_agrees_with_reading_digit_by_digit() {
        // Every byte value at every position of an otherwise valid id.
        let base: Vec<u8> = MADE.bytes().collect();
        for position in 0..32 {
            for byte in 0..=255u8 {
                let mut id = base.clone();
                id[position] = byte;
                assert_eq!(pack(&id), pack_plainly(&id), "byte {byte:#x} at {position}");
            }
        }
        // Ids of random digits.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            let id: Vec<u8> = (0..32)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    HEX_DIGITS[(state % 16) as usize]
                })
                .collect();
            assert_eq!(pack(&id), pack_plainly(&id));
        }
    }

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
