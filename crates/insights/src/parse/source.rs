//! `SOURCE logGroups(...)` and the rewritten `SOURCE "group" START=... END=...` (spec §6.14).

use super::Parser;
use crate::ast::{Source, SourceArg, SourceKey, SourceSelection, TimeBound};
use crate::error::{Error, Span};
use crate::lexer::{Mode, Punct, Tok};

/// Parses `SOURCE ...`; the caller has seen the word.
pub(super) fn source(p: &mut Parser<'_>) -> Result<Source, Error> {
    let start = p.bump(Mode::Operand)?.span.start;
    let t = p.peek(Mode::Operand)?.clone();
    let selection = if t.is_word("logGroups") {
        p.bump(Mode::Operand)?;
        p.expect(Punct::LParen, Mode::Operator, "'(' after logGroups")?;
        log_groups_args(p)?
    } else if let Tok::Str(_) = t.tok {
        named(p)?
    } else {
        return Err(p.unexpected(&t, "logGroups(...) or a quoted log group name"));
    };
    Ok(Source {
        selection,
        span: Span::new(start, p.end()),
    })
}

/// After `logGroups(`: `[ key ":" list { "," key ":" list } ] ")"`.
fn log_groups_args(p: &mut Parser<'_>) -> Result<SourceSelection, Error> {
    let mut args = Vec::new();
    if p.eat(Punct::RParen, Mode::Operand)?.is_some() {
        return Ok(SourceSelection::LogGroups(args));
    }
    loop {
        let t = p.bump(Mode::Operand)?;
        let key = if t.is_word("namePrefix") {
            SourceKey::NamePrefix
        } else if t.is_word("accountIdentifiers") || t.is_word("accountIdentifier") {
            SourceKey::AccountIdentifiers
        } else if t.is_word("class") {
            SourceKey::Class
        } else {
            return Err(p.unexpected(&t, "namePrefix, accountIdentifiers or class"));
        };
        p.expect(Punct::Colon, Mode::Operator, "':'")?;
        p.expect(Punct::LBracket, Mode::Operand, "'['")?;
        let mut values = vec![string(p)?];
        while p.eat(Punct::Comma, Mode::Operator)?.is_some() {
            values.push(string(p)?);
        }
        p.expect(Punct::RBracket, Mode::Operator, "',' or ']'")?;
        args.push(SourceArg {
            key,
            values,
            span: Span::new(t.span.start, p.end()),
        });
        let t = p.bump(Mode::Operator)?;
        if t.is(Punct::RParen) {
            return Ok(SourceSelection::LogGroups(args));
        }
        if !t.is(Punct::Comma) {
            return Err(p.unexpected(&t, "',' or ')'"));
        }
    }
}

fn string(p: &mut Parser<'_>) -> Result<String, Error> {
    let t = p.bump(Mode::Operand)?;
    match t.tok {
        Tok::Str(s) => Ok(s),
        _ => Err(p.unexpected(&t, "a quoted string")),
    }
}

/// `"group" { "group" } [ "START=" bound "END=" bound ]`
fn named(p: &mut Parser<'_>) -> Result<SourceSelection, Error> {
    let mut groups = Vec::new();
    while let Tok::Str(_) = p.peek(Mode::Operand)?.tok {
        groups.push(string(p)?);
    }
    let range = if p.eat_word("START", Mode::Operand)?.is_some() {
        p.expect(Punct::Eq, Mode::Operator, "'=' after START")?;
        let start = bound(p)?;
        if p.eat_word("END", Mode::Operand)?.is_none() {
            let t = p.bump(Mode::Operand)?;
            return Err(p.unexpected(&t, "END=..."));
        }
        p.expect(Punct::Eq, Mode::Operator, "'=' after END")?;
        Some((start, bound(p)?))
    } else {
        None
    };
    Ok(SourceSelection::Named { groups, range })
}

/// Epoch milliseconds, or a relative period such as `-3600s`.
fn bound(p: &mut Parser<'_>) -> Result<TimeBound, Error> {
    let negative = p.eat(Punct::Minus, Mode::Operand)?.is_some();
    let t = p.bump(Mode::Operand)?;
    match t.tok {
        Tok::Period(period) => Ok(TimeBound::Relative { negative, period }),
        Tok::Number(_) if !negative => match p.text(t.span).parse::<i64>() {
            Ok(ms) => Ok(TimeBound::Absolute(ms)),
            Err(_) => Err(p.unexpected(&t, "epoch milliseconds or a period such as -3600s")),
        },
        _ => Err(p.unexpected(&t, "epoch milliseconds or a period such as -3600s")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("source.cases", include_str!("source.cases"));
    }
}
