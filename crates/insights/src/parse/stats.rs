//! `stats aggregates [by groups]` (spec §6.7). Which calls are aggregations is the binder's
//! business; the pipeline rules for two `stats` are in `validate`.

use super::Parser;
use crate::ast::{CommandKind, Stats};
use crate::error::Error;
use crate::lexer::Mode;

pub(super) fn stats(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let aggregates = p.named_list()?;
    let by = match p.eat_word("by", Mode::Operator)? {
        Some(_) => p.named_list()?,
        None => Vec::new(),
    };
    Ok(CommandKind::Stats(Stats { aggregates, by }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("stats.cases", include_str!("stats.cases"));
    }
}
