//! PutLogEvents bodies decoded by hand: the one request that carries up to 1 MiB of messages,
//! most of them JSON text full of `\"` escapes. serde_json's string path copies each escaped
//! string twice (scratch buffer, then the `String`) and re-validates its UTF-8; here the body
//! is validated once, every message is unescaped in one pass into a reused scratch string and
//! copied once into a `String` of its exact size, and member names are borrowed from the body.
//!
//! The accepted language is what `serde_json::from_slice::<PutLogEventsRequest>` accepts for
//! a JSON object: the same member names, `null` for absent members, unknown members skipped
//! (their syntax still checked), duplicate members refused, integers only for timestamps,
//! nesting limited to 128 levels; only a body that is not UTF-8 is refused even where serde
//! would skip the bad bytes unread. A differential test holds the two decoders together.

use std::borrow::Cow;

use crate::shapes::{InputLogEvent, PutLogEventsRequest};
use crate::{ApiError, ErrorCode};

/// serde_json's recursion limit, so both decoders refuse the same inputs.
const MAX_DEPTH: usize = 128;

/// Decodes a PutLogEvents body (an empty or all-whitespace body is `{}`, as for every
/// operation). Errors are `SerializationException`s naming the byte offset.
pub fn decode_put_log_events(body: &[u8]) -> Result<PutLogEventsRequest, ApiError> {
    // One validation for the whole body: every slice taken below starts and ends at an ASCII
    // byte, so each is valid UTF-8 too.
    let text = std::str::from_utf8(body).map_err(|e| {
        serialization(format!(
            "invalid UTF-8 at byte {} of the request body",
            e.valid_up_to()
        ))
    })?;
    let mut p = Parser {
        text,
        pos: 0,
        scratch: Vec::new(),
    };
    p.ws();
    if p.pos == text.len() {
        return Ok(PutLogEventsRequest::default());
    }
    let req = p.request()?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.error("trailing characters after the JSON object"));
    }
    Ok(req)
}

fn serialization(what: String) -> ApiError {
    ApiError::new(
        ErrorCode::Serialization,
        format!("the request body could not be read as the operation's input: {what}"),
    )
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Where escaped strings are unescaped before being copied out.
    scratch: Vec<u8>,
}

/// Sets `slot` once; a member named twice is an error, as serde's derive makes it.
fn once<T>(
    slot: &mut Option<Option<T>>,
    value: Option<T>,
    name: &str,
    p: &Parser<'_>,
) -> Result<(), ApiError> {
    if slot.is_some() {
        return Err(p.error(&format!("duplicate member `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn error(&self, what: &str) -> ApiError {
        serialization(format!("{what} at byte {}", self.pos))
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8, what: &str) -> Result<(), ApiError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// `null` (true) or not (false, nothing consumed).
    fn null(&mut self) -> Result<bool, ApiError> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal("null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &str) -> Result<(), ApiError> {
        if self.rest().starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// Walks the members of an object (at its `{`), handing each value to `member` with the
    /// parser at the value.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &str) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        self.expect(b'{', "expected an object")?;
        self.ws();
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expected `:`")?;
            self.ws();
            member(self, &key)?;
            self.ws();
            if self.eat(b',') {
                continue;
            }
            return self.expect(b'}', "expected `,` or `}`");
        }
    }

    fn request(&mut self) -> Result<PutLogEventsRequest, ApiError> {
        let (mut group, mut stream, mut events, mut token) = (None, None, None, None);
        self.object(|p, key| match key {
            "logGroupName" => {
                let v = p.opt_string()?;
                once(&mut group, v, key, p)
            }
            "logStreamName" => {
                let v = p.opt_string()?;
                once(&mut stream, v, key, p)
            }
            "sequenceToken" => {
                let v = p.opt_string()?;
                once(&mut token, v, key, p)
            }
            "logEvents" => {
                let v = p.events()?;
                once(&mut events, v, key, p)
            }
            _ => p.skip_value(1),
        })?;
        Ok(PutLogEventsRequest {
            log_group_name: group.flatten(),
            log_stream_name: stream.flatten(),
            log_events: events.flatten(),
            sequence_token: token.flatten(),
        })
    }

    fn events(&mut self) -> Result<Option<Vec<InputLogEvent>>, ApiError> {
        if self.null()? {
            return Ok(None);
        }
        self.expect(b'[', "expected an array of log events")?;
        // A 1 MiB batch holds at most 10,000 events; a rough guess from the body size saves
        // the doublings.
        let mut out = Vec::with_capacity((self.text.len() / 256).clamp(4, 10_000));
        self.ws();
        if self.eat(b']') {
            return Ok(Some(out));
        }
        loop {
            self.ws();
            out.push(self.event()?);
            self.ws();
            if self.eat(b',') {
                continue;
            }
            self.expect(b']', "expected `,` or `]`")?;
            return Ok(Some(out));
        }
    }

    fn event(&mut self) -> Result<InputLogEvent, ApiError> {
        if self.peek() != Some(b'{') {
            return Err(self.error("expected a log event object"));
        }
        let (mut timestamp, mut message) = (None, None);
        self.object(|p, key| match key {
            "timestamp" => {
                let v = p.opt_i64()?;
                once(&mut timestamp, v, key, p)
            }
            "message" => {
                let v = if p.null()? {
                    None
                } else {
                    Some(p.string()?.into_owned())
                };
                once(&mut message, v, key, p)
            }
            _ => p.skip_value(2),
        })?;
        Ok(InputLogEvent {
            timestamp: timestamp.flatten(),
            message: message.flatten(),
        })
    }

    fn opt_string(&mut self) -> Result<Option<String>, ApiError> {
        if self.null()? {
            return Ok(None);
        }
        Ok(Some(self.string()?.into_owned()))
    }

    fn opt_i64(&mut self) -> Result<Option<i64>, ApiError> {
        if self.null()? {
            return Ok(None);
        }
        let start = self.pos;
        let integer = self.number()?;
        let digits = &self.text[start..self.pos];
        match digits.parse::<i64>() {
            // serde_json reads `-0` as the float -0.0.
            Ok(v) if integer && digits != "-0" => Ok(Some(v)),
            _ => {
                self.pos = start;
                Err(self.error(&format!("timestamp {digits} is not an integer of 64 bits")))
            }
        }
    }

    /// A JSON number; returns whether it is an integer (no fraction, no exponent).
    fn number(&mut self) -> Result<bool, ApiError> {
        let b = self.bytes();
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = b.get(i) {
                    i += 1;
                }
            }
            _ => {
                self.pos = i;
                return Err(self.error("expected a value"));
            }
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            integer = false;
            i = self.digits(b, i + 1)?;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            integer = false;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            i = self.digits(b, i)?;
        }
        if let Some(b'0'..=b'9') = b.get(i) {
            // A leading zero followed by digits.
            self.pos = i;
            return Err(self.error("invalid number"));
        }
        self.pos = i;
        Ok(integer)
    }

    /// The end of the run of at least one digit starting at `i` (a fraction or an exponent).
    fn digits(&mut self, b: &[u8], mut i: usize) -> Result<usize, ApiError> {
        let first = i;
        while let Some(b'0'..=b'9') = b.get(i) {
            i += 1;
        }
        if i == first {
            self.pos = i;
            return Err(self.error("invalid number"));
        }
        Ok(i)
    }

    /// A string (the parser at its opening quote): borrowed from the body unless it has
    /// escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, ApiError> {
        if !self.eat(b'"') {
            return Err(self.error("expected a string"));
        }
        let start = self.pos;
        let end = special(self.bytes(), start);
        match self.bytes().get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(Cow::Borrowed(&self.text[start..end]))
            }
            Some(b'\\') => {
                let mut out = std::mem::take(&mut self.scratch);
                out.clear();
                out.extend_from_slice(&self.bytes()[start..end]);
                self.pos = end;
                let done = self.unescape(&mut out);
                // Exactly sized; the bytes are UTF-8 (slices of the text and encoded chars),
                // so the check cannot fail, only cost a fast ASCII pass.
                let owned = done.and_then(|()| {
                    String::from_utf8(out.clone())
                        .map_err(|_| self.error("invalid UTF-8 after unescaping"))
                });
                self.scratch = out;
                owned.map(Cow::Owned)
            }
            Some(_) => {
                self.pos = end;
                Err(self.error("control character in a string"))
            }
            None => {
                self.pos = end;
                Err(self.error("unterminated string"))
            }
        }
    }

    /// Copies the rest of a string (the parser inside it, at a backslash or later) into
    /// `out`, resolving escapes; leaves the parser after the closing quote.
    ///
    /// Messages are dense with escapes (JSON logged as text: a `\"` every dozen bytes), so
    /// the run between two escapes is copied as whole 8-byte words: a word is written even
    /// when a special byte ends the run inside it, and the write position then advances
    /// only past the run. `out` keeps 8 spare bytes for that.
    fn unescape(&mut self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let b = self.bytes();
        let mut i = self.pos;
        let mut j = out.len();
        loop {
            if out.len() < j + 8 {
                out.resize((j + 8).max(out.len() * 2).max(256), 0);
            }
            if let Some(chunk) = b.get(i..i + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                out[j..j + 8].copy_from_slice(&word);
                let hit = special_bytes(u64::from_le_bytes(word));
                if hit == 0 {
                    i += 8;
                    j += 8;
                    continue;
                }
                let k = (hit.trailing_zeros() / 8) as usize;
                i += k;
                j += k;
            } else if let Some(&c) = b.get(i)
                && c != b'"'
                && c != b'\\'
                && c >= 0x20
            {
                out[j] = c;
                i += 1;
                j += 1;
                continue;
            }
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    out.truncate(j);
                    return Ok(());
                }
                Some(b'\\') => {
                    // Most escapes in logged JSON are quotes: a predictable branch ahead of
                    // the jump table.
                    if b.get(i + 1) == Some(&b'"') {
                        out[j] = b'"';
                        i += 2;
                        j += 1;
                        continue;
                    }
                    let c = match b.get(i + 1) {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 8,
                        Some(b'f') => 12,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            self.pos = i + 2;
                            let ch = self.unicode_escape()?;
                            i = self.pos;
                            let n = ch.encode_utf8(&mut [0u8; 4]).len();
                            ch.encode_utf8(&mut out[j..j + n]);
                            j += n;
                            continue;
                        }
                        _ => {
                            self.pos = i + 1;
                            return Err(self.error("invalid escape"));
                        }
                    };
                    out[j] = c;
                    i += 2;
                    j += 1;
                }
                Some(_) => {
                    self.pos = i;
                    return Err(self.error("control character in a string"));
                }
                None => {
                    self.pos = i;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    /// After `\u`: the character, joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, ApiError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.rest().starts_with(b"\\u") {
                    return Err(self.error("lone leading surrogate in a \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("invalid surrogate pair in a \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in a \\u escape")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, ApiError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    /// Skips any value, checking its syntax; `depth` counts the containers around it.
    fn skip_value(&mut self, depth: usize) -> Result<(), ApiError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(|p, _| p.skip_value(depth + 1)),
            Some(b'[') => {
                self.pos += 1;
                self.ws();
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    return self.expect(b']', "expected `,` or `]`");
                }
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            _ => self.number().map(drop),
        }
    }
}

#[cfg(test)]
mod tests;

/// The index of the first `"`, `\` or control character at or after `from` (the length if
/// none), eight bytes per step.
#[inline]
fn special(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let hit = special_bytes(u64::from_le_bytes(word));
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
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

/// The high bit of (at least) the lowest byte of `w` (little-endian) that is `"`, `\` or a
/// control character; zero when there is none. Bytes above a match may be flagged falsely,
/// which readers of the lowest set bit never see.
#[inline]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * u64::from(b'"'));
    let slash = w ^ (ONES * u64::from(b'\\'));
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero_in(quote) | zero_in(slash) | control) & HIGH
}
