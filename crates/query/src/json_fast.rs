//! A byte-level pass over the JSON objects log lines usually are (no escapes, shallow,
//! integers or unread numbers) that finds the wanted fields without serde's per-token
//! machinery. It accepts only input it is sure serde accepts and reads the same way; on
//! anything else (escapes, control characters, deep nesting, a wanted non-integer number,
//! malformed text) it gives up and [`crate::json::extract`] runs the full parser.

use crate::fx::FxMap;
use crate::row::MAX_JSON_FIELDS;
use crate::value::Value;

/// Deeper nesting is left to the full parser (its depth rules then apply).
const MAX_NESTING: usize = 8;

/// A wanted scalar, borrowed from the message where it is text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Leaf<'t> {
    /// A string without escapes, as written.
    Str(&'t str),
    /// An integer that reads exactly as a double.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
}

impl Leaf<'_> {
    /// The value the full parser gives for this leaf.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Leaf::Str(s) => Value::Str(s.to_owned()),
            Leaf::Num(n) => Value::Num(n),
            Leaf::Bool(b) => Value::Bool(b),
        }
    }
}

/// Wanted fields found so far: the first few inline, so a typical event allocates nothing.
pub(crate) struct Found<'t> {
    inline: [(usize, Leaf<'t>); INLINE],
    len: usize,
    more: Vec<(usize, Leaf<'t>)>,
}

const INLINE: usize = 4;

impl<'t> Found<'t> {
    fn new() -> Self {
        Found {
            inline: [(0, Leaf::Bool(false)); INLINE],
            len: 0,
            more: Vec::new(),
        }
    }

    fn push(&mut self, item: (usize, Leaf<'t>)) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
            }
            None => self.more.push(item),
        }
    }

    /// The fields in document order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, Leaf<'t>)> + '_ {
        self.inline[..self.len].iter().chain(&self.more).copied()
    }
}

struct Scan<'t, 'w> {
    text: &'t str,
    at: usize,
    wanted: &'w FxMap<String, usize>,
    path: String,
    count: usize,
    found: Found<'t>,
}

/// The wanted fields of the object at the start of `text` (see [`crate::json::extract`] for
/// `whole`), or `None` when the full parser must decide.
pub(crate) fn extract<'t>(
    text: &'t str,
    wanted: &FxMap<String, usize>,
    whole: bool,
) -> Option<Found<'t>> {
    let mut s = Scan {
        text,
        at: 0,
        wanted,
        path: String::new(),
        count: 0,
        found: Found::new(),
    };
    s.ws();
    if s.peek()? != b'{' {
        return None;
    }
    s.value(0, true)?;
    if whole {
        s.ws();
        if s.at != text.len() {
            return None;
        }
    }
    Some(s.found)
}

impl<'t> Scan<'t, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// After a member or element: steps over `,` (false) or the container's `close` (true);
    /// anything else is malformed (None).
    fn closes(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let b = self.peek()?;
        if b != close && b != b',' {
            return None;
        }
        self.at += 1;
        Some(b == close)
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// A string without escapes or control characters; the cursor is on its opening quote.
    fn string(&mut self) -> Option<&'t str> {
        let text: &'t str = self.text;
        let bytes = text.as_bytes();
        let start = self.at + 1;
        let mut i = start;
        // Eight bytes at a time: the first byte that is a quote, a backslash or a control
        // character (the lowest flagged byte of these bit tricks is always a true hit).
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            let quote = x ^ (ONES * u64::from(b'"'));
            let slash = x ^ (ONES * u64::from(b'\\'));
            let hits = (quote.wrapping_sub(ONES) & !quote
                | slash.wrapping_sub(ONES) & !slash
                | x.wrapping_sub(ONES * 0x20) & !x)
                & HIGH;
            if hits != 0 {
                i += (hits.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.at = i + 1;
        text.get(start..i)
    }

    /// Whether some wanted path is the current one or continues it past a `.`.
    fn leads(&self) -> bool {
        let p = self.path.as_bytes();
        self.wanted.keys().any(|w| {
            let w = w.as_bytes();
            w.starts_with(p) && (w.len() == p.len() || w[p.len()] == b'.')
        })
    }

    /// Counts a scalar leaf; `want` says whether its path may be wanted.
    fn leaf(&mut self, want: bool, v: impl FnOnce() -> Option<Leaf<'t>>) -> Option<()> {
        if self.count >= MAX_JSON_FIELDS {
            return Some(());
        }
        self.count += 1;
        if want && let Some(&slot) = self.wanted.get(self.path.as_str()) {
            self.found.push((slot, v()?));
        }
        Some(())
    }

    /// One value at nesting `depth` (0 for the top object); `want` is false inside subtrees
    /// no wanted path runs through, where paths are not built.
    fn value(&mut self, depth: usize, want: bool) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'{' => {
                if depth >= MAX_NESTING {
                    return None;
                }
                self.at += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let len = self.path.len();
                    let key = self.string()?;
                    let child = want && {
                        if depth == 0 {
                            if key.starts_with('@') {
                                self.path.push('@');
                            }
                        } else {
                            self.path.push('.');
                        }
                        self.path.push_str(key);
                        self.leads()
                    };
                    self.eat(b':')?;
                    self.value(depth + 1, child)?;
                    self.path.truncate(len);
                    if self.closes(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                if depth >= MAX_NESTING {
                    return None;
                }
                self.at += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(());
                }
                let mut i = 0usize;
                loop {
                    let len = self.path.len();
                    let child = want && {
                        self.path.push('.');
                        self.path.push_str(&i.to_string());
                        self.leads()
                    };
                    self.value(depth + 1, child)?;
                    self.path.truncate(len);
                    if self.closes(b']')? {
                        return Some(());
                    }
                    i += 1;
                }
            }
            b'"' => {
                let s = self.string()?;
                self.leaf(want, || Some(Leaf::Str(s)))
            }
            b't' => self.literal("true", want, Some(Leaf::Bool(true))),
            b'f' => self.literal("false", want, Some(Leaf::Bool(false))),
            b'n' => self.literal("null", false, None),
            b'-' | b'0'..=b'9' => self.number(want),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str, want: bool, v: Option<Leaf<'t>>) -> Option<()> {
        if !self.text.get(self.at..)?.starts_with(word) {
            return None;
        }
        self.at += word.len();
        match v {
            Some(v) => self.leaf(want, || Some(v)),
            // null: no leaf.
            None => Some(()),
        }
    }

    /// A number in JSON's grammar. Wanted integers of up to 18 digits read exactly as serde
    /// reads them; other wanted numbers are left to serde.
    fn number(&mut self, want: bool) -> Option<()> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let mut i = start;
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match *bytes.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let int_digits = i - int_start;
        let mut integral = true;
        if bytes.get(i) == Some(&b'.') {
            integral = false;
            i += 1;
            let d = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == d {
                return None;
            }
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            integral = false;
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            let d = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == d {
                return None;
            }
        }
        if bytes.get(i).is_some_and(u8::is_ascii_digit) {
            // "01": serde rejects it.
            return None;
        }
        self.at = i;
        let text = self.text.get(start..i)?;
        self.leaf(want, || {
            if !integral || int_digits > 18 {
                return None;
            }
            // "-0" may read as a negative zero there; leave it to serde.
            text.parse::<i64>()
                .ok()
                .filter(|&n| n != 0 || !text.starts_with('-'))
                .map(|n| Leaf::Num(n as f64))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(names: &[&str]) -> FxMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, k)| ((*k).to_owned(), i))
            .collect()
    }

    #[test]
    fn agrees_with_the_full_parser_or_defers_to_it() {
        let w = wanted(&[
            "@@k", "a.b.0", "a.b.1.c", "s", "n", "a", "i", "neg", "f", "z",
        ]);
        for msg in [
            r#"{"a":{"b":[1,{"c":true}]},"n":null,"@k":"v","s":"x","i":-0,"neg":-12,"t":1.5e3} tail"#,
            r#" { "s" : "x" , "a" : { "b" : [ 7 ] } , "z" : false } "#,
            r#"{"s":"esc\"aped"}"#,
            r#"{"f":1.25}"#,
            r#"{"f":1.25,"s":"y"}"#,
            r#"{"s":"x","bad":01}"#,
            r#"{"s":"x","bad":1.}"#,
            r#"{"s":"x""#,
            r#"{"s":"x",}"#,
            r#"{"s":tru}"#,
            r#"[1]"#,
            r#"{"a":[[[[[[[[[[1]]]]]]]]]]}"#,
            "{\"s\":\"tab\there\"}",
            r#"{"s":"ünï","i":123456789012345678}"#,
            r#"{"i":1234567890123456789012}"#,
            r#"{}"#,
            r#"{"s":"a long value well past eight bytes","t":"another long one with \" inside"}"#,
            "{\"s\":\"a long value past eight bytes\u{1}x\"}",
            r#"{"s":"ééééééééééééééé\"x","i":1}"#,
        ] {
            for whole in [true, false] {
                let full = crate::json::extract_full(msg, &w, whole);
                if let Some(fast) = extract(msg, &w, whole) {
                    let fast: Vec<(usize, Value)> =
                        fast.iter().map(|(i, l)| (i, l.to_value())).collect();
                    assert_eq!(Some(fast), full, "{msg} whole={whole}");
                }
            }
        }
        assert!(extract(r#"{"s":"x","i":3}"#, &w, true).is_some());
        assert!(extract(r#"{"s":"esc\"aped"}"#, &w, true).is_none());
        assert!(extract(r#"{"f":1.25}"#, &w, true).is_none());
        assert!(extract(r#"{"g":1.25}"#, &w, true).is_some());
        let found = extract(r#"{"s":"a long value, ünïcode and 0123456789"}"#, &w, true);
        assert_eq!(
            found.map(|f| f.iter().collect::<Vec<_>>()),
            Some(vec![(3, Leaf::Str("a long value, ünïcode and 0123456789"))])
        );
        // More wanted fields than fit inline keep document order.
        let found = extract(r#"{"n":1,"a":2,"i":3,"neg":4,"z":5,"s":"x"}"#, &w, true);
        let slots: Vec<usize> = found
            .map(|f| f.iter().map(|(i, _)| i).collect())
            .unwrap_or_default();
        assert_eq!(slots, [4, 5, 6, 7, 9, 3]);
    }
}
