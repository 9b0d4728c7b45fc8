//! `fields` and `display` (spec §6.2, §6.3): the same item list, different column semantics.

use super::Parser;
use crate::ast::CommandKind;
use crate::error::Error;

pub(super) fn fields(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    Ok(CommandKind::Fields(p.named_list()?))
}

pub(super) fn display(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    Ok(CommandKind::Display(p.named_list()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("fields.cases", include_str!("fields.cases"));
    }
}
