//! The `%...%` regex subset (spec §7): validated and translated here, executed by the `regex`
//! crate.
//!
//! Why the `regex` crate rather than a hand-written engine: it is linear-time (AWS's "evaluation
//! time exceeded" failure cannot happen), has literal prefilters that keep term-pattern regexes
//! near memchr speed, and is heavily fuzzed. Its syntax is a superset of the documented subset,
//! so this module owns the subset: every character is checked against the allowed set, and the
//! accepted text is re-emitted token by token (literals as `\x{..}`, classes rebuilt) so no
//! `regex`-crate extension (groups, flags, class set operations, Unicode classes) can be reached.

use regex::Regex;

use crate::error::{ParseError, Span};

/// Upper bound on the compiled program, so a pattern like `%a{1000}{1000}%` is refused instead
/// of eating memory.
const SIZE_LIMIT: usize = 1 << 20;

/// Characters allowed as literals outside escapes (besides ASCII letters and digits).
fn is_symbol(b: u8) -> bool {
    matches!(
        b,
        b'_' | b'#' | b'=' | b'@' | b'/' | b';' | b',' | b'-' | b':' | b' '
    )
}

fn is_operator(b: u8) -> bool {
    matches!(
        b,
        b'^' | b'$' | b'?' | b'[' | b']' | b'{' | b'}' | b'|' | b'\\' | b'*' | b'+' | b'.'
    )
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    }
}

const DIGIT: &str = "0-9";
const SPACE: &str = "\\t\\n\\x0B\\f\\r ";
const WORD: &str = "0-9A-Za-z_";

struct Translator<'a> {
    body: &'a [u8],
    pos: usize,
    /// Offset of the body in the pattern, for spans.
    base: usize,
    out: String,
}

impl Translator<'_> {
    fn invalid(&self, at: usize, len: usize) -> ParseError {
        let end = (at + len).min(self.body.len());
        ParseError::InvalidRegexCharacter {
            term: String::from_utf8_lossy(&self.body[at..end]).into_owned(),
            span: Span::new(self.base + at, self.base + end),
        }
    }

    fn compile_error(&self, reason: &str) -> ParseError {
        ParseError::RegexCompile {
            reason: reason.to_owned(),
            span: Span::new(self.base.saturating_sub(1), self.base + self.body.len() + 1),
        }
    }

    /// Checks that every byte is in the allowed set before translating.
    fn check_charset(&self) -> Result<(), ParseError> {
        for (i, &b) in self.body.iter().enumerate() {
            if !(b.is_ascii_alphanumeric() || is_symbol(b) || is_operator(b)) {
                let len = if b < 0x80 { 1 } else { utf8_len(b) };
                return Err(self.invalid(i, len));
            }
        }
        Ok(())
    }

    /// An escape after `\`: returns the class text (for `\d`-style) or a literal char.
    fn escape(&mut self) -> Result<Escape, ParseError> {
        let at = self.pos;
        let Some(&c) = self.body.get(self.pos + 1) else {
            return Err(self.compile_error("trailing backslash"));
        };
        self.pos += 2;
        Ok(match c {
            b'd' => Escape::Class(DIGIT, false),
            b'D' => Escape::Class(DIGIT, true),
            b's' => Escape::Class(SPACE, false),
            b'S' => Escape::Class(SPACE, true),
            b'w' => Escape::Class(WORD, false),
            b'W' => Escape::Class(WORD, true),
            b'x' => {
                let hex = self.body.get(self.pos..self.pos + 2);
                let value = hex
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match value {
                    Some(v) => {
                        self.pos += 2;
                        Escape::Literal(char::from(v))
                    }
                    None => return Err(self.compile_error("\\x needs two hex digits")),
                }
            }
            c if is_operator(c) || is_symbol(c) => Escape::Literal(char::from(c)),
            // Other escape letters (\b, \n, ...) are not in the documented subset.
            _ => return Err(self.invalid(at, 2)),
        })
    }

    fn translate(&mut self) -> Result<(), ParseError> {
        while let Some(&b) = self.body.get(self.pos) {
            match b {
                b'\\' => match self.escape()? {
                    Escape::Class(set, false) => self.out.push_str(&format!("[{set}]")),
                    Escape::Class(set, true) => self.out.push_str(&format!("[^{set}]")),
                    Escape::Literal(c) => push_literal(&mut self.out, c),
                },
                b'[' => self.class()?,
                b'{' => self.repetition()?,
                b'^' | b'$' | b'?' | b'|' | b'*' | b'+' | b'.' => {
                    self.out.push(char::from(b));
                    self.pos += 1;
                }
                // A `]` or `}` that closes nothing is an ordinary character.
                _ => {
                    push_literal(&mut self.out, char::from(b));
                    self.pos += 1;
                }
            }
        }
        Ok(())
    }

    /// `{m}`, `{m,}`, `{m,n}`, `{,n}`.
    fn repetition(&mut self) -> Result<(), ParseError> {
        let rest = &self.body[self.pos + 1..];
        let Some(close) = rest.iter().position(|&b| b == b'}') else {
            return Err(self.compile_error("unclosed counted repetition"));
        };
        let inner = &rest[..close];
        let (lo, hi) = match inner.iter().position(|&b| b == b',') {
            None => (inner, None),
            Some(comma) => (&inner[..comma], Some(&inner[comma + 1..])),
        };
        let digits = |s: &[u8]| s.len() <= 4 && s.iter().all(u8::is_ascii_digit);
        let ok = digits(lo)
            && hi.is_none_or(digits)
            && !(lo.is_empty() && hi.is_none_or(<[u8]>::is_empty));
        if !ok {
            return Err(self.compile_error("invalid counted repetition"));
        }
        let lo = if lo.is_empty() {
            "0"
        } else {
            std::str::from_utf8(lo).unwrap_or("0")
        };
        match hi {
            None => self.out.push_str(&format!("{{{lo}}}")),
            Some(h) => {
                let h = std::str::from_utf8(h).unwrap_or("");
                self.out.push_str(&format!("{{{lo},{h}}}"));
            }
        }
        self.pos += close + 2;
        Ok(())
    }

    /// A bracket class, rebuilt item by item.
    fn class(&mut self) -> Result<(), ParseError> {
        self.pos += 1;
        self.out.push('[');
        if self.body.get(self.pos) == Some(&b'^') {
            self.out.push('^');
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(&b) = self.body.get(self.pos) else {
                return Err(self.compile_error("unclosed character class"));
            };
            if b == b']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            let start = match self.class_atom()? {
                ClassAtom::Set(text) => {
                    self.out.push_str(&text);
                    continue;
                }
                ClassAtom::Char(c) => c,
            };
            let is_range = self.body.get(self.pos) == Some(&b'-')
                && self.body.get(self.pos + 1).is_some_and(|&n| n != b']');
            if is_range {
                self.pos += 1;
                let end = match self.class_atom()? {
                    ClassAtom::Char(c) => c,
                    ClassAtom::Set(_) => return Err(self.compile_error("invalid class range")),
                };
                if end < start {
                    return Err(self.compile_error("invalid class range"));
                }
                push_literal(&mut self.out, start);
                self.out.push('-');
                push_literal(&mut self.out, end);
            } else {
                push_literal(&mut self.out, start);
            }
        }
        self.out.push(']');
        Ok(())
    }

    fn class_atom(&mut self) -> Result<ClassAtom, ParseError> {
        let b = self.body[self.pos];
        if b == b'\\' {
            return Ok(match self.escape()? {
                Escape::Class(set, false) => ClassAtom::Set(set.to_owned()),
                Escape::Class(set, true) => ClassAtom::Set(format!("[^{set}]")),
                Escape::Literal(c) => ClassAtom::Char(c),
            });
        }
        self.pos += 1;
        Ok(ClassAtom::Char(char::from(b)))
    }
}

enum Escape {
    Class(&'static str, bool),
    Literal(char),
}

enum ClassAtom {
    Set(String),
    Char(char),
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    }
}

/// Validates `body` (the text between `%` delimiters, found at byte `base` of the pattern)
/// against the documented subset and compiles it.
pub(crate) fn compile(body: &str, base: usize) -> Result<Regex, ParseError> {
    let mut t = Translator {
        body: body.as_bytes(),
        pos: 0,
        base,
        out: String::new(),
    };
    t.check_charset()?;
    t.translate()?;
    regex::RegexBuilder::new(&t.out)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| t.compile_error(&e.to_string().lines().last().unwrap_or("").to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::compile;

    fn is_match(re: &str, text: &str) -> bool {
        compile(re, 1).unwrap().is_match(text)
    }

    #[test]
    fn documented_subset_translates() {
        assert!(is_match("\\d{2,}x", "a12x"));
        assert!(!is_match("\\d{2,}x", "a1x"));
        assert!(is_match("a{,2}b", "b"));
        assert!(is_match("[^a-c]", "d"));
        assert!(!is_match("[^a-c]", "abc"));
        assert!(is_match("[\\d_]+$", "x_9"));
        assert!(is_match("\\x28abc\\x29", "(abc)"));
        assert!(is_match("a\\.b", "a.b"));
        assert!(!is_match("a\\.b", "axb"));
        assert!(is_match("[]a]", "]"));
        assert!(is_match("[a-]", "-"));
        assert!(is_match("\\w\\W\\s\\S", "a- x"));
        assert!(is_match("x}", "x}"));
    }

    #[test]
    fn rejects_outside_subset() {
        for bad in ["(a)", "\\(", "a!", "caf\u{e9}", "\\b", "a\"", "\t", "\\n"] {
            assert!(compile(bad, 1).is_err(), "{bad}");
        }
        for bad in [
            "[abc",
            "a{x}",
            "a{",
            "\\x4",
            "*a",
            "[z-a]",
            "a\\",
            "a{1000}{1000}",
        ] {
            assert!(compile(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_regex_crate_extensions_leak() {
        // Class set operators and nested classes of the regex crate are plain characters here.
        assert!(is_match("[--/]", "."));
        assert!(!is_match("[--/]", "a"));
        assert!(is_match("[[a]", "["));
    }
}
