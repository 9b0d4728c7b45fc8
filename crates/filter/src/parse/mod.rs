//! Hand-written recursive-descent parsers for the three pattern kinds (spec §2).

mod json;
pub(crate) use json::selector;
mod space;
mod terms;

use crate::ast::{Ast, CmpOp, RegexLit, Value, looks_numeric};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, is_ws};

/// Longest accepted pattern, in characters (spec §1).
pub(crate) const MAX_CHARS: usize = 1024;
/// Most `%...%` literals in one pattern (spec §5.4, §7).
const MAX_REGEXES: usize = 2;
/// Most wildcard selectors in one JSON pattern (spec §5.4).
const MAX_WILDCARD_SELECTORS: usize = 3;
/// Deepest parenthesis nesting; bounds parser and evaluator recursion.
pub(crate) const MAX_DEPTH: usize = 64;

/// Per-pattern counters for the quotas.
#[derive(Default)]
pub(crate) struct Quotas {
    regexes: usize,
    wildcard_selectors: usize,
}

impl Quotas {
    fn regex(&mut self, span: Span) -> Result<(), ParseError> {
        self.regexes += 1;
        if self.regexes > MAX_REGEXES {
            return Err(ParseError::TooManyRegexes { span });
        }
        Ok(())
    }

    fn wildcard_selector(&mut self, span: Span) -> Result<(), ParseError> {
        self.wildcard_selectors += 1;
        if self.wildcard_selectors > MAX_WILDCARD_SELECTORS {
            return Err(ParseError::TooManyWildcardSelectors { span });
        }
        Ok(())
    }
}

/// Parses a whole pattern.
pub(crate) fn parse(pattern: &str) -> Result<Ast, ParseError> {
    let chars = pattern.chars().count();
    if chars > MAX_CHARS {
        return Err(ParseError::TooLong {
            chars,
            pattern: pattern.to_owned(),
        });
    }
    let bytes = pattern.as_bytes();
    let mut start = 0;
    let mut end = bytes.len();
    while start < end && is_ws(bytes[start]) {
        start += 1;
    }
    while end > start && is_ws(bytes[end - 1]) {
        end -= 1;
    }
    let mut quotas = Quotas::default();
    let mut lx = Lexer::new(pattern, start, end);
    match lx.peek() {
        None => Ok(Ast::MatchAll),
        Some(b'{') => {
            if bytes[end - 1] != b'}' || end - start < 2 {
                return Err(ParseError::UnclosedJson {
                    span: Span::new(start, end),
                });
            }
            json::parse(&mut lx, &mut quotas).map(Ast::Json)
        }
        Some(b'[') => space::parse(&mut lx, &mut quotas).map(Ast::Space),
        Some(_) => terms::parse(&mut lx, &mut quotas).map(Ast::Terms),
    }
}

/// A comparison operator at the current position, if any. `==` is an error (spec §5.1).
fn cmp_op(lx: &mut Lexer<'_>) -> Result<Option<CmpOp>, ParseError> {
    let op = match (lx.peek(), lx.peek_at(1)) {
        (Some(b'='), Some(b'=')) => {
            lx.bump();
            return Err(lx.expected("a value ('==' is not an operator)"));
        }
        (Some(b'='), _) => CmpOp::Eq,
        (Some(b'!'), Some(b'=')) => CmpOp::Ne,
        (Some(b'!'), _) => {
            lx.bump();
            return Err(lx.expected("'='"));
        }
        (Some(b'<'), Some(b'=')) => CmpOp::Le,
        (Some(b'<'), _) => CmpOp::Lt,
        (Some(b'>'), Some(b'=')) => CmpOp::Ge,
        (Some(b'>'), _) => CmpOp::Gt,
        _ => return Ok(None),
    };
    let len = op.as_str().len();
    for _ in 0..len {
        lx.bump();
    }
    Ok(Some(op))
}

/// A literal after a comparison operator. `stop` ends a bare value.
fn value(
    lx: &mut Lexer<'_>,
    quotas: &mut Quotas,
    op: CmpOp,
    stop: fn(u8) -> bool,
) -> Result<Value, ParseError> {
    lx.skip_ws();
    let start = lx.pos;
    let value = match lx.peek() {
        Some(b'"') => Value::Str(lx.quoted()?.0),
        Some(b'%') => {
            let (body, span) = lx.regex()?;
            crate::regex::compile(body, span.start + 1)?;
            quotas.regex(span)?;
            Value::Regex(RegexLit {
                body: body.to_owned(),
            })
        }
        _ => {
            let text = lx.take_while(|b| !stop(b));
            if text.is_empty() {
                return Err(lx.expected("a value"));
            }
            // AWS refuses a bare null (spec §5.1); `IS NULL` is the way to test for it.
            if text == "null" {
                lx.pos = start;
                return Err(lx.expected("a value other than null (use IS NULL)"));
            }
            match text.parse::<f64>() {
                Ok(n) if looks_numeric(text) => Value::Num(text.to_owned(), n),
                _ => Value::Str(text.to_owned()),
            }
        }
    };
    if op.is_ordering() && !matches!(value, Value::Num(..)) {
        let span = Span::new(start, lx.pos);
        return Err(ParseError::InvalidCharacter {
            term: lx_text(lx, span),
            span,
        });
    }
    Ok(value)
}

fn lx_text(lx: &Lexer<'_>, span: Span) -> String {
    lx.text(span).to_owned()
}
