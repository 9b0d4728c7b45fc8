//! `filter` and `filterIndex` (spec §6.5, §6.6).

use super::Parser;
use super::expr::is_literal;
use crate::ast::{BinaryOp, CommandKind, ExprKind};
use crate::error::{Error, Span};

pub(super) fn filter(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    Ok(CommandKind::Filter(p.expr()?))
}

/// `filterIndex` only takes `field = literal` or `field in [literals]`, because an index can
/// answer nothing else.
pub(super) fn filter_index(p: &mut Parser<'_>) -> Result<CommandKind, Error> {
    let start = p.end();
    let expr = p.expr()?;
    let supported = match &expr.kind {
        ExprKind::Binary(BinaryOp::Eq, l, r) => {
            matches!(l.kind, ExprKind::Field(_)) && is_literal(r)
        }
        ExprKind::In {
            expr: l,
            list,
            negated: false,
        } => matches!(l.kind, ExprKind::Field(_)) && list.iter().all(is_literal),
        _ => false,
    };
    if !supported {
        return Err(Error::Syntax {
            expected: "'field = value' or 'field in [values]' after filterIndex",
            found: format!("'{}'", p.text(expr.span)),
            span: Span::new(expr.span.start.max(start), expr.span.end),
        });
    }
    Ok(CommandKind::FilterIndex(expr))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("filter.cases", include_str!("filter.cases"));
    }
}
