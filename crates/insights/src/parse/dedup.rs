//! `dedup f1, f2, ...` (spec §6.11); only `limit` may follow, checked in `validate`.

use super::Parser;
use crate::ast::CommandKind;
use crate::error::Error;
use crate::lexer::{Mode, Punct};

pub(super) fn dedup(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let mut fields = vec![p.field("a field name")?];
    while p.eat(Punct::Comma, Mode::Operator)?.is_some() {
        fields.push(p.field("a field name")?);
    }
    Ok(CommandKind::Dedup(fields))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("dedup.cases", include_str!("dedup.cases"));
    }
}
