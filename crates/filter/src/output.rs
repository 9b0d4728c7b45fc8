//! Metric transformation values and dimensions (spec §10): `1`, `$.selector`, `$name`, `$N`.

use crate::ast::{Step, looks_numeric};
use crate::error::{ParseError, Span};
use crate::lexer::{Lexer, is_word};

/// A metric value or dimension expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueExpr {
    /// A number literal, published as is.
    Number(String, f64),
    /// `$.selector` on a JSON pattern.
    Json(Vec<Step>),
    /// `$name` on a space-delimited pattern.
    Field(String),
    /// `$N` (1-based) on a space-delimited pattern.
    Position(u32),
}

impl ValueExpr {
    pub(crate) fn parse(text: &str) -> Result<ValueExpr, ParseError> {
        let bad = || ParseError::Syntax {
            expected: "a number, '$.selector', '$name' or '$N'",
            found: format!("'{text}'"),
            span: Span::new(0, text.len()),
        };
        let trimmed = text.trim();
        if looks_numeric(trimmed) {
            return trimmed
                .parse()
                .map(|n| ValueExpr::Number(trimmed.to_owned(), n))
                .map_err(|_| bad());
        }
        let Some(rest) = trimmed.strip_prefix('$') else {
            return Err(bad());
        };
        if rest.starts_with('.') || rest.starts_with('[') {
            let start = text.len() - text.trim_start().len();
            let mut lx = Lexer::new(text, start, start + trimmed.len());
            let mut quotas = crate::parse::Quotas::default();
            let selector = crate::parse::selector(&mut lx, &mut quotas)?;
            if !lx.at_end() || selector.wildcards() > 0 {
                return Err(bad());
            }
            return Ok(ValueExpr::Json(selector.steps));
        }
        if rest.is_empty() || !rest.bytes().all(is_word) {
            return Err(bad());
        }
        if rest.bytes().all(|b| b.is_ascii_digit()) {
            return match rest.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(ValueExpr::Position(n)),
                _ => Err(bad()),
            };
        }
        Ok(ValueExpr::Field(rest.to_owned()))
    }
}
