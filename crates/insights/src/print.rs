//! Printing: `Display` writes a query that parses back to the same tree (spans aside).
//!
//! Keywords come out lowercase, strings double-quoted, periods in their shortest unit,
//! parentheses only where precedence needs them. An unaliased `fields`/`display`/`stats`
//! item is written as its source text, because that text is its column name (spec §8.1).
//! The alternate form (`{:#}`) parenthesises every compound sub-expression and writes items
//! as trees: it shows structure, for tests, and is not meant to be re-parsed for names.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    BinaryOp, CommandKind, Expr, ExprKind, Field, Ident, LikePattern, NamedExpr, ParsePattern,
    Period, Query, Regex, SortOrder, Source, SourceSelection, TimeBound, UnaryOp,
};
use crate::lexer::is_keyword;

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(source) = &self.source {
            source.fmt(f)?;
            first = false;
        }
        for cmd in &self.commands {
            if !first {
                f.write_str(" | ")?;
            }
            first = false;
            cmd.kind.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for crate::ast::Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl Display for CommandKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())?;
        match self {
            CommandKind::Fields(items) | CommandKind::Display(items) => {
                f.write_char(' ')?;
                list(f, items)
            }
            CommandKind::Filter(e) | CommandKind::FilterIndex(e) | CommandKind::Pattern(e) => {
                write!(f, " {}", Alt(e, f.alternate()))
            }
            CommandKind::Stats(stats) => {
                f.write_char(' ')?;
                list(f, &stats.aggregates)?;
                if !stats.by.is_empty() {
                    f.write_str(" by ")?;
                    list(f, &stats.by)?;
                }
                Ok(())
            }
            CommandKind::Sort(keys) => {
                for (i, key) in keys.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write!(f, "{}", Alt(&key.expr, f.alternate()))?;
                    if key.order == SortOrder::Desc {
                        f.write_str(" desc")?;
                    }
                }
                Ok(())
            }
            CommandKind::Limit(n) => write!(f, " {n}"),
            CommandKind::Parse(p) => {
                if let Some(field) = &p.field {
                    write!(f, " {field}")?;
                }
                match &p.pattern {
                    ParsePattern::Glob {
                        pattern, aliases, ..
                    } => {
                        f.write_char(' ')?;
                        string(f, pattern)?;
                        f.write_str(" as ")?;
                        list(f, aliases)
                    }
                    ParsePattern::Regex(r) => write!(f, " {r}"),
                }
            }
            CommandKind::Dedup(fields) => {
                f.write_char(' ')?;
                list(f, fields)
            }
            CommandKind::Unnest { field, into } => write!(f, " {field} into {into}"),
            CommandKind::Diff(Some(period)) => write!(f, " {}", period.keyword()),
            CommandKind::Diff(None) | CommandKind::Anomaly => Ok(()),
        }
    }
}

fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if f.alternate() {
            write!(f, "{item:#}")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl Display for NamedExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.alias {
            Some(alias) => write!(f, "{} as {alias}", Alt(&self.expr, f.alternate())),
            None if f.alternate() => write!(f, "{:#}", self.expr),
            None => match &self.expr.kind {
                ExprKind::Field(field) => field.fmt(f),
                _ => f.write_str(&self.name),
            },
        }
    }
}

/// Forwards the alternate flag to a nested `Display`.
struct Alt<'a, T>(&'a T, bool);

impl<T: Display> Display for Alt<'_, T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.1 {
            write!(f, "{:#}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Binding strength, loosest first (spec §3); atoms are 9.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(BinaryOp::Or, ..) => 1,
        ExprKind::Binary(BinaryOp::And, ..) => 2,
        ExprKind::Unary(UnaryOp::Not, _) => 3,
        ExprKind::Binary(op, ..) if op.is_comparison() => 4,
        ExprKind::Like { .. } | ExprKind::In { .. } => 4,
        ExprKind::Binary(BinaryOp::Add | BinaryOp::Sub, ..) => 5,
        ExprKind::Binary(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod, ..) => 6,
        ExprKind::Unary(UnaryOp::Neg, _) => 7,
        ExprKind::Binary(..) => 8,
        _ => 9,
    }
}

/// Writes `e` where the grammar needs binding strength `min`, parenthesised if weaker (or,
/// in the alternate form, if compound at all).
fn operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    let p = precedence(e);
    if p < min || (f.alternate() && p < 9) {
        f.write_char('(')?;
        e.fmt(f)?;
        f.write_char(')')
    } else {
        e.fmt(f)
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Field(field) => field.fmt(f),
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::String(s) => string(f, s),
            ExprKind::Regex(r) => r.fmt(f),
            ExprKind::Period(p) => p.fmt(f),
            ExprKind::Star => f.write_char('*'),
            ExprKind::List(items) => {
                f.write_char('[')?;
                list(f, items)?;
                f.write_char(']')
            }
            ExprKind::Call(call) => {
                f.write_str(&call.name.name)?;
                f.write_char('(')?;
                list(f, &call.args)?;
                f.write_char(')')
            }
            ExprKind::Unary(UnaryOp::Neg, e) => {
                f.write_char('-')?;
                operand(f, e, 7)
            }
            ExprKind::Unary(UnaryOp::Not, e) => {
                f.write_str("not ")?;
                operand(f, e, 3)
            }
            ExprKind::Binary(op, l, r) => {
                let (left_min, right_min) = match op {
                    BinaryOp::Or => (1, 2),
                    BinaryOp::And => (2, 3),
                    BinaryOp::Add | BinaryOp::Sub => (5, 6),
                    BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => (6, 7),
                    BinaryOp::Pow => (9, 7),
                    _ => (5, 5),
                };
                operand(f, l, left_min)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, r, right_min)
            }
            ExprKind::Like {
                expr,
                pattern,
                negated,
            } => {
                operand(f, expr, 5)?;
                f.write_str(if *negated { " not like " } else { " like " })?;
                match pattern {
                    LikePattern::Substring(s) => string(f, s),
                    LikePattern::Regex(r) => r.fmt(f),
                }
            }
            ExprKind::In {
                expr,
                list: items,
                negated,
            } => {
                operand(f, expr, 5)?;
                f.write_str(if *negated { " not in [" } else { " in [" })?;
                list(f, items)?;
                f.write_char(']')
            }
        }
    }
}

impl Display for Period {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.symbol())
    }
}

impl Display for Regex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        let mut chars = self.pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                // An escape pair is copied whole so that `\\` followed by `/` stays apart.
                '\\' => {
                    f.write_char('\\')?;
                    if let Some(next) = chars.next() {
                        if next == '/' {
                            f.write_char('\\')?;
                        }
                        f.write_char(next)?;
                    }
                }
                '/' => f.write_str("\\/")?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('/')
    }
}

fn string(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `segment` can be written bare as the first segment of a name.
fn plain_first(segment: &str) -> bool {
    let rest = segment.strip_prefix('@').unwrap_or(segment);
    let mut chars = rest.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_char)
}

fn plain_later(segment: &str) -> bool {
    !segment.is_empty() && segment.chars().all(is_ident_char)
}

fn backticked(f: &mut Formatter<'_>, segment: &str) -> fmt::Result {
    write!(f, "`{segment}`")
}

fn first_segment(f: &mut Formatter<'_>, segment: &str, alone: bool) -> fmt::Result {
    if plain_first(segment) && !(alone && is_keyword(segment)) {
        f.write_str(segment)
    } else if let Some(rest) = segment.strip_prefix('@').filter(|r| !r.is_empty()) {
        f.write_char('@')?;
        backticked(f, rest)
    } else {
        backticked(f, segment)
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.path.iter().enumerate() {
            if i == 0 {
                first_segment(f, segment, self.path.len() == 1)?;
            } else {
                f.write_char('.')?;
                if plain_later(segment) {
                    f.write_str(segment)?;
                } else {
                    backticked(f, segment)?;
                }
            }
        }
        Ok(())
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // A dotted name reads back as a path whose joined name is the same string.
        let mut segments = self.name.split('.');
        let plain = segments.next().is_some_and(plain_first) && segments.all(plain_later);
        if plain && !is_keyword(&self.name) {
            f.write_str(&self.name)
        } else {
            first_segment(f, &self.name, true)
        }
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SOURCE ")?;
        match &self.selection {
            SourceSelection::LogGroups(args) => {
                f.write_str("logGroups(")?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}: [", arg.key.keyword())?;
                    for (j, v) in arg.values.iter().enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        string(f, v)?;
                    }
                    f.write_char(']')?;
                }
                f.write_char(')')
            }
            SourceSelection::Named { groups, range } => {
                for (i, g) in groups.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    string(f, g)?;
                }
                if let Some((start, end)) = range {
                    write!(f, " START={start} END={end}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for TimeBound {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeBound::Absolute(ms) => write!(f, "{ms}"),
            TimeBound::Relative { negative, period } => {
                write!(f, "{}{period}", if *negative { "-" } else { "" })
            }
        }
    }
}
