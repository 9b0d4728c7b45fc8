//! Pipeline rules that need no function catalogue (spec §6.7, §6.11, §12): at most two
//! `stats`; `sort`/`limit` only after the second; the second reads only what the first
//! produced and has no `bin()`; only `limit` after `dedup`. Rules that need to know what a
//! function is (unknown names, arity, aggregations outside `stats`) belong to the binder.

use std::collections::HashSet;

use crate::ast::{CommandKind, Expr, ExprKind, NamedExpr, ParsePattern, Query};
use crate::error::Error;

/// Maximum `stats` commands per query (spec §11.7).
const MAX_STATS: usize = 2;

pub(crate) fn check(query: &Query) -> Result<(), Error> {
    let commands = &query.commands;
    let stats: Vec<usize> = commands
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, CommandKind::Stats(_)))
        .map(|(i, _)| i)
        .collect();
    if let Some(&third) = stats.get(MAX_STATS) {
        return Err(Error::Pipeline {
            message: format!("a query can have at most {MAX_STATS} stats commands"),
            span: commands[third].span,
        });
    }
    if let [first, second] = stats[..] {
        for cmd in &commands[..second] {
            if matches!(cmd.kind, CommandKind::Sort(_) | CommandKind::Limit(_)) {
                return Err(Error::Pipeline {
                    message: format!(
                        "{} must come after the second stats command",
                        cmd.kind.keyword()
                    ),
                    span: cmd.span,
                });
            }
        }
        check_second_stats(&commands[first..=second])?;
    }
    let mut after_dedup = false;
    for cmd in commands {
        match cmd.kind {
            CommandKind::Dedup(_) => {
                if after_dedup {
                    return Err(only_limit_after_dedup(cmd.span));
                }
                after_dedup = true;
            }
            CommandKind::Limit(_) => {}
            _ if after_dedup => return Err(only_limit_after_dedup(cmd.span)),
            _ => {}
        }
    }
    Ok(())
}

fn only_limit_after_dedup(span: crate::Span) -> Error {
    Error::Pipeline {
        message: "only limit can follow dedup".to_owned(),
        span,
    }
}

/// `between` runs from the first `stats` to the second, both included.
fn check_second_stats(between: &[crate::ast::Command]) -> Result<(), Error> {
    let mut available: HashSet<String> = HashSet::new();
    let (Some(first), Some(second)) = (between.first(), between.last()) else {
        return Ok(());
    };
    let CommandKind::Stats(first) = &first.kind else {
        return Ok(());
    };
    let CommandKind::Stats(second) = &second.kind else {
        return Ok(());
    };
    for item in first.by.iter().chain(&first.aggregates) {
        available.insert(item.name.clone());
    }
    for cmd in &between[1..between.len() - 1] {
        match &cmd.kind {
            CommandKind::Fields(items) | CommandKind::Display(items) => {
                for item in items {
                    if item.alias.is_some() || !matches!(item.expr.kind, ExprKind::Field(_)) {
                        available.insert(item.name.clone());
                    }
                }
            }
            CommandKind::Parse(p) => match &p.pattern {
                ParsePattern::Glob { aliases, .. } => {
                    available.extend(aliases.iter().map(|a| a.name.clone()))
                }
                ParsePattern::Regex(r) => available.extend(crate::regex::capture_names(&r.pattern)),
            },
            CommandKind::Unnest { into, .. } => {
                available.insert(into.name.clone());
            }
            _ => {}
        }
    }
    // Items of the second stats may use each other's aliases (`a - b as headroom`).
    let items: Vec<&NamedExpr> = second.by.iter().chain(&second.aggregates).collect();
    for item in &items {
        if let Some(alias) = &item.alias {
            available.insert(alias.name.clone());
        }
    }
    for item in items {
        check_reads(&item.expr, &available)?;
    }
    Ok(())
}

fn check_reads(expr: &Expr, available: &HashSet<String>) -> Result<(), Error> {
    let mut result = Ok(());
    expr.walk(&mut |e| {
        if result.is_err() {
            return;
        }
        match &e.kind {
            ExprKind::Call(call) if call.name.name.eq_ignore_ascii_case("bin") => {
                result = Err(Error::Pipeline {
                    message: "bin() cannot be used in the second stats command".to_owned(),
                    span: e.span,
                });
            }
            ExprKind::Field(field) => {
                // A dotted name may navigate into a map the first stats produced.
                let known =
                    (1..=field.path.len()).any(|n| available.contains(&field.path[..n].join(".")));
                if !known {
                    result = Err(Error::Pipeline {
                        message: format!(
                            "field '{}' is not produced by the first stats command",
                            field.name()
                        ),
                        span: field.span,
                    });
                }
            }
            _ => {}
        }
    });
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn cases() {
        crate::testutil::run_cases("validate.cases", include_str!("validate.cases"));
    }
}
