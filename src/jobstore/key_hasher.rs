//! The hash of the index's map from job ids to jobs.
//!
//! The standard library's SipHash-1-3 cost about 400 instructions a job key, and
//! each `add_job` hashes its key three times (the insert, the look when the job is put
//! to sleep, a lookup or two). Keys are 16 bytes for a library-made id. This hasher
//! mixes each 8-byte word with a folded multiply (the 128-bit product's halves XORed,
//! as foldhash and wyhash do) under two seeds drawn from the standard library's
//! `RandomState`, so that the hash of an id differs from one process to the next:
//! ids chosen to collide here would collide in no other process. It makes no
//! cryptographic claim; it only has to spread ids over the table.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// Two random 64-bit seeds per process.
fn seeds() -> (u64, u64) {
    static SEEDS: OnceLock<(u64, u64)> = OnceLock::new();
    *SEEDS.get_or_init(|| {
        let random = RandomState::new();
        (random.hash_one(0x5eed_u64) | 1, random.hash_one(0x5eed_5eed_u64))
    })
}

/// The high and low halves of the 128-bit product, XORed.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Builds `KeyHasher`s with the process's seeds.
#[derive(Clone, Copy, Debug)]
pub struct KeyHashing {
    seeds: (u64, u64),
}

impl Default for KeyHashing {
    fn default() -> Self {
        KeyHashing { seeds: seeds() }
    }
}

impl BuildHasher for KeyHashing {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher { state: self.seeds.0, seed: self.seeds.1 }
    }
}

#[derive(Debug)]
pub struct KeyHasher {
    state: u64,
    seed: u64,
}

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, self.seed ^ 0x9e37_79b9_7f4a_7c15).rotate_left(23);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        // The length is mixed in, so that a text and its zero-padded form differ.
        self.mix(u64::from_le_bytes(word) ^ (rest.len() as u64) << 59);
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    fn finish(&self) -> u64 {
        folded_multiply(self.state, self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobstore::JobKey;
    use std::collections::HashSet;

    fn hash(key: &JobKey) -> u64 {
        KeyHashing::default().hash_one(key)
    }

    #[test]
    fn equal_keys_hash_alike_and_close_ones_apart() {
        let a = JobKey::new("0123456789abcdef0123456789abcdef");
        let b = JobKey::new("0123456789abcdef0123456789abcdee");
        assert_eq!(hash(&a), hash(&a.clone()));
        assert_ne!(hash(&a), hash(&b));
        assert_ne!(hash(&JobKey::new("job")), hash(&JobKey::new("job\0")));
        assert_ne!(hash(&JobKey::new("")), hash(&JobKey::new("\0")));
    }

    #[test]
    fn sequential_ids_spread_over_buckets() {
        // The low bits pick the bucket: 4096 ids like "job-17" must not crowd.
        let buckets: HashSet<u64> = (0..4096).map(|n| hash(&JobKey::new(&format!("job-{n}"))) & 4095).collect();
        assert!(buckets.len() > 2400, "only {} of 4096 buckets used", buckets.len());
        let packed: HashSet<u64> = (0..4096u64).map(|n| hash(&JobKey::new(&format!("{n:032x}"))) & 4095).collect();
        assert!(packed.len() > 2400, "only {} of 4096 buckets used", packed.len());
    }
}
