//! CloudWatch Logs Insights query language (the classic `CWLI` language): lexer,
//! recursive-descent parser, spanned syntax tree and printer. Syntax only: function names,
//! arities and field types are resolved by the binder in `lookout-query`.
//!
//! - [`parse`] turns a query string into a [`Query`], or an [`Error`] with a byte [`Span`],
//!   what was expected and what was found. [`Error::compile_error`] gives the
//!   `MalformedQueryException` message and character location (spec §12);
//!   [`Error::kind`] picks the AWS error code.
//! - [`Query`] prints back (`Display`) to a query that parses to the same tree.
//!
//! # The tree, for planners
//!
//! A [`Query`] is an optional [`Source`] and a list of [`Command`]s, each a [`CommandKind`]
//! with the span of its text:
//!
//! - `fields`, `display` and `stats` items are [`NamedExpr`]s: an [`Expr`], an optional alias,
//!   and [`NamedExpr::name`], the output column name already resolved (alias, bare field name,
//!   or the expression's source text as typed, spec §8.1).
//! - [`ExprKind`] covers literals (numbers are `f64`, never negative; strings with escapes
//!   resolved; regexes already checked to compile; [`Period`]s such as `5m`), fields
//!   ([`Field::path`] segments, [`Field::name`] the flattened key), generic [`Call`]s
//!   (`count(*)` has one [`ExprKind::Star`] argument), unary and binary operators,
//!   [`ExprKind::Like`] (`like "text"`, `like /re/` and `=~ /re/`) and [`ExprKind::In`].
//!   Parentheses are not nodes; `a[1]` is the path `a.1`.
//! - `head`/`tail` are [`CommandKind::Limit`]; `parse` keeps `None` for the default
//!   `@message` ([`Parse::source_field`]).
//!
//! # What `parse` checks
//!
//! Beyond the grammar: query length ([`MAX_QUERY_CHARS`]), nesting depth ([`MAX_DEPTH`]),
//! regex literals compile, `parse` glob `*` count equals the alias count, `parse` regexes
//! have a named group, `limit` is an integer in `1..=MAX_LIMIT`, `filterIndex` has the form
//! `field = literal` or `field in [literals]`, `SOURCE` only first, at most two `stats`,
//! `sort`/`limit` only after the second `stats`, the second `stats` reads only fields the
//! first produced (or later commands defined) and has no `bin()`, only `limit` after
//! `dedup`. Left to the binder: unknown functions, argument counts and types, aggregations
//! outside `stats`, a `stats` without aggregation.
//!
//! ```
//! use lookout_insights::{parse, CommandKind, ErrorKind};
//!
//! let q = parse("fields @timestamp, @message | filter @message like /ERROR/ \
//!                | stats count(*) as errors by bin(5m) | sort errors desc | limit 10")?;
//! assert_eq!(q.commands.len(), 5);
//! let CommandKind::Stats(stats) = &q.commands[2].kind else { unreachable!() };
//! assert_eq!(stats.aggregates[0].name, "errors");
//! assert_eq!(stats.by[0].name, "bin(5m)");
//! assert_eq!(parse(&q.to_string())?.without_spans(), q.without_spans());
//!
//! let query = "fields @timestamp | explode @message";
//! let err = parse(query).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::UnknownCommand);
//! let wire = err.compile_error(query);
//! assert_eq!((wire.start_char_offset, wire.end_char_offset), (20, 27));
//! assert_eq!(wire.message, "unknown command 'explode' at line 1, column 21");
//! # Ok::<(), lookout_insights::Error>(())
//! ```
#![deny(missing_docs)]

mod ast;
mod error;
mod lexer;
mod parse;
mod print;
mod regex;
#[cfg(test)]
mod testutil;
mod validate;

pub use ast::{
    BinaryOp, Call, Command, CommandKind, DiffPeriod, Expr, ExprKind, Field, Ident, LikePattern,
    NamedExpr, Parse, ParsePattern, Period, Query, Regex, SortKey, SortOrder, Source, SourceArg,
    SourceKey, SourceSelection, Stats, TimeBound, TimeUnit, UnaryOp,
};
pub use error::{CompileError, Error, ErrorKind, Span};

/// Longest accepted query, in characters (the StartQuery `queryString` constraint).
pub const MAX_QUERY_CHARS: usize = 10_000;

/// Deepest accepted nesting of brackets, calls and prefix operators. Each link of an operator
/// chain (`a or b or c`) counts as a level too, which keeps the tree height, and so the
/// recursion of anything that walks the tree, bounded.
pub const MAX_DEPTH: usize = 100;

/// Largest accepted `limit` (the per-query row ceiling of spec §6.9 with pagination).
pub const MAX_LIMIT: u64 = 100_000;

/// Parses a query and checks the pipeline rules listed in the crate documentation.
pub fn parse(query: &str) -> Result<Query, Error> {
    parse::parse_query(query)
}
