//! Hand-written JSON encoding into reusable byte buffers.
//!
//! serde_json would allocate per value and cannot write `fmt::Arguments` straight into an
//! escaped string; this module can, which is what keeps a record under the time budget.

use std::fmt;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Which bytes need escaping inside a JSON string: 0 = none, otherwise the escape letter,
/// or `u` for a `\u00XX` escape.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[0x7f] = b'u';
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of the word is a control character, `"`, `\\` or DEL. Borrows can only
/// create false positives after a true one, which is fine for an "any" test.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    (below_space
        | has_zero(w ^ (LO * u64::from(b'"')))
        | has_zero(w ^ (LO * u64::from(b'\\')))
        | has_zero(w ^ (LO * 0x7f)))
        != 0
}

/// Length of the prefix of `b` that needs no escaping.
#[inline]
fn clean_len(b: &[u8]) -> usize {
    let mut i = 0;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        if word_needs_escape(w) {
            break;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if ESCAPE[c as usize] != 0 {
            break;
        }
        i += 1;
    }
    i
}

/// Longest string the short paths take: checked for bytes needing escapes on overlapping
/// fixed-size loads of the string itself (one vector compare per 16 bytes) and appended
/// with the same overlapping fixed-size copies, so a typical short value costs no `memcpy`
/// call and no byte loop.
///
/// Nothing is staged in a stack buffer: reading back a buffer just written in pieces of
/// other sizes defeats the CPU's store-to-load forwarding, and that stall was most of a
/// short string's cost (perf showed ~60% of the string visitor's time on those reloads).
const SHORT_STR: usize = 32;

/// Whether none of the 16 bytes `lo` (first eight) and `hi` (last eight) needs escaping:
/// four byte compares on one SSE2 register and one mask test. Written with intrinsics
/// because the compiler's own vectorisation of a byte loop over this test spent ~60
/// instructions on shuffles per 16 bytes, and the word-at-a-time test costs more still.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn clean_words(lo: u64, hi: u64) -> bool {
    // SAFETY: SSE2 is part of the x86_64 baseline, so every x86_64 CPU has it; the
    // intrinsics only compute on register values and touch no memory.
    unsafe { sse2::clean_words(lo, hi) }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };

    #[target_feature(enable = "sse2")]
    pub(super) fn clean_words(lo: u64, hi: u64) -> bool {
        // Bit patterns only: the intrinsics take signed lanes.
        let v = _mm_set_epi64x(hi as i64, lo as i64);
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
        let any = _mm_or_si128(_mm_or_si128(control, quote), _mm_or_si128(backslash, del));
        _mm_movemask_epi8(any) == 0
    }
}

/// [`clean_words`] where SSE2 is not assumed: the word test on each half.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn clean_words(lo: u64, hi: u64) -> bool {
    clean_words_swar(lo, hi)
}

/// The portable form of [`clean_words`], kept compiled everywhere so tests compare the two.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn clean_words_swar(lo: u64, hi: u64) -> bool {
    !(word_needs_escape(lo) | word_needs_escape(hi))
}

/// Whether `b` (at most [`SHORT_STR`] bytes) needs no escaping, from overlapping loads of
/// its first and last bytes.
#[inline(always)]
fn short_clean(b: &[u8]) -> bool {
    if let Some((x, y)) = ends::<16>(b) {
        let (x0, x1) = halves(x);
        let (y0, y1) = halves(y);
        clean_words(x0, x1) & clean_words(y0, y1)
    } else if let Some((x, y)) = ends::<8>(b) {
        clean_words(u64::from_le_bytes(*x), u64::from_le_bytes(*y))
    } else if let Some((x, y)) = ends::<4>(b) {
        // Both ends in one word; the other half is spaces, which need no escape.
        let w = u64::from(u32::from_le_bytes(*x)) | (u64::from(u32::from_le_bytes(*y)) << 32);
        clean_words(w, LO * 0x20)
    } else if let Some([a, m, z]) = first_mid_last(b) {
        let w = u64::from(a) | (u64::from(m) << 8) | (u64::from(z) << 16) | (LO * 0x20) << 24;
        clean_words(w, LO * 0x20)
    } else {
        true
    }
}

/// The first, middle and last bytes of a string of one to three bytes: together they are
/// the string, followed by a repeat of its last byte (cut off by the callers' lengths);
/// `None` when it is empty.
#[inline(always)]
fn first_mid_last(b: &[u8]) -> Option<[u8; 3]> {
    Some([*b.first()?, *b.get(b.len() / 2)?, *b.last()?])
}

/// The two little-endian words of a 16-byte block.
#[inline(always)]
fn halves(b: &[u8; 16]) -> (u64, u64) {
    let v = u128::from_le_bytes(*b);
    (v as u64, (v >> 64) as u64)
}

/// The first and the last `N` bytes of `b` (which overlap when `b` is shorter than `2N`);
/// `None` when `b` is shorter than `N`.
#[inline(always)]
fn ends<const N: usize>(b: &[u8]) -> Option<(&[u8; N], &[u8; N])> {
    Some((b.first_chunk::<N>()?, b.last_chunk::<N>()?))
}

/// Appends `b` (at most [`SHORT_STR`] bytes) with constant-size copies ([`put_ends`]).
#[inline(always)]
fn put_short(out: &mut Vec<u8>, b: &[u8]) {
    if !(put_ends::<16>(out, b) || put_ends::<8>(out, b) || put_ends::<4>(out, b))
        && let Some(three) = first_mid_last(b)
    {
        // One to three bytes as one 3-byte store, cut to length.
        let start = out.len();
        out.extend_from_slice(&three);
        out.truncate(start + b.len());
    }
}

/// Appends `b` (at most `2N` bytes) as two overlapping `N`-byte copies: the first `N`
/// bytes, then the last `N` ending where `b` ends. Returns `false`, having written nothing,
/// when `b` is shorter than `N`.
#[inline(always)]
fn put_ends<const N: usize>(out: &mut Vec<u8>, b: &[u8]) -> bool {
    let Some((x, y)) = ends::<N>(b) else {
        return false;
    };
    let start = out.len();
    out.extend_from_slice(x);
    out.truncate(start + b.len() - N);
    out.extend_from_slice(y);
    true
}

/// Appends the escaped body of a JSON string (no surrounding quotes). Unescaped runs are
/// copied in bulk; the common case (nothing to escape) is one scan and one copy.
#[inline(always)]
pub(crate) fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.len() <= SHORT_STR && short_clean(bytes) {
        put_short(out, bytes);
        return;
    }
    escape_long(out, bytes);
}

/// [`escape_into`] for strings the short path does not take.
#[cold]
#[inline(never)]
fn escape_long(out: &mut Vec<u8>, bytes: &[u8]) {
    let clean = clean_len(bytes);
    match bytes.split_at_checked(clean) {
        Some((head, rest)) if !rest.is_empty() => {
            out.extend_from_slice(head);
            escape_rest(out, rest);
        }
        _ => out.extend_from_slice(bytes),
    }
}

#[cold]
fn escape_rest(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPE[b as usize];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        push_escape(out, b, e);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

fn push_escape(out: &mut Vec<u8>, b: u8, e: u8) {
    if e == b'u' {
        out.extend_from_slice(b"\\u00");
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 0xf) as usize]);
    } else {
        out.push(b'\\');
        out.push(e);
    }
}

/// Appends a quoted, escaped JSON string.
#[inline(always)]
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    string_sep::<false>(out, s);
}

/// [`string`] followed by a comma, written with the string in one copy when it is short.
#[inline(always)]
pub(crate) fn string_comma(out: &mut Vec<u8>, s: &str) {
    string_sep::<true>(out, s);
}

#[inline(always)]
fn string_sep<const COMMA: bool>(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.len() <= SHORT_STR && short_clean(bytes) {
        out.push(b'"');
        put_short(out, bytes);
        out.extend_from_slice(if COMMA { b"\",".as_slice() } else { b"\"" });
        return;
    }
    string_long(out, bytes);
    if COMMA {
        out.push(b',');
    }
}

/// Appends `key` (a pre-rendered `"name":`, the first `key_len` bytes of `padded`, which
/// is space-padded) and the string `s` as a JSON string followed by a comma, with
/// constant-size copies. Returns `false`, having written nothing, when `s` is too long or
/// needs escaping, or the key fills the padding.
#[inline(always)]
pub(crate) fn keyed_string_comma(
    out: &mut Vec<u8>,
    padded: &[u8; KEY_PAD],
    key_len: usize,
    s: &str,
) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() > SHORT_STR || key_len >= KEY_PAD || !short_clean(bytes) {
        return false;
    }
    // One constant-size region holds the key, the quoted value and the comma; everything
    // is stored into it at offsets and the line is cut to length once.
    const REGION: usize = KEY_PAD + 2 * SHORT_STR;
    let start = out.len();
    out.extend_from_slice(&[0u8; REGION]);
    let mut end = start;
    if let Some(r) = out
        .get_mut(start..start + REGION)
        .and_then(|r| <&mut [u8; REGION]>::try_from(r).ok())
    {
        if let Some(head) = r.first_chunk_mut::<KEY_PAD>() {
            *head = *padded;
        }
        // The opening quote overwrites the padding after the key (`key_len < KEY_PAD`).
        r[key_len] = b'"';
        let at = key_len + 1;
        let n = store_short(r, at, bytes);
        if let Some(tail) = r.get_mut(at + n..at + n + 2) {
            tail.copy_from_slice(b"\",");
            end = start + at + n + 2;
        }
    }
    out.truncate(end);
    true
}

/// Stores `b` (at most [`SHORT_STR`] bytes) into `r` at `at` with overlapping
/// constant-size copies, as [`put_short`] appends; returns the bytes stored (0 when `r` is
/// too short, which its callers size out).
#[inline(always)]
fn store_short<const R: usize>(r: &mut [u8; R], at: usize, b: &[u8]) -> usize {
    fn ends_at<const N: usize>(r: &mut [u8], at: usize, b: &[u8]) -> Option<usize> {
        let (x, y) = ends::<N>(b)?;
        let len = b.len();
        r.get_mut(at..at + N)?.copy_from_slice(x);
        r.get_mut(at + len - N..at + len)?.copy_from_slice(y);
        Some(len)
    }
    if let Some(n) = ends_at::<16>(r, at, b)
        .or_else(|| ends_at::<8>(r, at, b))
        .or_else(|| ends_at::<4>(r, at, b))
    {
        return n;
    }
    match (first_mid_last(b), r.get_mut(at..at + 3)) {
        (Some(three), Some(d)) => {
            d.copy_from_slice(&three);
            b.len()
        }
        _ => 0,
    }
}

/// Size of the space-padded copies of short keys ([`keyed_string_comma`]).
pub(crate) const KEY_PAD: usize = 32;

/// [`string`] for strings the short path does not take.
#[cold]
#[inline(never)]
fn string_long(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    escape_long(out, bytes);
    out.push(b'"');
}

/// A `fmt::Write` sink that escapes everything written into it, so `Display`/`Debug` output
/// goes straight into the record without an intermediate `String`.
pub(crate) struct Escaper<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// First chunk of the `Debug` output of [`crate::json`] values: what follows is JSON text.
pub(crate) const JSON_MARKER: &str = "\u{0}lookout-json\u{0}";

enum Mode {
    First,
    Escaped,
    Raw,
}

/// Escapes `Debug` output into a JSON string, unless its first chunk is [`JSON_MARKER`]:
/// then the rest is copied raw.
struct DebugSink<'a> {
    out: &'a mut Vec<u8>,
    mode: Mode,
}

impl fmt::Write for DebugSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.mode {
            Mode::First if s == JSON_MARKER => self.mode = Mode::Raw,
            Mode::First => {
                self.out.push(b'"');
                escape_into(self.out, s);
                self.mode = Mode::Escaped;
            }
            Mode::Escaped => escape_into(self.out, s),
            Mode::Raw => self.out.extend_from_slice(s.as_bytes()),
        }
        Ok(())
    }
}

/// Appends a `Debug` value: a JSON string of its output, or the nested JSON of a
/// [`crate::json`] value (checked, so a forged marker cannot break the record).
pub(crate) fn debug_value(out: &mut Vec<u8>, value: &dyn fmt::Debug) {
    let start = out.len();
    let mut sink = DebugSink {
        out: &mut *out,
        mode: Mode::First,
    };
    let _ = fmt::write(&mut sink, format_args!("{value:?}"));
    match sink.mode {
        Mode::First => out.extend_from_slice(b"\"\""),
        Mode::Escaped => out.push(b'"'),
        Mode::Raw => {
            let raw = out.get(start..).unwrap_or(&[]);
            if serde_json::from_slice::<serde_json::Value>(raw).is_err() {
                let text = String::from_utf8_lossy(raw).into_owned();
                out.truncate(start);
                string(out, &text);
            }
        }
    }
}

/// Appends `"` + escaped `Display`/`Debug` output + `"`.
pub(crate) fn fmt_string(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    out.push(b'"');
    if let Some(s) = args.as_str() {
        escape_into(out, s);
    } else {
        // A Display impl that returns Err leaves partial text; the string stays well formed.
        let _ = fmt::write(&mut Escaper(out), args);
    }
    out.push(b'"');
}

pub(crate) fn int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(v).as_bytes());
}

/// Finite floats in shortest round-trip form; non-finite values as the strings the spec
/// names, because bare `NaN` is not JSON.
#[inline]
pub(crate) fn float(out: &mut Vec<u8>, v: f64) {
    float_sep::<false>(out, v);
}

/// [`float`] followed by a comma.
#[inline]
pub(crate) fn float_comma(out: &mut Vec<u8>, v: f64) {
    float_sep::<true>(out, v);
}

#[inline]
fn float_sep<const COMMA: bool>(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() && short_decimal::<COMMA>(out, v) {
        return;
    }
    float_other(out, v);
    if COMMA {
        out.push(b',');
    }
}

/// [`float`] for values [`short_decimal`] does not print.
#[cold]
#[inline(never)]
fn float_other(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(b.format_finite(v).as_bytes());
    } else if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// `"00"` to `"99"`: two digits per division when printing numbers.
static PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes the two digits of `v` (below 100) at `buf[at..at + 2]`.
#[inline(always)]
fn put_pair(buf: &mut [u8], at: usize, v: u32) {
    let i = (v as usize % 100) * 2;
    buf[at..at + 2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// Writes the decimal digits of `v` at the start of `buf` (at least 20 bytes) and returns
/// how many were written.
#[inline]
fn put_uint(buf: &mut [u8], v: u64) -> usize {
    if v < 10 {
        buf[0] = b'0' + v as u8;
        return 1;
    }
    if v < 100 {
        put_pair(buf, 0, v as u32);
        return 2;
    }
    let mut n = 2;
    let mut x = v / 100;
    while x > 0 {
        n += 1;
        x /= 10;
    }
    let mut x = v;
    let mut i = n.min(buf.len());
    while i >= 2 {
        put_pair(buf, i - 2, (x % 100) as u32);
        x /= 100;
        i -= 2;
    }
    if i == 1 {
        buf[0] = b'0' + x as u8;
    }
    n
}

/// Appends what `fill` writes at the start of a 32-byte region (and a comma when `COMMA`;
/// `fill` returns how many bytes it wrote, at most 31). The region is appended with one
/// constant-size copy and the digits are stored into it in place: staging them in a stack
/// buffer and copying that out made the CPU reload bytes it had just stored in smaller
/// pieces, a store-forwarding stall that cost more than the digits themselves.
#[inline(always)]
fn in_region<const COMMA: bool>(out: &mut Vec<u8>, fill: impl FnOnce(&mut [u8; 32]) -> usize) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 32]);
    let mut n = 0;
    if let Some(region) = out
        .get_mut(start..start + 32)
        .and_then(|r| <&mut [u8; 32]>::try_from(r).ok())
    {
        n = fill(region).min(31);
        if COMMA {
            region[n] = b',';
            n += 1;
        }
    }
    out.truncate(start + n);
}

/// Appends a signed integer.
#[inline]
pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    i64_sep::<false>(out, v);
}

/// [`i64`] followed by a comma.
#[inline]
pub(crate) fn i64_comma(out: &mut Vec<u8>, v: i64) {
    i64_sep::<true>(out, v);
}

#[inline]
fn i64_sep<const COMMA: bool>(out: &mut Vec<u8>, v: i64) {
    in_region::<COMMA>(out, |buf| {
        let neg = v < 0;
        if neg {
            buf[0] = b'-';
        }
        put_uint(&mut buf[usize::from(neg)..], v.unsigned_abs()) + usize::from(neg)
    });
}

/// Appends an unsigned integer.
#[inline]
pub(crate) fn u64(out: &mut Vec<u8>, v: u64) {
    u64_sep::<false>(out, v);
}

/// [`u64`] followed by a comma.
#[inline]
pub(crate) fn u64_comma(out: &mut Vec<u8>, v: u64) {
    u64_sep::<true>(out, v);
}

#[inline]
fn u64_sep<const COMMA: bool>(out: &mut Vec<u8>, v: u64) {
    in_region::<COMMA>(out, |buf| put_uint(buf, v));
}

/// Prints values such as `42.5` or `0.1` without ryu when they have at most 6 decimals.
/// `m / 1e6` is correctly rounded, so `m / 1e6 == v` means `v` is the double nearest to
/// the decimal `m / 10^6`; below 1e9 an ulp is smaller than 1e-6, so that decimal is the
/// only (hence the shortest) round-tripping one with at most 6 decimals. Output matches ryu.
#[inline]
fn short_decimal<const COMMA: bool>(out: &mut Vec<u8>, v: f64) -> bool {
    let m = v * 1e6;
    // ryu switches to exponent notation below 1e-5.
    // `as i64` truncates (no libm call); |m| < 1e15 so it is exact when m is integral.
    if !(v.abs() < 1e9 && (v == 0.0 || v.abs() >= 1e-5) && (m as i64) as f64 == m && m / 1e6 == v) {
        return false;
    }
    let a = (m as i64).unsigned_abs();
    // At most "-999999999.999999" (17 bytes).
    in_region::<COMMA>(out, |buf| {
        let mut n = 0;
        if v.is_sign_negative() {
            buf[0] = b'-';
            n = 1;
        }
        n += put_uint(&mut buf[n..], a / 1_000_000);
        buf[n] = b'.';
        n += 1;
        let frac = (a % 1_000_000) as u32;
        if frac == 0 {
            buf[n] = b'0';
            n += 1;
        } else {
            // All six digits, then the trailing zeros cut (frac > 0, so a digit remains).
            put_pair(buf, n, frac / 10_000);
            put_pair(buf, n + 2, frac / 100 % 100);
            put_pair(buf, n + 4, frac % 100);
            // Digits left once the trailing zeros are cut, by arithmetic rather than a scan.
            let digits = if frac.is_multiple_of(1000) {
                if frac.is_multiple_of(100_000) {
                    1
                } else if frac.is_multiple_of(10_000) {
                    2
                } else {
                    3
                }
            } else if !frac.is_multiple_of(10) {
                6
            } else if !frac.is_multiple_of(100) {
                5
            } else {
                4
            };
            n += digits;
        }
        n
    });
    true
}

pub(crate) fn bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends bytes as a quoted standard base64 string (with padding).
pub(crate) fn base64(out: &mut Vec<u8>, data: &[u8]) {
    out.push(b'"');
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.push(B64[(n >> 18) as usize & 63]);
        out.push(B64[(n >> 12) as usize & 63]);
        out.push(B64[(n >> 6) as usize & 63]);
        out.push(B64[n as usize & 63]);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let b1 = rem.get(1).copied().unwrap_or(0);
        let n = (u32::from(rem[0]) << 16) | (u32::from(b1) << 8);
        out.push(B64[(n >> 18) as usize & 63]);
        out.push(B64[(n >> 12) as usize & 63]);
        if rem.len() == 2 {
            out.push(B64[(n >> 6) as usize & 63]);
        } else {
            out.push(b'=');
        }
        out.push(b'=');
    }
    out.push(b'"');
}

/// Writes a `serde_json::Value` compactly (key order of the map as stored).
pub(crate) fn value(out: &mut Vec<u8>, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => out.extend_from_slice(b"null"),
        serde_json::Value::Bool(b) => bool(out, *b),
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                float(out, f);
            } else {
                out.extend_from_slice(n.to_string().as_bytes());
            }
        }
        serde_json::Value::String(s) => string(out, s),
        serde_json::Value::Array(a) => {
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        serde_json::Value::Object(m) => {
            out.push(b'{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, k);
                out.push(b':');
                value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Re-indents one compact JSON document (as produced by this crate) with 4 spaces, for
/// `POWERTOOLS_DEV`. Works on bytes and only tracks string state, so it cannot fail.
pub(crate) fn pretty(src: &[u8], out: &mut Vec<u8>) {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if in_str {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                out.push(b);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if src.get(i + 1) == Some(&close) {
                    out.push(b);
                    out.push(close);
                    i += 2;
                    continue;
                }
                depth += 1;
                out.push(b);
                newline(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            b'\n' => {}
            _ => out.push(b),
        }
        i += 1;
    }
    out.push(b'\n');
}

fn newline(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    for _ in 0..depth {
        out.extend_from_slice(b"    ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_controls_quotes_and_backslash() {
        let out = s(|o| string(o, "a\"b\\c\nd\te\u{1}\u{7f}é✓"));
        assert_eq!(out, r#""a\"b\\c\nd\te\u0001\u007fé✓""#);
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\te\u{1}\u{7f}é✓");
    }

    #[test]
    fn non_finite_floats_are_strings() {
        assert_eq!(s(|o| float(o, f64::NAN)), "\"NaN\"");
        assert_eq!(s(|o| float(o, f64::INFINITY)), "\"Infinity\"");
        assert_eq!(s(|o| float(o, f64::NEG_INFINITY)), "\"-Infinity\"");
        assert_eq!(s(|o| float(o, 42.5)), "42.5");
        assert_eq!(s(|o| float(o, 1e300)), "1e300");
    }

    #[test]
    fn short_decimals_match_ryu() {
        let mut values = vec![
            0.0,
            -0.0,
            42.5,
            0.1,
            0.3,
            -1.25,
            3.0,
            123456.789,
            999_999_999.5,
            1e-6,
            1e-7,
            0.000123,
            1e9,
            2.5e-3,
        ];
        let mut x: u64 = 12345;
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let m = (x >> 20) as i64 % 2_000_000_000_000 - 1_000_000_000_000;
            values.push(m as f64 / 1e6);
            values.push(m as f64 / 1e3);
            values.push(f64::from_bits(x >> 2));
        }
        for v in values {
            if !v.is_finite() {
                continue;
            }
            let mut ours = Vec::new();
            float(&mut ours, v);
            let mut b = ryu::Buffer::new();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                b.format_finite(v),
                "{v:e}"
            );
        }
    }

    #[test]
    fn word_checks_agree_with_the_escape_table() {
        for b in 0..=255u8 {
            let want = ESCAPE[b as usize] == 0;
            for pos in 0..16 {
                let mut block = [b'x'; 16];
                block[pos] = b;
                let (lo, hi) = halves(&block);
                assert_eq!(clean_words(lo, hi), want, "byte {b:#x} at {pos}");
                assert_eq!(clean_words_swar(lo, hi), want, "byte {b:#x} at {pos}");
            }
            // Every short length, the byte at every position: the overlapping loads of
            // `short_clean` must see each byte.
            for len in 1..=SHORT_STR {
                for pos in 0..len {
                    let mut text = vec![b'x'; len];
                    text[pos] = b;
                    assert_eq!(short_clean(&text), want, "byte {b:#x} at {pos} of {len}");
                }
            }
        }
        assert!(short_clean(b""));
    }

    #[test]
    fn escaping_agrees_with_serde_json_on_all_positions() {
        let specials = [
            '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', '✓', ' ', 'a',
        ];
        // Past `SHORT_STR` too, so both the short and the long path are covered, with the
        // special character in every position (the short path's overlapping loads).
        for len in 0..(SHORT_STR + 9) {
            for pos in 0..len.max(1) {
                for &sp in &specials {
                    let text: String = (0..len).map(|i| if i == pos { sp } else { 'x' }).collect();
                    let mut out = b"pre".to_vec();
                    string(&mut out, &text);
                    assert_eq!(&out[..3], b"pre");
                    let out = out.split_off(3);
                    let back: String = serde_json::from_slice(&out).unwrap();
                    assert_eq!(back, text);
                    let mut body = b"\"".to_vec();
                    escape_into(&mut body, &text);
                    body.push(b'"');
                    assert_eq!(body, out, "{text:?}");
                    assert!(!out[1..out.len() - 1].iter().any(|&b| b < 0x20), "{text:?}");
                    let mut comma = b"pre".to_vec();
                    string_comma(&mut comma, &text);
                    assert_eq!(comma[3..comma.len() - 1], out[..], "{text:?}");
                    assert_eq!(comma.last(), Some(&b','));
                    // The one-copy key path writes the same bytes after the key, or nothing.
                    for key in [
                        "\"k\":",
                        "\"customer_tier\":",
                        "\"a_key_of_exactly_32_bytes_xxx\":",
                    ] {
                        let mut padded = [b' '; KEY_PAD];
                        padded[..key.len()].copy_from_slice(key.as_bytes());
                        let mut keyed = b"pre".to_vec();
                        if keyed_string_comma(&mut keyed, &padded, key.len(), &text) {
                            let mut want = format!("pre{key}").into_bytes();
                            want.extend_from_slice(&out);
                            want.push(b',');
                            assert_eq!(keyed, want, "{text:?}");
                        } else {
                            assert_eq!(keyed, b"pre", "{text:?}");
                            assert!(
                                text.len() > SHORT_STR
                                    || key.len() >= KEY_PAD
                                    || out.contains(&b'\\'),
                                "{text:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn debug_values_are_strings_unless_marked_json() {
        struct Marked(&'static str);
        impl fmt::Debug for Marked {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(JSON_MARKER)?;
                f.write_str(self.0)
            }
        }
        assert_eq!(s(|o| debug_value(o, &"a\"b")), r#""\"a\\\"b\"""#);
        assert_eq!(
            s(|o| debug_value(o, &Marked(r#"{"a":[1]}"#))),
            r#"{"a":[1]}"#
        );
        // A forged marker followed by invalid JSON stays a string.
        assert_eq!(s(|o| debug_value(o, &Marked("{nope"))), r#""{nope""#);
        assert_eq!(s(|o| debug_value(o, &format_args!(""))), r#""""#);
    }

    #[test]
    fn fast_integers_match_std() {
        for v in [0i64, 1, -1, 9, 10, 99, 100, -12345, i64::MAX, i64::MIN] {
            assert_eq!(s(|o| i64(o, v)), v.to_string());
        }
        // Every digit count, at and around each power of ten.
        let mut p: u64 = 1;
        loop {
            for v in [p - 1, p, p + 1, p.saturating_mul(5)] {
                assert_eq!(s(|o| u64(o, v)), v.to_string());
                let neg = -(v.min(i64::MAX as u64) as i64);
                assert_eq!(s(|o| i64(o, neg)), neg.to_string());
            }
            match p.checked_mul(10) {
                Some(n) => p = n,
                None => break,
            }
        }
        for v in [0u64, 7, 10, 1_000_000, u64::MAX] {
            assert_eq!(s(|o| u64(o, v)), v.to_string());
        }
    }

    #[test]
    fn big_integers_are_exact() {
        assert_eq!(s(|o| int(o, u128::MAX)), u128::MAX.to_string());
        assert_eq!(s(|o| int(o, i64::MIN)), i64::MIN.to_string());
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(s(|o| base64(o, input)), format!("\"{want}\""));
        }
    }

    #[test]
    fn pretty_indents_four_spaces_and_keeps_strings() {
        let src = br#"{"a":1,"b":{"c":"x,{y}:"},"d":[],"e":[1,2]}"#;
        let out = s(|o| pretty(src, o));
        assert_eq!(
            out,
            "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": \"x,{y}:\"\n    },\n    \"d\": [],\n    \"e\": [\n        1,\n        2\n    ]\n}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["b"]["c"], "x,{y}:");
    }
}
