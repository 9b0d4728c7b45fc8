//! CloudWatch Logs filter patterns, exact and fast.
//!
//! One language is shared by `FilterLogEvents`, `StartLiveTail`, metric filters, subscription
//! filters and `TestMetricFilter`: unstructured terms (`ERROR -DEBUG`, `?WARN ?ERROR`,
//! `"quoted phrase"`, `%regex%`), JSON patterns (`{ $.level = "ERROR" && $.latency > 500 }`)
//! and space-delimited patterns (`[ip, user, ..., status = 4*, bytes > 1000]`).
//!
//! - [`Pattern`] parses and compiles a pattern once; [`Pattern::matches`] evaluates a message,
//!   [`Pattern::extract`] also returns TestMetricFilter values and metric outputs
//!   ([`Extracted`]). Pushdown hints: [`Pattern::required_substrings`],
//!   [`Pattern::json_equalities`].
//! - [`ParseError`] is typed, carries a [`Span`], and maps to the AWS
//!   `InvalidParameterException` message ([`ParseError::aws_message`]).
//! - [`Ast`] is the syntax tree; its `Display` prints a pattern that parses back to the same
//!   tree.
//!
//! # Choices where the spec is uncertain
//!
//! - Term patterns: every unquoted character outside `[A-Za-z0-9_]`, `?`, `-`, `"`, `%` and
//!   whitespace is rejected (including `.` and `:`); `?`/`-` right after a word start a new
//!   term (`ORDER-ITEM-1` is `ORDER -ITEM -1`); regexes mix with other terms.
//! - JSON: keywords upper case only; `{}` and a bare `null` value are rejected; every `*` in a
//!   string literal is a wildcard; `$.a['b.c']` (bracket key after a name) is accepted; the
//!   whole message must be one JSON object or array (RFC 8259, strict).
//! - Regex: `.` does not match a newline; escapes other than the documented ones are
//!   rejected; `[` inside a class is literal; repetition counts have at most 4 digits and the
//!   compiled program is capped at 1 MiB (larger ones fail to compile).
//! - Space-delimited: whitespace is space, tab, CR, LF; a field is numeric when it matches the
//!   number-literal grammar; the absorbed rest of the line has no trailing whitespace.
//! - Metric outputs: a missing, boolean, null or non-numeric value yields no data point.
//!
//! ```
//! use lookout_filter::Pattern;
//!
//! let p = Pattern::parse(r#"{ $.level = "ERROR" && $.latency > 500 }"#)?;
//! assert!(p.matches(r#"{"level":"ERROR","latency":812}"#));
//! assert!(!p.matches(r#"{"level":"INFO","latency":812}"#));
//!
//! let p = Pattern::parse("[ip, user, ..., status = 4*, bytes]")?.with_outputs(&["$bytes"])?;
//! let ex = p.extract("10.0.0.1 - frank [10/Oct/2000] \"GET / HTTP/1.0\" 404 512").unwrap();
//! assert_eq!(ex.get("$status"), Some("404"));
//! assert_eq!(ex.output_number(0), Some(512.0));
//!
//! let err = Pattern::parse("{ $.level = ERROR").unwrap_err();
//! assert_eq!(err.aws_message(), "If a filter pattern starts with '{' it must end with '}'");
//! # Ok::<(), lookout_filter::ParseError>(())
//! ```
#![deny(missing_docs)]

mod ast;
mod error;
mod lexer;
mod matcher;
mod output;
mod parse;
mod regex;

pub use ast::{
    Ast, CmpOp, Condition, Entry, FieldExpr, JsonExpr, JsonTest, Prefix, RegexLit, Selector, Step,
    Term, TermAtom, Value,
};
pub use error::{ErrorKind, Operation, ParseError, Span};
pub use matcher::{Extracted, JsonEquality, Pattern};

/// Parses a pattern into its syntax tree only (no compilation), e.g. to validate a
/// `PutMetricFilter` pattern or to print it canonically.
pub fn parse(pattern: &str) -> Result<Ast, ParseError> {
    parse::parse(pattern)
}
