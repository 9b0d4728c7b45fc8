//! The generator's random source.
//!
//! Hand-written on purpose: `lookout gen --seed S` must stay byte-identical across releases,
//! and a crate's algorithm may change between versions. xoshiro256** seeded through SplitMix64
//! is small, fast and statistically sound for synthetic data.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A seeded xoshiro256** generator.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = sm;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A value in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for our ranges).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An index in `0..n` skewed towards small values: a few hot users, many cold ones.
    pub(crate) fn skewed(&mut self, n: u64) -> u64 {
        let u = self.unit();
        ((u * u * u) * n as f64) as u64
    }

    /// Appends `n` random lowercase hex digits: 16 per random word, low nibble first.
    pub(crate) fn push_hex(&mut self, out: &mut String, n: usize) {
        let mut left = n;
        while left > 0 {
            // Blocks of whole words, so the words drawn do not depend on the block size.
            let take = left.min(64);
            let mut digits = [0u8; 64];
            for chunk in digits[..take].chunks_mut(16) {
                let mut bits = self.next_u64();
                for d in chunk.iter_mut() {
                    *d = HEX[(bits & 15) as usize];
                    bits >>= 4;
                }
            }
            out.push_str(ascii(&digits[..take]));
            left -= take;
        }
    }

    /// Appends a random version-4 UUID in its canonical form.
    pub(crate) fn push_uuid(&mut self, out: &mut String) {
        let words = [self.next_u64(), self.next_u64()];
        // Nibble k of the two words is the k-th hex digit, low nibbles first.
        let mut hex = [0u8; 32];
        for (k, d) in hex.iter_mut().enumerate() {
            *d = HEX[((words[k / 16] >> ((k % 16) * 4)) & 15) as usize];
        }
        let mut text = [b'-'; 36];
        text[..8].copy_from_slice(&hex[..8]);
        text[9..13].copy_from_slice(&hex[8..12]);
        text[14..18].copy_from_slice(&hex[12..16]);
        text[19..23].copy_from_slice(&hex[16..20]);
        text[24..].copy_from_slice(&hex[20..]);
        text[14] = b'4';
        text[19] = HEX[8 + (words[1] & 3) as usize];
        out.push_str(ascii(&text));
    }
}

/// The generator only ever builds ASCII here; an impossible failure degrades to nothing
/// rather than a panic.
fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(1);
        for n in [1u64, 2, 3, 10, 1000] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
    }

    #[test]
    fn uuid_shape() {
        let mut r = Rng::new(3);
        let mut s = String::new();
        r.push_uuid(&mut s);
        assert_eq!(s.len(), 36);
        let parts: Vec<&str> = s.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    }
}
