//! A byte-level flattener for the JSON log lines seen in practice.
//!
//! It accepts a subset of what serde_json accepts (no exponents, no number that might not
//! print back as written, no escaped keys, no surrogate escapes, no nesting down to
//! [`MAX_DEPTH`], fewer than [`MAX_FIELDS`] fields) and produces exactly what the serde
//! flattener produces for it; for anything else it gives up and the caller falls back to
//! serde, so the output never differs. On success it also records the byte ranges of the
//! message that hold token bytes (keys and scalar values): the message's tokens are exactly
//! those ranges' tokens, which lets a segment build skip ranges it has already tokenized.

use super::paths::{NONE, ROOT};
use super::{Flat, Item, Kind, MAX_DEPTH, MAX_FIELDS};

/// Why the fast path stopped: the caller runs serde on the message instead.
pub(super) struct GiveUp;

type Step = Result<(), GiveUp>;

/// Bytes that end a run of plain string content: `"`, `\` and control characters.
#[inline]
fn plain_string_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A zero byte of `word ^ c` marks a byte equal to `c`; `b < 0x20` borrows out of
    // `b - 0x20` with its high bit clear. Both tests are exact once the bytes with the high
    // bit set (UTF-8 continuation and lead bytes) are masked out.
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let slash = has_zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | slash | control
}

/// The first byte at or after `from` of `b` that is `"`, `\` or a control character, or
/// the end of the input.
#[inline]
fn string_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        let hits = plain_string_bytes(u64::from_le_bytes(a));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

pub(super) struct Fast<'a, 'f> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    flat: &'f mut Flat,
}

impl<'a, 'f> Fast<'a, 'f> {
    /// Flattens the object at `start` of `message` (the first byte after leading
    /// whitespace, a `{`) into `flat`, whose buffers are empty.
    pub(super) fn run(message: &'a str, start: usize, flat: &'f mut Flat) -> Step {
        let mut p = Fast {
            s: message,
            b: message.as_bytes(),
            pos: start,
            flat,
        };
        p.object(0, ROOT)?;
        p.ws();
        if p.pos != p.b.len() {
            return Err(GiveUp);
        }
        Ok(())
    }

    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Notes a byte range that may hold tokens.
    #[inline]
    fn span(&mut self, start: usize, end: usize) {
        if end > start {
            self.flat.spans.push((start as u32, end as u32));
        }
    }

    /// The object at `pos`, at path `at` (`ROOT` for the message itself).
    fn object(&mut self, depth: usize, at: u32) -> Step {
        if depth >= MAX_DEPTH || self.flat.items.len() >= MAX_FIELDS {
            return Err(GiveUp);
        }
        self.pos += 1;
        self.ws();
        if self.peek() == b'}' {
            self.pos += 1;
            return Ok(());
        }
        let mut predicted = self.flat.paths.first(at);
        let mut prev = NONE;
        loop {
            if self.peek() != b'"' {
                return Err(GiveUp);
            }
            let id = self.key(at, predicted)?;
            if prev == NONE {
                if predicted != id {
                    self.flat.paths.set_first(at, id);
                }
            } else if self.flat.paths.next(prev) != id {
                self.flat.paths.set_next(prev, id);
            }
            prev = id;
            self.ws();
            if self.peek() != b':' {
                return Err(GiveUp);
            }
            self.pos += 1;
            self.ws();
            self.value(depth + 1, id)?;
            predicted = self.flat.paths.next(id);
            if !self.more_before(b'}')? {
                return Ok(());
            }
        }
    }

    /// After a member or an element: `,` (more follow, `true`) or `close` (done, `false`).
    #[inline]
    fn more_before(&mut self, close: u8) -> Result<bool, GiveUp> {
        self.ws();
        match self.peek() {
            b',' => {
                self.pos += 1;
                self.ws();
                Ok(true)
            }
            c if c == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(GiveUp),
        }
    }

    /// The key at `pos` (a quote) of an object at `at`: its path id. Most keys are the one
    /// the same object had at this place last time, checked with one compare.
    #[inline]
    fn key(&mut self, at: u32, predicted: u32) -> Result<u32, GiveUp> {
        let paths = &self.flat.paths;
        if predicted != NONE
            && paths.parent(predicted) == at
            && let Some(k) = paths.plain_key(predicted)
        {
            let k = k.as_bytes();
            let from = self.pos + 1;
            if self.b.get(from..from + k.len()) == Some(k)
                && self.b.get(from + k.len()) == Some(&b'"')
            {
                self.pos = from + k.len() + 1;
                self.flat.keys.push(predicted);
                return Ok(predicted);
            }
        }
        let (start, end) = self.plain_string()?;
        let key = self.s.get(start..end).ok_or(GiveUp)?;
        let id = self.flat.paths.child(at, key);
        // A path reached by two routes (`{"a.b":1}` and `{"a":{"b":1}}`) keeps the key of
        // the first; the message's own bytes are tokenized then.
        if self.flat.paths.plain_key(id) == Some(key) {
            self.flat.keys.push(id);
        } else {
            self.span(start, end);
        }
        Ok(id)
    }

    fn array(&mut self, depth: usize, at: u32) -> Step {
        if depth >= MAX_DEPTH || self.flat.items.len() >= MAX_FIELDS {
            return Err(GiveUp);
        }
        self.pos += 1;
        self.ws();
        if self.peek() == b']' {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0usize;
        loop {
            let id = self.flat.paths.element(at, i);
            self.value(depth + 1, id)?;
            if !self.more_before(b']')? {
                return Ok(());
            }
            i += 1;
        }
    }

    /// The value at `pos`, at path `at`.
    fn value(&mut self, depth: usize, at: u32) -> Step {
        match self.peek() {
            b'{' => self.object(depth, at),
            b'[' => self.array(depth, at),
            b'"' => self.string_value(at),
            b't' => self.literal(b"true", at),
            b'f' => self.literal(b"false", at),
            b'n' => self.literal(b"null", at),
            b'-' | b'0'..=b'9' => self.number(at),
            _ => Err(GiveUp),
        }
    }

    fn literal(&mut self, word: &'static [u8], at: u32) -> Step {
        let start = self.pos;
        let end = start + word.len();
        if self.b.get(start..end) != Some(word) {
            return Err(GiveUp);
        }
        self.pos = end;
        // The literal's text is the value serde prints for it.
        self.emit(at, start, end, Kind::Other)
    }

    /// Numbers whose serde text is their source text: integers of at most 18 digits (not
    /// `-0`), and decimals without exponent whose digits are the shortest round trip and
    /// which print in fixed notation.
    fn number(&mut self, at: u32) -> Step {
        let b = self.b;
        let start = self.pos;
        let mut p = start;
        let neg = b.get(p) == Some(&b'-');
        p += usize::from(neg);
        let int_start = p;
        while b.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        let int_len = p - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return Err(GiveUp);
        }
        let int_zero = b[int_start] == b'0';
        match b.get(p) {
            Some(b'e' | b'E') => return Err(GiveUp),
            Some(b'.') => {
                let frac_start = p + 1;
                p = frac_start;
                while b.get(p).is_some_and(u8::is_ascii_digit) {
                    p += 1;
                }
                let frac = &b[frac_start..p];
                let lead = frac.iter().take_while(|&&c| c == b'0').count();
                let significant = if int_zero {
                    frac.len() - lead
                } else {
                    int_len + frac.len()
                };
                let simple = !frac.is_empty()
                    && frac.len() <= 9
                    && int_len <= 9
                    && frac.last() != Some(&b'0')
                    && significant <= 15
                    && (!int_zero || lead <= 4);
                if !simple || matches!(b.get(p), Some(b'e' | b'E')) {
                    return Err(GiveUp);
                }
            }
            _ => {
                if int_len > 18 || (neg && int_zero) {
                    return Err(GiveUp);
                }
            }
        }
        self.pos = p;
        self.emit(at, start, p, Kind::Number)
    }

    /// The content range of the string at `pos` when it has no escapes; gives up on an
    /// escape or a control character (serde decides those).
    fn plain_string(&mut self) -> Result<(usize, usize), GiveUp> {
        let start = self.pos + 1;
        let end = string_end(self.b, start);
        if self.b.get(end) != Some(&b'"') {
            return Err(GiveUp);
        }
        self.pos = end + 1;
        Ok((start, end))
    }

    fn string_value(&mut self, at: u32) -> Step {
        let start = self.pos + 1;
        let mut end = string_end(self.b, start);
        if self.b.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return self.emit(at, start, end, Kind::String);
        }
        // Escapes: decode into the text buffer; the raw bytes hold the tokens.
        let flat = &mut *self.flat;
        if flat.items.len() >= MAX_FIELDS {
            return Err(GiveUp);
        }
        let v = flat.text.len();
        let mut run = start;
        loop {
            flat.text.push_str(self.s.get(run..end).ok_or(GiveUp)?);
            match self.b.get(end) {
                Some(b'"') => break,
                Some(b'\\') => {}
                _ => return Err(GiveUp),
            }
            let esc = self.b.get(end + 1).copied().ok_or(GiveUp)?;
            let decoded = match esc {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hex = self.b.get(end + 2..end + 6).ok_or(GiveUp)?;
                    let mut code = 0u32;
                    for &h in hex {
                        code = code * 16 + (h as char).to_digit(16).ok_or(GiveUp)?;
                    }
                    // Surrogates (pairs or lone) are left to serde.
                    let c = char::from_u32(code).ok_or(GiveUp)?;
                    end += 4;
                    c
                }
                _ => return Err(GiveUp),
            };
            flat.text.push(decoded);
            run = end + 2;
            end = string_end(self.b, run);
        }
        self.pos = end + 1;
        self.span(start, end);
        let flat = &mut *self.flat;
        flat.items.push(Item {
            path: at,
            start: v as u32,
            end: flat.text.len() as u32,
            kind: Kind::String,
            owned: true,
        });
        Ok(())
    }

    /// A field whose value is the message's bytes `start..end`.
    #[inline]
    fn emit(&mut self, at: u32, start: usize, end: usize, kind: Kind) -> Step {
        let flat = &mut *self.flat;
        if flat.items.len() >= MAX_FIELDS {
            return Err(GiveUp);
        }
        flat.items.push(Item {
            path: at,
            start: start as u32,
            end: end as u32,
            kind,
            owned: false,
        });
        Ok(())
    }
}
