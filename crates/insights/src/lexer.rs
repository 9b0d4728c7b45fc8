//! Tokens, lexed on demand by the parser.
//!
//! The parser asks for one token at a time and says whether it expects an operand: only then
//! does `/` start a regex literal, otherwise it is division (spec §2). Lexing is on demand for
//! exactly that reason.

use crate::ast::{Period, TimeUnit};
use crate::error::{Error, Span};

/// Whether the parser wants an operand (where `/` opens a regex) or an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Operand,
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Punct {
    Pipe,
    Comma,
    Colon,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A field or word. `plain` means one unquoted segment without `@`: only such a name can
    /// be a keyword, a command or a function name.
    Name {
        path: Vec<String>,
        plain: bool,
    },
    Str(String),
    Regex(String),
    Number(f64),
    Period(Period),
    Punct(Punct),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

impl Token {
    /// Whether this is the plain word `word` (keywords are case-insensitive).
    pub fn is_word(&self, word: &str) -> bool {
        match &self.tok {
            Tok::Name { path, plain: true } => path[0].eq_ignore_ascii_case(word),
            _ => false,
        }
    }

    /// The plain word, if this is one.
    pub fn word(&self) -> Option<&str> {
        match &self.tok {
            Tok::Name { path, plain: true } => Some(&path[0]),
            _ => None,
        }
    }

    pub fn is(&self, p: Punct) -> bool {
        self.tok == Tok::Punct(p)
    }
}

/// Words that can never be a bare field name (backtick them to use them as one).
pub(crate) const KEYWORDS: &[&str] = &[
    "and", "or", "not", "like", "in", "as", "by", "asc", "desc", "into",
];

pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Skips whitespace and `#` comments from `pos`.
pub(crate) fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let bytes = src.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => {
                pos = match memchr_newline(&bytes[pos..]) {
                    Some(i) => pos + i + 1,
                    None => bytes.len(),
                }
            }
            _ => break,
        }
    }
    pos
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

fn lexical(reason: impl Into<String>, start: usize, end: usize) -> Error {
    Error::Lexical {
        reason: reason.into(),
        span: Span::new(start, end),
    }
}

/// Lexes the token starting at or after `pos`.
pub(crate) fn lex(src: &str, pos: usize, mode: Mode) -> Result<Token, Error> {
    let start = skip_trivia(src, pos);
    let bytes = src.as_bytes();
    let Some(&b) = bytes.get(start) else {
        return Ok(Token {
            tok: Tok::Eof,
            span: Span::new(src.len(), src.len()),
        });
    };
    let punct = |p: Punct, len: usize| {
        Ok(Token {
            tok: Tok::Punct(p),
            span: Span::new(start, start + len),
        })
    };
    let next = bytes.get(start + 1).copied();
    match b {
        b'|' => punct(Punct::Pipe, 1),
        b',' => punct(Punct::Comma, 1),
        b':' => punct(Punct::Colon, 1),
        b'(' => punct(Punct::LParen, 1),
        b')' => punct(Punct::RParen, 1),
        b'[' => punct(Punct::LBracket, 1),
        b']' => punct(Punct::RBracket, 1),
        b'+' => punct(Punct::Plus, 1),
        b'-' => punct(Punct::Minus, 1),
        b'*' => punct(Punct::Star, 1),
        b'%' => punct(Punct::Percent, 1),
        b'^' => punct(Punct::Caret, 1),
        b'=' if next == Some(b'~') => punct(Punct::Match, 2),
        b'=' => punct(Punct::Eq, 1),
        b'!' if next == Some(b'=') => punct(Punct::Ne, 2),
        b'<' if next == Some(b'=') => punct(Punct::Le, 2),
        b'<' => punct(Punct::Lt, 1),
        b'>' if next == Some(b'=') => punct(Punct::Ge, 2),
        b'>' => punct(Punct::Gt, 1),
        b'/' if mode == Mode::Operator => punct(Punct::Slash, 1),
        b'/' => lex_regex(src, start),
        b'"' | b'\'' => lex_string(src, start),
        b'0'..=b'9' => lex_number(src, start),
        b'@' | b'`' => lex_name(src, start),
        b if is_ident_start(b) => lex_name(src, start),
        _ => {
            let c = src[start..].chars().next().unwrap_or('?');
            Err(lexical(
                format!("unexpected character {c:?}"),
                start,
                start + c.len_utf8(),
            ))
        }
    }
}

fn lex_string(src: &str, start: usize) -> Result<Token, Error> {
    let quote = src.as_bytes()[start] as char;
    let mut value = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Ok(Token {
                tok: Tok::Str(value),
                span: Span::new(start, start + 1 + i + 1),
            });
        }
        if c == '\\' {
            // Spec §2 [choice]: a backslash makes the next character literal.
            match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => break,
            }
        } else {
            value.push(c);
        }
    }
    Err(lexical("unterminated string", start, src.len()))
}

fn lex_regex(src: &str, start: usize) -> Result<Token, Error> {
    let mut pattern = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' => {
                return Ok(Token {
                    tok: Tok::Regex(pattern),
                    span: Span::new(start, start + 1 + i + 1),
                });
            }
            '\\' => match chars.next() {
                Some((_, '/')) => pattern.push('/'),
                Some((_, escaped)) => {
                    pattern.push('\\');
                    pattern.push(escaped);
                }
                None => break,
            },
            _ => pattern.push(c),
        }
    }
    Err(lexical("unterminated regular expression", start, src.len()))
}

fn lex_number(src: &str, start: usize) -> Result<Token, Error> {
    let bytes = src.as_bytes();
    let mut end = start;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    let number_end = end;
    while end < bytes.len() && bytes[end].is_ascii_alphabetic() {
        end += 1;
    }
    let unit_end = end;
    while end < bytes.len() && is_ident_char(bytes[end]) {
        end += 1;
    }
    let text = &src[start..end];
    if end != unit_end {
        return Err(lexical(format!("invalid number '{text}'"), start, end));
    }
    let amount: f64 = src[start..number_end]
        .parse()
        .map_err(|_| lexical(format!("invalid number '{text}'"), start, end))?;
    if !amount.is_finite() {
        return Err(lexical(
            format!("number '{text}' is out of range"),
            start,
            end,
        ));
    }
    let span = Span::new(start, end);
    if number_end == unit_end {
        return Ok(Token {
            tok: Tok::Number(amount),
            span,
        });
    }
    match TimeUnit::from_word(&src[number_end..unit_end]) {
        Some(unit) => Ok(Token {
            tok: Tok::Period(Period { amount, unit }),
            span,
        }),
        None => Err(lexical(
            format!("invalid number or time period '{text}'"),
            start,
            end,
        )),
    }
}

fn lex_name(src: &str, start: usize) -> Result<Token, Error> {
    let bytes = src.as_bytes();
    let mut pos = start;
    let mut path = Vec::new();
    let mut plain = true;
    let at = bytes[pos] == b'@';
    if at {
        pos += 1;
        plain = false;
    }
    let (first, end) = match bytes.get(pos) {
        Some(b'`') => {
            plain = false;
            lex_backtick(src, pos)?
        }
        Some(&b) if is_ident_start(b) => ident_run(src, pos),
        _ => {
            return Err(lexical(
                "expected a field name after '@'",
                start,
                (pos + 1).min(src.len()),
            ));
        }
    };
    path.push(if at { format!("@{first}") } else { first });
    pos = end;
    loop {
        match (bytes.get(pos), bytes.get(pos + 1)) {
            (Some(b'.'), Some(b'`')) => {
                let (segment, end) = lex_backtick(src, pos + 1)?;
                path.push(segment);
                pos = end;
            }
            (Some(b'.'), Some(&b)) if is_ident_char(b) => {
                let (segment, end) = ident_run(src, pos + 1);
                path.push(segment);
                pos = end;
            }
            (Some(b'['), Some(b)) if b.is_ascii_digit() => {
                let (digits, end) = ident_run(src, pos + 1);
                if !digits.bytes().all(|b| b.is_ascii_digit()) || bytes.get(end) != Some(&b']') {
                    break;
                }
                path.push(digits);
                pos = end + 1;
            }
            _ => break,
        }
    }
    if path.len() > 1 {
        plain = false;
    }
    Ok(Token {
        tok: Tok::Name { path, plain },
        span: Span::new(start, pos),
    })
}

fn ident_run(src: &str, start: usize) -> (String, usize) {
    let bytes = src.as_bytes();
    let mut end = start;
    while end < bytes.len() && is_ident_char(bytes[end]) {
        end += 1;
    }
    (src[start..end].to_owned(), end)
}

/// Lexes `` `...` `` at `start`; returns the content and the end offset.
fn lex_backtick(src: &str, start: usize) -> Result<(String, usize), Error> {
    let rest = &src[start + 1..];
    match rest.find('`') {
        Some(0) => Err(lexical("empty name in backticks", start, start + 2)),
        Some(i) => Ok((rest[..i].to_owned(), start + 1 + i + 1)),
        None => Err(lexical("unterminated backtick name", start, src.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let t = lex(src, pos, Mode::Operand).unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            pos = t.span.end;
            out.push(t.tok);
        }
    }

    #[test]
    fn names_numbers_and_periods() {
        let name = |p: &[&str], plain| Tok::Name {
            path: p.iter().map(|s| s.to_string()).collect(),
            plain,
        };
        assert_eq!(
            toks("items.0.sku a[2].b @`x:y` json.`user.id` BY # c\n 5m 0.5 100MS"),
            vec![
                name(&["items", "0", "sku"], false),
                name(&["a", "2", "b"], false),
                name(&["@x:y"], false),
                name(&["json", "user.id"], false),
                name(&["BY"], true),
                Tok::Period(Period {
                    amount: 5.0,
                    unit: TimeUnit::Minute
                }),
                Tok::Number(0.5),
                Tok::Period(Period {
                    amount: 100.0,
                    unit: TimeUnit::Millisecond
                }),
            ]
        );
    }

    #[test]
    fn cases() {
        crate::testutil::run_cases("lexer.cases", include_str!("lexer.cases"));
    }

    #[test]
    fn slash_depends_on_mode() {
        assert_eq!(
            lex("/a\\/b\\d/", 0, Mode::Operand).unwrap().tok,
            Tok::Regex("a/b\\d".into())
        );
        assert_eq!(
            lex("/a/", 0, Mode::Operator).unwrap().tok,
            Tok::Punct(Punct::Slash)
        );
    }
}
