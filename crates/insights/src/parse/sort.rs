//! `sort key [asc|desc], ...` (spec §6.8).

use super::Parser;
use crate::ast::{CommandKind, SortKey, SortOrder};
use crate::error::Error;
use crate::lexer::{Mode, Punct};

pub(super) fn sort(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let mut keys = Vec::new();
    loop {
        let expr = p.expr()?;
        let order = if p.eat_word("desc", Mode::Operator)?.is_some() {
            SortOrder::Desc
        } else {
            p.eat_word("asc", Mode::Operator)?;
            SortOrder::Asc
        };
        keys.push(SortKey { expr, order });
        if p.eat(Punct::Comma, Mode::Operator)?.is_none() {
            return Ok(CommandKind::Sort(keys));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("sort.cases", include_str!("sort.cases"));
    }
}
