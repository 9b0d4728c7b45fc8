//! `limit N`, and its old spellings `head N` / `tail N` (spec §3, §6.9).

use super::Parser;
use crate::MAX_LIMIT;
use crate::ast::CommandKind;
use crate::error::Error;
use crate::lexer::{Mode, Tok};

pub(super) fn limit(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let t = p.bump(Mode::Operand)?;
    let text = p.text(t.span);
    let invalid = || Error::InvalidLimit {
        max: MAX_LIMIT,
        found: match t.tok {
            Tok::Eof => "end of query".to_owned(),
            _ => format!("'{text}'"),
        },
        span: t.span,
    };
    // The number's text, not its value, decides: `10.0` is not an integer.
    if !matches!(t.tok, Tok::Number(_)) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(CommandKind::Limit(n)),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("limit.cases", include_str!("limit.cases"));
    }
}
