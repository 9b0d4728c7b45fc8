//! `unnest field into name` (spec §6.12).

use super::Parser;
use crate::ast::CommandKind;
use crate::error::Error;
use crate::lexer::Mode;

pub(super) fn unnest(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let field = p.field("a field name")?;
    if p.eat_word("into", Mode::Operator)?.is_none() {
        let t = p.bump(Mode::Operator)?;
        return Err(p.unexpected(&t, "'into'"));
    }
    let into = p.ident("a name after 'into'")?;
    Ok(CommandKind::Unnest { field, into })
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("unnest.cases", include_str!("unnest.cases"));
    }
}
