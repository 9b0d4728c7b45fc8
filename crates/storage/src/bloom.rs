//! Stable hashing, the per-block bloom filter and the message tokenizer.
//!
//! The hash and the tokenizer are part of the on-disk format: changing either changes what
//! old segments' blooms mean, so both are frozen for format version 1.

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// Domain separators so a token and a field value with the same bytes hash differently.
pub(crate) const TOKEN_SEED: u64 = 0x746f_6b65_6e00_0001;
pub(crate) const FIELD_SEED: u64 = 0x6669_656c_6400_0001;

fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[inline]
pub(crate) fn hash64(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (data.len() as u64).wrapping_mul(K1);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(a).wrapping_mul(K2))
            .rotate_left(29)
            .wrapping_mul(K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = (h ^ tail_word(rest).wrapping_mul(K2))
            .rotate_left(29)
            .wrapping_mul(K1);
    }
    fmix(h)
}

/// The 1–7 bytes of `rest` as a little-endian word padded with zero bytes, from at most
/// three loads (overlapping ones carry equal bytes, so or-ing them is exact) instead of a
/// copy through a buffer.
#[inline]
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let hi = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(lo) | (u64::from(hi) << (8 * (n - 4)))
    } else {
        u64::from(rest[0])
            | (u64::from(rest[n / 2]) << (8 * (n / 2)))
            | (u64::from(rest[n - 1]) << (8 * (n - 1)))
    }
}

/// A fast hasher for the maps a flush fills per block (paths, field values). Seeded per
/// map from `RandomState`, so crafted values cannot force collisions across processes.
#[derive(Clone, Copy)]
pub(crate) struct FastHash(u64);

impl Default for FastHash {
    fn default() -> Self {
        use std::hash::BuildHasher;
        Self(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64))
    }
}

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;
    fn build_hasher(&self) -> FastHasher {
        FastHasher(self.0)
    }
}

/// The hasher of [`FastHash`].
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash64(bytes, self.0);
    }
    fn write_u8(&mut self, v: u8) {
        self.0 = (self.0 ^ u64::from(v)).wrapping_mul(K1);
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = fmix(self.0 ^ u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = fmix(self.0 ^ v);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of bloom hashes (already well mixed, so used as their own slot): open addressing
/// with linear probing, at most half full. Deduplicating this way costs far less than
/// sorting or a general-purpose set.
#[derive(Default)]
pub(crate) struct HashSet64 {
    /// 0 marks a free slot; the hash 0 itself is kept in `has_zero`.
    slots: Vec<u64>,
    len: usize,
    has_zero: bool,
}

impl HashSet64 {
    #[inline]
    pub(crate) fn insert(&mut self, h: u64) {
        if h == 0 {
            self.has_zero = true;
            return;
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == h {
                return;
            }
            if s == 0 {
                self.slots[i] = h;
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![0; (old.len() * 2).max(1024)];
        self.len = 0;
        for h in old {
            if h != 0 {
                self.insert(h);
            }
        }
    }

    /// The distinct hashes, leaving the set empty (its capacity kept).
    pub(crate) fn take(&mut self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len + 1);
        // One pass collects and frees the slots (a set at most half full).
        for s in &mut self.slots {
            if *s != 0 {
                out.push(std::mem::take(s));
            }
        }
        if self.has_zero {
            out.push(0);
        }
        self.len = 0;
        self.has_zero = false;
        out
    }

    /// Slots allocated.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill(0);
        }
        self.len = 0;
        self.has_zero = false;
    }
}

/// Puts the bloom hashes of `text`'s tokens into `set`: every token of at least
/// [`MIN_BLOOM_TOKEN`] bytes, and the first [`AFFIX`] bytes of longer ones.
pub(crate) fn insert_tokens(text: &str, set: &mut HashSet64) {
    for t in tokens(text) {
        if t.len() >= MIN_BLOOM_TOKEN {
            set.insert(token_hash(t));
            if t.len() > AFFIX
                && let Some(h) = prefix_hash(t)
            {
                set.insert(h);
            }
        }
    }
}

/// Byte strings a block has already put in its bloom set: JSON keys and repeated values
/// (levels, services, function ARNs, an invocation's request id) are tokenized and hashed
/// once per block instead of once per event. Checking a string costs one hash (often one
/// the caller needs anyway) and a compare.
#[derive(Default)]
pub(crate) struct SeenText {
    /// (hash, tag, start, end into `bytes`, code); a zero hash marks a free slot.
    slots: Vec<(u64, u32, u32, u32, u32)>,
    len: usize,
    bytes: Vec<u8>,
}

/// Seed of [`SeenText`]'s own hash (never stored on disk).
const SEEN_SEED: u64 = 0x7365_656e_0000_0001;

impl SeenText {
    /// Inserts the tokens of `text` into `set` unless this block has seen `text` before.
    pub(crate) fn insert_tokens(&mut self, text: &str, set: &mut HashSet64) {
        let b = text.as_bytes();
        // Nothing shorter holds a token that enters a bloom.
        if b.len() >= MIN_BLOOM_TOKEN && self.first_time(hash64(b, SEEN_SEED), u32::MAX, b) {
            insert_tokens(text, set);
        }
    }

    /// True the first time this block sees (`tag`, `bytes`), whose hash is `h`.
    #[inline]
    pub(crate) fn first_time(&mut self, h: u64, tag: u32, bytes: &[u8]) -> bool {
        self.intern(h, tag, bytes, 0).0
    }

    /// Whether this block sees (`tag`, `bytes`), whose hash is `h`, for the first time, and
    /// the number it was given then (`code` if now).
    #[inline]
    pub(crate) fn intern(&mut self, h: u64, tag: u32, bytes: &[u8], code: u32) -> (bool, u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = h | 1;
        let mask = self.slots.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let (sh, st, start, end, c) = self.slots[i];
            if sh == 0 {
                break;
            }
            if sh == h && st == tag && self.bytes.get(start as usize..end as usize) == Some(bytes) {
                return (false, c);
            }
            i = (i + 1) & mask;
        }
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(bytes);
        self.slots[i] = (h, tag, start, self.bytes.len() as u32, code);
        self.len += 1;
        (true, code)
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![(0, 0, 0, 0, 0); (old.len() * 2).max(1024)];
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.0 != 0) {
            let mut i = (s.0 as usize) & mask;
            while self.slots[i].0 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Forgets every string (a new block), keeping the capacity.
    pub(crate) fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill((0, 0, 0, 0, 0));
        }
        self.len = 0;
        self.bytes.clear();
    }
}

/// A `HashMap` with [`FastHash`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastHash>;

pub(crate) fn token_hash(token: &str) -> u64 {
    hash64(token.as_bytes(), TOKEN_SEED)
}

pub(crate) fn field_hash(path: &str, value: &str) -> u64 {
    field_hash_at(path_hash(path), value)
}

/// The first half of [`field_hash`], the same for every value of `path`.
pub(crate) fn path_hash(path: &str) -> u64 {
    hash64(path.as_bytes(), FIELD_SEED)
}

/// [`field_hash`] from the path's [`path_hash`].
pub(crate) fn field_hash_at(path_hash: u64, value: &str) -> u64 {
    hash64(value.as_bytes(), path_hash)
}

/// Tokens longer than this also enter version 3 blooms by their first `AFFIX` bytes, so a
/// substring needle whose last token the needle's end cuts (a request id's last group) can
/// still prune: that token must be the start of a whole token of a matching message.
pub(crate) const AFFIX: usize = 8;

/// The bloom hash of the first [`AFFIX`] bytes of a token at least that long; the same hash
/// as a whole token of exactly those bytes.
pub(crate) fn prefix_hash(token: &str) -> Option<u64> {
    let b = token.as_bytes();
    (b.len() >= AFFIX).then(|| hash64(&b[..AFFIX], TOKEN_SEED))
}

/// The last token of a needle when the needle cuts it (it ends the needle and something
/// before it in the needle is not a token byte): a matching message has a token starting
/// with it.
pub(crate) fn trailing_token(needle: &str) -> Option<&str> {
    let b = needle.as_bytes();
    let end = b.len();
    if end == 0 || !is_token_byte(b[end - 1]) {
        return None;
    }
    let start = b.iter().rposition(|&c| !is_token_byte(c))? + 1;
    needle.get(start..end)
}

/// Tokens shorter than this are not put in blooms (too common to prune anything); a
/// predicate on such a token never prunes.
pub(crate) const MIN_BLOOM_TOKEN: usize = 3;
/// Field values longer than this are not put in blooms (free text, not identifiers).
pub(crate) const MAX_BLOOM_VALUE: usize = 128;

/// Token bytes: ASCII letters and digits, and every byte of a non-ASCII character.
static TOKEN_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_alphanumeric() || i >= 0x80;
        i += 1;
    }
    t
};

fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTE[b as usize]
}

/// Splits a message into tokens: maximal runs of ASCII letters and digits (bytes of
/// non-ASCII characters count as token bytes). This is the tokenizer the bloom filters and
/// the `Token` predicate use.
pub fn tokens(message: &str) -> impl Iterator<Item = &str> {
    let bytes = message.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() && !is_token_byte(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        while pos < bytes.len() && is_token_byte(bytes[pos]) {
            pos += 1;
        }
        // Boundaries fall on ASCII bytes, so both ends are character boundaries.
        message.get(start..pos)
    })
}

/// Tokens that any message containing `needle` as a substring must contain as whole
/// tokens: the runs strictly inside the needle, bounded by non-token bytes on both sides.
pub(crate) fn interior_tokens(needle: &str) -> Vec<&str> {
    let bytes = needle.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        if is_token_byte(bytes[pos]) {
            let start = pos;
            while pos < bytes.len() && is_token_byte(bytes[pos]) {
                pos += 1;
            }
            if start > 0
                && pos < bytes.len()
                && let Some(t) = needle.get(start..pos)
            {
                out.push(t);
            }
        } else {
            pos += 1;
        }
    }
    out
}

/// A bloom filter with `k` probes derived from one 64-bit hash (double hashing).
///
/// Version 1 and 2 segments probe the whole bit array (`blocked == false`, a division per
/// probe). Version 3 filters are blocked: the hash picks one 512-bit block (a cache line)
/// by multiply-shift and all probes fall inside it, so inserting and testing cost no
/// division and one cache miss, for a false-positive rate close to the unblocked one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bloom {
    pub(crate) k: u8,
    pub(crate) words: Vec<u64>,
    pub(crate) blocked: bool,
}

/// Words per block of a blocked filter.
const BLOCK_WORDS: usize = 8;

impl Bloom {
    /// A filter that admits everything (no bits stored).
    pub(crate) fn empty() -> Self {
        Self {
            k: 1,
            words: Vec::new(),
            blocked: true,
        }
    }

    /// Sizes the filter at eight bits per distinct item (~2% false positives).
    #[cfg(test)]
    pub(crate) fn build(hashes: &[u64]) -> Self {
        let bits = (hashes.len().saturating_mul(8)).clamp(64, 1 << 26);
        let words = bits.div_ceil(64);
        let mut b = Self {
            k: 5,
            words: vec![0; words],
            blocked: false,
        };
        for &h in hashes {
            b.insert(h);
        }
        b
    }

    /// A blocked filter for `items` distinct items at `bits` bits per item.
    pub(crate) fn blocked(items: usize, bits: usize) -> Self {
        let total = (items.saturating_mul(bits)).clamp(512, 1 << 26);
        let blocks = total.div_ceil(BLOCK_WORDS * 64);
        Self {
            // About ln 2 probes per bit of item.
            k: if bits >= 8 { 5 } else { 3 },
            words: vec![0; blocks * BLOCK_WORDS],
            blocked: true,
        }
    }

    /// A blocked filter of distinct `hashes` at `bits` bits per item: 8 gives about 2%
    /// false positives, 4 about 15%.
    pub(crate) fn build_blocked(hashes: &[u64], bits: usize) -> Self {
        let mut b = Self::blocked(hashes.len(), bits);
        for &h in hashes {
            b.insert(h);
        }
        b
    }

    /// (first word of the block, two probe seeds) of a blocked filter.
    fn block_of(&self, h: u64) -> (usize, u32, u32) {
        let blocks = (self.words.len() / BLOCK_WORDS) as u64;
        let block = (((h >> 32) * blocks) >> 32) as usize;
        let lo = h as u32;
        (block * BLOCK_WORDS, lo, (lo >> 9) | 1)
    }

    pub(crate) fn insert(&mut self, h: u64) {
        if self.words.is_empty() {
            return;
        }
        if self.blocked {
            let (base, h1, h2) = self.block_of(h);
            for i in 0..u32::from(self.k) {
                let bit = (h1.wrapping_add(i.wrapping_mul(h2)) & 511) as usize;
                if let Some(w) = self.words.get_mut(base + bit / 64) {
                    *w |= 1 << (bit % 64);
                }
            }
            return;
        }
        let nbits = (self.words.len() as u64) * 64;
        let h1 = h & 0xffff_ffff;
        let h2 = (h >> 32) | 1;
        for i in 0..u64::from(self.k) {
            let bit = (h1.wrapping_add(i.wrapping_mul(h2)) % nbits) as usize;
            self.words[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// False means the item is certainly absent.
    pub(crate) fn may_contain(&self, h: u64) -> bool {
        if self.words.is_empty() {
            return true;
        }
        if self.blocked {
            if !self.words.len().is_multiple_of(BLOCK_WORDS) {
                return true;
            }
            let (base, h1, h2) = self.block_of(h);
            return (0..u32::from(self.k)).all(|i| {
                let bit = (h1.wrapping_add(i.wrapping_mul(h2)) & 511) as usize;
                self.words
                    .get(base + bit / 64)
                    .is_some_and(|w| w & (1 << (bit % 64)) != 0)
            });
        }
        let nbits = (self.words.len() as u64) * 64;
        let h1 = h & 0xffff_ffff;
        let h2 = (h >> 32) | 1;
        (0..u64::from(self.k)).all(|i| {
            let bit = (h1.wrapping_add(i.wrapping_mul(h2)) % nbits) as usize;
            self.words
                .get(bit / 64)
                .is_some_and(|w| w & (1 << (bit % 64)) != 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer() {
        let t: Vec<&str> = tokens("START RequestId: 1a2b-3c END é-x").collect();
        assert_eq!(t, ["START", "RequestId", "1a2b", "3c", "END", "é", "x"]);
        assert_eq!(tokens("").count(), 0);
        assert_eq!(tokens("--").count(), 0);
        assert_eq!(interior_tokens("ab-cd-ef"), ["cd"]);
        assert_eq!(interior_tokens(" ab "), ["ab"]);
        assert!(interior_tokens("abc").is_empty());
        assert_eq!(trailing_token("ab-cd-ef"), Some("ef"));
        assert_eq!(trailing_token("abcdef"), None);
        assert_eq!(trailing_token("ab-"), None);
        assert_eq!(prefix_hash("0123456789"), Some(token_hash("01234567")));
        assert_eq!(prefix_hash("0123456"), None);
    }

    #[test]
    fn bloom_has_no_false_negatives_and_few_false_positives() {
        let hashes: Vec<u64> = (0..5000u32)
            .map(|i| token_hash(&format!("tok{i}")))
            .collect();
        let b = Bloom::build(&hashes);
        assert!(hashes.iter().all(|&h| b.may_contain(h)));
        let fp = (0..10000u32)
            .filter(|i| b.may_contain(token_hash(&format!("other{i}"))))
            .count();
        assert!(fp < 300, "false positives {fp}");
    }

    #[test]
    fn blocked_bloom_has_no_false_negatives_and_few_false_positives() {
        let hashes: Vec<u64> = (0..5000u32)
            .map(|i| token_hash(&format!("tok{i}")))
            .collect();
        let b = Bloom::build_blocked(&hashes, 8);
        assert!(b.words.len().is_multiple_of(BLOCK_WORDS));
        assert!(hashes.iter().all(|&h| b.may_contain(h)));
        let fp = (0..10000u32)
            .filter(|i| b.may_contain(token_hash(&format!("other{i}"))))
            .count();
        assert!(fp < 400, "false positives {fp}");
        assert!(Bloom::empty().may_contain(1));
    }

    #[test]
    fn hash_set_keeps_each_hash_once() {
        let mut set = HashSet64::default();
        for i in 0..5000u64 {
            set.insert(i.wrapping_mul(K1));
            set.insert(i.wrapping_mul(K1));
        }
        let mut got = set.take();
        got.sort_unstable();
        let mut want: Vec<u64> = (0..5000u64).map(|i| i.wrapping_mul(K1)).collect();
        want.sort_unstable();
        assert_eq!(got, want);
        assert!(set.take().is_empty());
    }

    #[test]
    fn hash_is_frozen() {
        // The hash is part of the on-disk format; these values must never change.
        assert_eq!(hash64(b"", 0), fmix(0));
        assert_ne!(token_hash("a"), field_hash("a", ""));
        assert_eq!(token_hash("RequestId"), token_hash("RequestId"));
    }
}
