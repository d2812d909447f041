//! A fast hash for the short ids the service sends: the interner's, the digest's grouping's
//! and the names lookup's sets.

/// FNV-1a over 8-byte words: the interner's keys are short ids the service sends, hashed a few
/// times per alert, and need no protection from chosen collisions (a collision costs a
/// comparison, not a wrong answer).
#[derive(Debug, Clone, Copy)]
pub struct FastHasher(u64);

impl Default for FastHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (x >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.0 = (self.0 ^ word)
                .wrapping_mul(0x0100_0000_01b3)
                .rotate_left(23);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
