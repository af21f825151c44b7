//! A fast hasher for the engine's own short keys: attribute and rule names, connector ids.
//!
//! [`WordHash`] is a word-at-a-time multiplicative hash (as rustc's FxHash). The sync stage
//! looks such keys up for every attribute of every object, where SipHash's setup costs more
//! than the lookup. Invariant: only keys the engine itself controls go into a [`FastMap`]
//! (names the schema or the store already validated, ids it handed out), never text a remote
//! party could choose freely to provoke collisions.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// See the module doc.
#[derive(Default)]
pub struct WordHash(u64);

impl WordHash {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for WordHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(rest) {
                *w = *b;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
}

/// A map keyed by the engine's own short keys (see the module doc).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHash>>;

/// A set of the engine's own short keys (see the module doc).
pub type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<WordHash>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_near_keys_apart() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<WordHash>::default();
        assert_eq!(b.hash_one("displayName"), b.hash_one("displayName"));
        let names = [
            "mail",
            "mailNickname",
            "displayName",
            "displayNamf",
            "a",
            "b",
            "",
        ];
        let hashes: std::collections::HashSet<u64> = names.iter().map(|n| b.hash_one(n)).collect();
        assert_eq!(hashes.len(), names.len());
        let ids: std::collections::HashSet<u64> = (0i64..1000).map(|i| b.hash_one(i)).collect();
        assert_eq!(ids.len(), 1000);
        let mut m: FastMap<String, i64> = FastMap::default();
        m.insert("x".into(), 1);
        assert_eq!(m.get("x"), Some(&1));
    }
}
