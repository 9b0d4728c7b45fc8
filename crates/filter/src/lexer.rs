//! Character-level lexing shared by the three pattern grammars. The grammars are context
//! sensitive (a `*` is a value in one place and an error in another), so the parser asks for
//! the token kind it expects instead of consuming a pre-built token stream.

use crate::error::{ParseError, Span};

/// Whitespace as the spec defines it: space, tab, CR, LF.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `[A-Za-z0-9_]`: words of term patterns and space-delimited field names.
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pub(crate) pos: usize,
    end: usize,
}

impl<'a> Lexer<'a> {
    /// Lexes `src[start..end]`; spans stay relative to `src`.
    pub(crate) fn new(src: &'a str, start: usize, end: usize) -> Self {
        Lexer {
            src,
            pos: start,
            end,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.peek_at(0)
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        let i = self.pos + n;
        if i < self.end {
            self.src.as_bytes().get(i).copied()
        } else {
            None
        }
    }

    /// The source text of `span`.
    pub(crate) fn text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub(crate) fn bump(&mut self) {
        self.pos += 1;
    }

    /// Skips whitespace; true when there was some.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn eat_str(&mut self, s: &str) -> bool {
        let bytes = s.as_bytes();
        if (0..bytes.len()).all(|i| self.peek_at(i) == Some(bytes[i])) {
            self.pos += bytes.len();
            true
        } else {
            false
        }
    }

    /// Consumes bytes while `f` holds and returns them.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        // Only ASCII predicates are used, so both ends are char boundaries.
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// A syntax error at the current position.
    pub(crate) fn expected(&self, expected: &'static str) -> ParseError {
        let found = match self
            .src
            .get(self.pos..self.end)
            .and_then(|s| s.chars().next())
        {
            None => "end of pattern".to_owned(),
            Some(c) => format!("'{c}'"),
        };
        let len = self
            .src
            .get(self.pos..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8);
        ParseError::Syntax {
            expected,
            found,
            span: Span::new(self.pos, self.pos + len),
        }
    }

    /// The character at the current position as an invalid-character error.
    pub(crate) fn invalid_char(&self) -> ParseError {
        let c = self
            .src
            .get(self.pos..)
            .and_then(|s| s.chars().next())
            .unwrap_or(' ');
        ParseError::InvalidCharacter {
            term: c.to_string(),
            span: Span::new(self.pos, self.pos + c.len_utf8()),
        }
    }

    /// A `"..."` literal at the current position; `\"` and `\\` are escapes, any other
    /// backslash is kept.
    pub(crate) fn quoted(&mut self) -> Result<(String, Span), ParseError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError::Syntax {
                        expected: "closing '\"'",
                        found: "end of pattern".to_owned(),
                        span: Span::new(start, self.pos),
                    });
                }
                Some(b'"') => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    self.bump();
                    return Ok((out, Span::new(start, self.pos)));
                }
                Some(b'\\') if matches!(self.peek_at(1), Some(b'"' | b'\\')) => {
                    out.push_str(self.src.get(run..self.pos).unwrap_or(""));
                    self.bump();
                    run = self.pos;
                    self.bump();
                }
                Some(_) => self.bump(),
            }
        }
    }

    /// A `%...%` literal at the current position: the body and the span of the whole literal.
    pub(crate) fn regex(&mut self) -> Result<(&'a str, Span), ParseError> {
        let start = self.pos;
        self.bump();
        let body = self.take_while(|b| b != b'%');
        if !self.eat(b'%') {
            return Err(ParseError::Syntax {
                expected: "closing '%'",
                found: "end of pattern".to_owned(),
                span: Span::new(start, self.pos),
            });
        }
        if body.is_empty() {
            return Err(ParseError::Syntax {
                expected: "a regular expression",
                found: "'%'".to_owned(),
                span: Span::new(start, self.pos),
            });
        }
        Ok((body, Span::new(start, self.pos)))
    }
}
