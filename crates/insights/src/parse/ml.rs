//! `pattern`, `diff` and `anomaly` (spec §6.13, §6.15, §6.16): accepted here, their
//! heuristics live in the executor.

use super::Parser;
use crate::ast::{CommandKind, DiffPeriod};
use crate::error::Error;
use crate::lexer::{Mode, Tok};

pub(super) fn pattern(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    Ok(CommandKind::Pattern(p.expr()?))
}

pub(super) fn diff(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let t = p.peek(Mode::Operator)?;
    if !matches!(t.tok, Tok::Name { .. }) {
        return Ok(CommandKind::Diff(None));
    }
    let period = if t.is_word("previousDay") {
        DiffPeriod::PreviousDay
    } else if t.is_word("previousWeek") {
        DiffPeriod::PreviousWeek
    } else if t.is_word("previousMonth") {
        DiffPeriod::PreviousMonth
    } else {
        let t = t.clone();
        return Err(p.unexpected(&t, "previousDay, previousWeek or previousMonth"));
    };
    p.bump(Mode::Operator)?;
    Ok(CommandKind::Diff(Some(period)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("ml.cases", include_str!("ml.cases"));
    }
}
