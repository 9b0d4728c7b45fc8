//! Byte-level encoding shared by the WAL and segments. Every read is bounds-checked because
//! the bytes come from disk and are untrusted.

use crate::error::StorageError;

pub(crate) fn put_u8(out: &mut Vec<u8>, v: u8) {
    out.push(v);
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reads one varint at `*pos` of `bytes`, advancing `pos`; `None` when truncated or longer
/// than ten bytes. The tight loop for columns of many varints, where a [`Reader`] per value
/// costs more than the decoding.
#[inline]
pub(crate) fn varint_at(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift >= 64 {
            return None;
        }
    }
}

/// Writes `values` as a fixed-width column (segment format 4): the base as a zigzag
/// varint, the width in bytes, then one byte plane per byte of `value - base`, low byte
/// first. Any row reads in constant time, so a selective scan touches only its rows, and
/// the planes compress well (the high ones barely change within a block).
pub(crate) fn put_planes(out: &mut Vec<u8>, values: &[i64]) {
    // One pass for both ends; every value is at least `base`, so the largest distance is
    // the largest value's (exact in u64 even when it overflows i64).
    let (base, top) = match values.first() {
        Some(&v) => values
            .iter()
            .fold((v, v), |(lo, hi), &v| (lo.min(v), hi.max(v))),
        None => (0, 0),
    };
    let span = top.wrapping_sub(base) as u64;
    let width = (8 - span.leading_zeros() as usize / 8).min(8);
    put_ivarint(out, base);
    out.push(width as u8);
    for k in 0..width {
        out.extend(
            values
                .iter()
                .map(|&v| (v.wrapping_sub(base) as u64 >> (8 * k)) as u8),
        );
    }
}

/// The 16 bytes of a UUID in canonical lowercase text (`8-4-4-4-12` hex digits), or `None`
/// for any other text, including uppercase, which would not read back byte for byte.
pub(crate) fn uuid_bytes(s: &[u8]) -> Option<[u8; 16]> {
    if s.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut digits = s
        .iter()
        .enumerate()
        .filter(|&(i, _)| !matches!(i, 8 | 13 | 18 | 23));
    if [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
        return None;
    }
    for o in &mut out {
        let mut v = 0u8;
        for _ in 0..2 {
            let (_, &c) = digits.next()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            v = v << 4 | d;
        }
        *o = v;
    }
    Some(out)
}

/// Appends the canonical text of the UUID in `id` (16 bytes).
pub(crate) fn push_uuid(id: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, &b) in id.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
}

/// A fixed-width column written by [`put_planes`], checked against its row count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Planes {
    bytes: Vec<u8>,
    /// Where the first plane starts.
    at: usize,
    base: i64,
    width: usize,
    n: usize,
}

/// Parses the header of a [`put_planes`] column of `n` rows that fills `bytes`: its base,
/// width and where the first plane starts.
fn planes_header(
    bytes: &[u8],
    n: usize,
    what: &'static str,
) -> Result<(i64, usize, usize), StorageError> {
    let mut r = Reader::new(bytes, what);
    let base = r.ivarint()?;
    let width = usize::from(r.u8()?);
    if width > 8 {
        return Err(r.corrupt("column width above 8 bytes"));
    }
    if width.checked_mul(n) != Some(r.remaining()) {
        return Err(r.corrupt("column length disagrees with the row count"));
    }
    Ok((base, width, bytes.len() - r.remaining()))
}

/// Row `i`'s bytes in planes `from..width` of a [`put_planes`] column whose first plane of
/// `n` rows starts at `at`, shifted to their places: the row's offset from the column's base
/// (without the planes before `from`). `None` when a plane is cut short.
#[inline]
fn gather(bytes: &[u8], at: usize, n: usize, width: usize, i: usize, from: usize) -> Option<u64> {
    let mut v = 0u64;
    for k in from..width {
        v |= u64::from(*bytes.get(at + k * n + i)?) << (8 * k);
    }
    Some(v)
}

/// A [`put_planes`] column of dictionary codes left in its chunk and read row by row: a scan
/// that selects rows by one field finds them in that field's planes and reads the other
/// fields' codes at those rows only. Offsets are into the chunk the column was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodePlanes {
    /// Where the first plane starts in the chunk.
    at: usize,
    base: u32,
    width: usize,
    n: usize,
    /// Largest valid code (the dictionary's size).
    max: u32,
}

impl CodePlanes {
    /// Parses the column of `n` codes, each at most `max`, that fills `bytes[start..]`.
    pub(crate) fn parse(
        bytes: &[u8],
        start: usize,
        n: usize,
        max: u32,
        what: &'static str,
    ) -> Result<Self, StorageError> {
        let corrupt = |d: &str| StorageError::corrupt(what, d);
        let col = bytes.get(start..).ok_or_else(|| corrupt("truncated"))?;
        let (base, width, at) = planes_header(col, n, what)?;
        let base = u32::try_from(base).map_err(|_| corrupt("dictionary code out of range"))?;
        if width > 4 {
            return Err(corrupt("dictionary code out of range"));
        }
        Ok(Self {
            at: start + at,
            base,
            width,
            n,
            max,
        })
    }

    /// Every row's code, each checked against the dictionary.
    pub(crate) fn all(&self, bytes: &[u8], what: &'static str) -> Result<Vec<u32>, StorageError> {
        let corrupt = || StorageError::corrupt(what, "dictionary code out of range");
        let n = self.n;
        // Plain loops over byte planes: the compiler vectorizes them.
        let mut out = vec![0u32; n];
        for k in 0..self.width {
            let plane = bytes
                .get(self.at + k * n..self.at + (k + 1) * n)
                .ok_or_else(|| StorageError::corrupt(what, "truncated"))?;
            for (o, &b) in out.iter_mut().zip(plane) {
                *o |= u32::from(b) << (8 * k);
            }
        }
        let top = out.iter().copied().max().unwrap_or(0);
        if top.checked_add(self.base).is_none_or(|t| t > self.max) {
            return Err(corrupt());
        }
        if self.base != 0 {
            for o in &mut out {
                *o += self.base;
            }
        }
        Ok(out)
    }

    /// Row `i`'s code, checked against the dictionary.
    #[inline]
    pub(crate) fn get(
        &self,
        bytes: &[u8],
        i: usize,
        what: &'static str,
    ) -> Result<u32, StorageError> {
        let corrupt = |d: &str| StorageError::corrupt(what, d);
        if i >= self.n {
            return Err(corrupt("row out of range"));
        }
        let v =
            gather(bytes, self.at, self.n, self.width, i, 0).ok_or_else(|| corrupt("truncated"))?;
        match u32::try_from(v + u64::from(self.base)) {
            Ok(c) if c <= self.max => Ok(c),
            _ => Err(corrupt("dictionary code out of range")),
        }
    }

    /// Appends to `out` the rows whose code is `code`, ascending.
    pub(crate) fn rows_equal(&self, bytes: &[u8], code: u32, out: &mut Vec<u32>) {
        let Some(t) = code.checked_sub(self.base) else {
            return;
        };
        let t = u64::from(t);
        if t >> (8 * self.width) != 0 {
            return;
        }
        if self.width == 0 {
            // Every row holds the base.
            out.extend(0..self.n as u32);
            return;
        }
        let Some(low) = bytes.get(self.at..self.at + self.n) else {
            return;
        };
        // The low plane rules out almost every row; higher planes confirm the rest.
        let first = out.len();
        let want = t as u8;
        out.extend(memchr::memchr_iter(want, low).map(|i| i as u32));
        if self.width > 1 {
            let mut keep = first;
            for j in first..out.len() {
                let i = out[j] as usize;
                let v = gather(bytes, self.at, self.n, self.width, i, 1);
                if v == Some(t & !0xff) {
                    out[keep] = out[j];
                    keep += 1;
                }
            }
            out.truncate(keep);
        }
    }
}

impl Planes {
    pub(crate) fn parse(
        bytes: Vec<u8>,
        n: usize,
        what: &'static str,
    ) -> Result<Self, StorageError> {
        let (base, width, at) = planes_header(&bytes, n, what)?;
        Ok(Self {
            bytes,
            at,
            base,
            width,
            n,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Row `i`'s value; `None` past the end.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        if i >= self.n {
            return None;
        }
        let v = gather(&self.bytes, self.at, self.n, self.width, i, 0)?;
        Some(self.base.wrapping_add(v as i64))
    }

    /// Rows `range` (clamped to the column).
    pub(crate) fn range(&self, range: std::ops::Range<usize>) -> Vec<i64> {
        let range = range.start.min(self.n)..range.end.min(self.n);
        let mut out = vec![self.base; range.len()];
        for k in 0..self.width {
            let start = self.at + k * self.n;
            if let Some(plane) = self.bytes.get(start + range.start..start + range.end) {
                for (o, &b) in out.iter_mut().zip(plane) {
                    // Adding each byte's share wraps like adding the whole offset.
                    *o = o.wrapping_add((i64::from(b)) << (8 * k));
                }
            }
        }
        out
    }
}

/// A cursor over untrusted bytes; every accessor fails instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }

    pub(crate) fn corrupt(&self, detail: &str) -> StorageError {
        StorageError::Corrupt {
            what: self.what,
            detail: format!("{detail} at byte {}", self.pos),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], StorageError> {
        if n > self.remaining() {
            return Err(self.corrupt("truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, StorageError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, StorageError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, StorageError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, StorageError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.corrupt("varint too long"))
    }

    pub(crate) fn ivarint(&mut self) -> Result<i64, StorageError> {
        Ok(unzigzag(self.varint()?))
    }

    /// A varint used as a length or count, checked against what could possibly follow so a
    /// corrupt value cannot trigger a huge allocation.
    pub(crate) fn len(&mut self, min_item_bytes: usize) -> Result<usize, StorageError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| self.corrupt("length overflows"))?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() && min_item_bytes > 0 {
            return Err(self.corrupt("length exceeds input"));
        }
        Ok(n)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], StorageError> {
        let n = self.len(1)?;
        self.take(n)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, StorageError> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.corrupt("invalid utf-8"))
    }
}

/// A segment's raw-content zstd dictionary, digested once for compression and once for
/// decompression: loading a dictionary per chunk cost more than decoding the chunk.
pub(crate) struct SegDict {
    pub(crate) raw: Vec<u8>,
    ddict: zstd::zstd_safe::DDict<'static>,
}

impl SegDict {
    pub(crate) fn new(raw: Vec<u8>) -> Result<Self, StorageError> {
        let ddict = zstd::zstd_safe::DDict::try_create(&raw).ok_or_else(|| {
            StorageError::corrupt("segment dictionary", "zstd refused the dictionary")
        })?;
        Ok(Self { raw, ddict })
    }
}

impl std::fmt::Debug for SegDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SegDict({} bytes)", self.raw.len())
    }
}

impl PartialEq for SegDict {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

thread_local! {
    /// One decompression context per thread: creating a context per chunk is costly.
    static DCTX: std::cell::RefCell<Option<zstd::zstd_safe::DCtx<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The first bytes of every zstd frame.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Decompresses one zstd frame of exactly `raw_len` bytes (as the directory states; the
/// frame header must agree before anything is allocated), optionally against a segment's
/// dictionary.
pub(crate) fn unzstd(
    data: &[u8],
    raw_len: usize,
    dict: Option<&SegDict>,
    what: &'static str,
) -> Result<Vec<u8>, StorageError> {
    DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        let dctx = slot.get_or_insert_with(zstd::zstd_safe::DCtx::create);
        unzstd_checked(data, raw_len, what, |out| match dict {
            Some(d) => dctx.decompress_using_ddict(out, data, &d.ddict),
            None => dctx.decompress(out, data),
        })
    })
}

/// Decompresses one frame through `run` into a buffer it fills: the frame header must
/// state exactly `raw_len` bytes before anything is allocated, and `run` must produce them.
fn unzstd_checked(
    data: &[u8],
    raw_len: usize,
    what: &'static str,
    run: impl FnOnce(&mut Vec<u8>) -> Result<usize, zstd::zstd_safe::ErrorCode>,
) -> Result<Vec<u8>, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt { what, detail };
    match zstd::zstd_safe::get_frame_content_size(data) {
        Ok(Some(n)) if n == raw_len as u64 => {}
        _ => return Err(corrupt("frame size disagrees with directory".into())),
    }
    let mut out = Vec::with_capacity(raw_len);
    run(&mut out)
        .map_err(|code| corrupt(format!("zstd: {}", zstd::zstd_safe::get_error_name(code))))?;
    if out.len() != raw_len {
        return Err(corrupt("decompressed size disagrees with directory".into()));
    }
    Ok(out)
}

thread_local! {
    static CCTX: std::cell::RefCell<Option<zstd::zstd_safe::CCtx<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Prepared compression dictionary of one segment being written.
pub(crate) struct PackDict(zstd::zstd_safe::CDict<'static>);

impl PackDict {
    pub(crate) fn new(raw: &[u8], level: i32) -> Result<Self, StorageError> {
        zstd::zstd_safe::CDict::try_create(raw, level)
            .map(Self)
            .ok_or_else(|| StorageError::Invalid("zstd refused the dictionary".into()))
    }
}

/// Compresses `raw` as one zstd frame with its content size, against `dict` when given,
/// into `scratch` (cleared first; reused across calls so no chunk allocates).
pub(crate) fn zstd_into(
    raw: &[u8],
    level: i32,
    dict: Option<&PackDict>,
    scratch: &mut Vec<u8>,
) -> Result<(), StorageError> {
    scratch.clear();
    scratch.reserve(zstd::zstd_safe::compress_bound(raw.len()));
    CCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        let cctx = slot.get_or_insert_with(zstd::zstd_safe::CCtx::create);
        let res = match dict {
            Some(d) => cctx.compress_using_cdict(scratch, raw, &d.0),
            None => cctx.compress(scratch, raw, level),
        };
        res.map(drop).map_err(zstd_error)
    })
}

/// Largest hash table of a prefixed frame: 2^17 entries keep a block's identifiers
/// findable after a few MB (level 1's own 2^13 forget the prefix within the first rows).
const PREFIX_HASH_LOG: u32 = 17;

fn zstd_error(code: usize) -> StorageError {
    StorageError::Io(std::io::Error::other(format!(
        "zstd: {}",
        zstd::zstd_safe::get_error_name(code)
    )))
}

/// Compresses `raw` as one zstd frame with its content size against a raw-content
/// `prefix` (bytes the reader has anyway, such as a block's field chunks whose values its
/// messages repeat), with a window reaching from the frame's end back over the prefix.
pub(crate) fn zstd_prefixed(
    raw: &[u8],
    level: i32,
    prefix: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<(), StorageError> {
    use zstd::zstd_safe::{CCtx, CParameter};
    scratch.clear();
    scratch.reserve(zstd::zstd_safe::compress_bound(raw.len()));
    let total = (raw.len() + prefix.len()).max(1);
    let window = (usize::BITS - total.leading_zeros()).clamp(17, 27);
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(zstd_error)?;
    cctx.set_parameter(CParameter::WindowLog(window))
        .map_err(zstd_error)?;
    cctx.set_parameter(CParameter::HashLog(PREFIX_HASH_LOG.min(window)))
        .map_err(zstd_error)?;
    cctx.set_parameter(CParameter::ContentSizeFlag(true))
        .map_err(zstd_error)?;
    cctx.ref_prefix(prefix).map_err(zstd_error)?;
    cctx.compress2(scratch, raw).map(drop).map_err(zstd_error)
}

/// Decompresses a frame written by [`zstd_prefixed`] with the same `prefix`; like
/// [`unzstd`], the frame must state exactly `raw_len` bytes.
pub(crate) fn unzstd_prefixed(
    data: &[u8],
    raw_len: usize,
    prefix: &[u8],
    what: &'static str,
) -> Result<Vec<u8>, StorageError> {
    let mut dctx = zstd::zstd_safe::DCtx::create();
    unzstd_checked(data, raw_len, what, |out| {
        dctx.ref_prefix(prefix)
            .and_then(|_| dctx.decompress(out, data))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(vals in proptest::collection::vec(any::<i64>(), 0..50)) {
            let mut out = Vec::new();
            for &v in &vals { put_ivarint(&mut out, v); put_varint(&mut out, v as u64); }
            let mut r = Reader::new(&out, "test");
            for &v in &vals {
                prop_assert_eq!(r.ivarint().unwrap(), v);
                prop_assert_eq!(r.varint().unwrap(), v as u64);
            }
            prop_assert!(r.is_empty());
        }

        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes, "test");
            while !r.is_empty() {
                if r.bytes().is_err() { break; }
            }
        }
    }

    proptest! {
        #[test]
        fn varint_at_agrees_with_reader(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = Reader::new(&bytes, "test");
            let mut pos = 0;
            loop {
                let a = r.varint().ok();
                let b = varint_at(&bytes, &mut pos);
                prop_assert_eq!(a, b);
                if a.is_none() { break; }
            }
        }
    }

    proptest! {
        #[test]
        fn planes_round_trip(vals in proptest::collection::vec(any::<i64>(), 0..40), small in any::<bool>()) {
            let vals: Vec<i64> = if small { vals.iter().map(|v| v % 1000).collect() } else { vals };
            let mut out = Vec::new();
            put_planes(&mut out, &vals);
            let p = Planes::parse(out, vals.len(), "test").unwrap();
            for (i, &v) in vals.iter().enumerate() {
                prop_assert_eq!(p.get(i), Some(v));
            }
            prop_assert_eq!(p.get(vals.len()), None);
            prop_assert_eq!(p.range(0..vals.len()), vals.clone());
            let mid = vals.len() / 2;
            prop_assert_eq!(p.range(mid..vals.len() + 3), vals[mid..].to_vec());
        }

        #[test]
        fn code_planes_find_and_read_rows(
            codes in proptest::collection::vec(0u32..600, 0..60),
            lead in 0usize..3,
            probe in 0u32..700,
        ) {
            let max = 599;
            let mut chunk = vec![7u8; lead];
            let vals: Vec<i64> = codes.iter().map(|&c| i64::from(c)).collect();
            put_planes(&mut chunk, &vals);
            let p = CodePlanes::parse(&chunk, lead, codes.len(), max, "t").unwrap();
            for (i, &c) in codes.iter().enumerate() {
                prop_assert_eq!(p.get(&chunk, i, "t").ok(), Some(c));
            }
            prop_assert!(p.get(&chunk, codes.len(), "t").is_err());
            let mut rows = Vec::new();
            p.rows_equal(&chunk, probe, &mut rows);
            let expect: Vec<u32> = (0..codes.len() as u32)
                .filter(|&i| codes[i as usize] == probe)
                .collect();
            prop_assert_eq!(rows, expect);
            let full = p.all(&chunk, "t").unwrap();
            prop_assert_eq!(full, codes.clone());
            // A dictionary smaller than a code makes reading that row an error.
            if let Some(&top) = codes.iter().max() && top > 0 {
                let small = CodePlanes::parse(&chunk, lead, codes.len(), top - 1, "t").unwrap();
                let at = codes.iter().position(|&c| c == top).unwrap_or(0);
                prop_assert!(small.get(&chunk, at, "t").is_err());
            }
        }

        #[test]
        fn code_planes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            start in 0usize..45,
            n in 0usize..20,
            code in 0u32..300,
        ) {
            if let Ok(p) = CodePlanes::parse(&bytes, start, n, 255, "test") {
                for i in 0..n + 1 {
                    let _ = p.get(&bytes, i, "test");
                }
                let mut rows = Vec::new();
                p.rows_equal(&bytes, code, &mut rows);
                prop_assert!(rows.iter().all(|&r| (r as usize) < n));
                // Truncated after parsing: reads fail instead of panicking.
                let cut = &bytes[..bytes.len() / 2];
                for i in 0..n {
                    let _ = p.get(cut, i, "test");
                }
                p.rows_equal(cut, code, &mut rows);
            }
        }

        #[test]
        fn planes_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40), n in 0usize..20) {
            if let Ok(p) = Planes::parse(bytes, n, "test") {
                for i in 0..n + 1 {
                    let _ = p.get(i);
                }
                let _ = p.range(0..n + 2);
            }
        }
    }

    #[test]
    fn prefixed_frames_need_their_prefix() {
        let prefix: Vec<u8> = (0..4000u32)
            .flat_map(|i| format!("id-{:08x};", i.wrapping_mul(0x9E37_79B9)).into_bytes())
            .collect();
        let raw: Vec<u8> = (0..4000u32)
            .rev()
            .flat_map(|i| {
                format!("line {} id-{:08x}\n", i % 7, i.wrapping_mul(0x9E37_79B9)).into_bytes()
            })
            .collect();
        let mut with = Vec::new();
        zstd_prefixed(&raw, 1, &prefix, &mut with).unwrap();
        let mut without = Vec::new();
        zstd_into(&raw, 1, None, &mut without).unwrap();
        assert!(
            with.len() < without.len(),
            "{} vs {}",
            with.len(),
            without.len()
        );
        assert_eq!(
            unzstd_prefixed(&with, raw.len(), &prefix, "t").unwrap(),
            raw
        );
        assert!(unzstd_prefixed(&with, raw.len(), b"other", "t").is_err_or_differs(&raw));
        assert!(unzstd_prefixed(&with, raw.len() + 1, &prefix, "t").is_err());
    }

    trait ErrOrDiffers {
        fn is_err_or_differs(&self, raw: &[u8]) -> bool;
    }

    impl ErrOrDiffers for Result<Vec<u8>, StorageError> {
        fn is_err_or_differs(&self, raw: &[u8]) -> bool {
            self.as_ref().map_or(true, |v| v != raw)
        }
    }

    #[test]
    fn uuids_round_trip_in_canonical_text_only() {
        let id = "0f9e8d7c-6b5a-4493-a281-70ffeeddccbb";
        let b = uuid_bytes(id.as_bytes()).unwrap();
        let mut text = Vec::new();
        push_uuid(&b, &mut text);
        assert_eq!(text, id.as_bytes());
        for other in [
            "0F9E8D7C-6B5A-4493-A281-70FFEEDDCCBB",
            "0f9e8d7c6b5a4493a28170ffeeddccbb",
            "0f9e8d7c-6b5a-4493-a281-70ffeeddccb",
            "0f9e8d7c-6b5a-4493-a281-70ffeeddccbbb",
            "0f9e8d7c-6b5a-4493-a281_70ffeeddccbb",
            "0f9e8d7c-6b5a-4493-a281-70ffeeddccbg",
            "0f9e8d7c--b5a-4493-a281-70ffeeddccbb",
        ] {
            assert_eq!(uuid_bytes(other.as_bytes()), None, "{other}");
        }
    }

    proptest! {
        #[test]
        fn uuid_text_round_trips(b in any::<[u8; 16]>()) {
            let mut text = Vec::new();
            push_uuid(&b, &mut text);
            prop_assert_eq!(text.len(), 36);
            prop_assert_eq!(uuid_bytes(&text), Some(b));
        }

        #[test]
        fn uuid_parse_never_panics(s in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some(b) = uuid_bytes(&s) {
                let mut text = Vec::new();
                push_uuid(&b, &mut text);
                prop_assert_eq!(text, s);
            }
        }
    }

    #[test]
    fn planes_refuse_a_wrong_row_count() {
        let mut out = Vec::new();
        put_planes(&mut out, &[5, 300, 70_000]);
        assert_eq!(out[1], 3, "a span below 2^24 takes three bytes");
        assert!(Planes::parse(out.clone(), 2, "t").is_err());
        assert!(Planes::parse(out.clone(), 4, "t").is_err());
        let mut wide = out;
        wide[1] = 9;
        assert!(Planes::parse(wide, 3, "t").is_err());
    }

    #[test]
    fn lengths_beyond_input_are_refused() {
        let mut out = Vec::new();
        put_varint(&mut out, 1 << 40);
        assert!(Reader::new(&out, "t").bytes().is_err());
        let mut long = vec![0xffu8; 11];
        long.push(0);
        assert!(Reader::new(&long, "t").varint().is_err());
    }
}
