use std::fmt;
use std::ops::Range;

/// A byte range in the query text, end exclusive. Offsets index the original string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (exclusive).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span as a `Range` for slicing the query.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// The category of an [`Error`], for mapping to the wire in one match.
///
/// [`ErrorKind::TooLong`] is an `InvalidParameterException` (the service model's length
/// constraint); every other kind is a `MalformedQueryException` (spec §11.1, §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The query is longer than [`MAX_QUERY_CHARS`](crate::MAX_QUERY_CHARS).
    TooLong,
    /// Unterminated literal, stray character, malformed number or period.
    Lexical,
    /// The token stream does not fit the grammar.
    Syntax,
    /// Brackets, operators or calls nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
    /// A command name that is not part of the language, or not supported.
    UnknownCommand,
    /// A regex literal that does not compile, or a `parse` regex without named groups.
    Regex,
    /// A `parse` glob whose `*` count differs from its alias count.
    GlobAliases,
    /// A `limit` that is not an integer in range.
    Limit,
    /// A rule about the order or number of commands (spec §6.7, §6.11, §6.14).
    Pipeline,
}

impl ErrorKind {
    /// The AWS error code (`__type`) this kind maps to.
    pub fn aws_code(self) -> &'static str {
        match self {
            ErrorKind::TooLong => "InvalidParameterException",
            _ => "MalformedQueryException",
        }
    }
}

/// Why a query was rejected. Every variant carries the byte [`Span`] of the offending text;
/// [`Error::compile_error`] turns it into the `MalformedQueryException` message and the
/// character location AWS reports (spec §12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Longer than the service limit.
    #[error("query is {chars} characters long, the limit is {max}")]
    TooLong {
        /// Length in characters.
        chars: usize,
        /// The limit.
        max: usize,
        /// The whole query.
        span: Span,
    },
    /// A lexical error.
    #[error("{reason} at {span}")]
    Lexical {
        /// What is wrong, e.g. `unterminated string`.
        reason: String,
        /// Where.
        span: Span,
    },
    /// What the parser expected and what it found instead.
    #[error("expected {expected}, found {found} at {span}")]
    Syntax {
        /// What the parser wanted, e.g. `an expression`.
        expected: &'static str,
        /// What it saw: a quoted excerpt or `end of query`.
        found: String,
        /// Where.
        span: Span,
    },
    /// Nested deeper than the limit.
    #[error("expression nested deeper than {max} levels at {span}")]
    TooDeep {
        /// The limit.
        max: usize,
        /// The token where the limit was reached.
        span: Span,
    },
    /// Not a command of the language (`explode`), or a reserved one v1 does not implement
    /// (`search`, `lookup`, ...).
    #[error("{}", unknown_command_message(name, *reserved, *span))]
    UnknownCommand {
        /// The word as written.
        name: String,
        /// Whether the word is a reserved command name (AWS knows it; v1 does not run it).
        reserved: bool,
        /// Where.
        span: Span,
    },
    /// A regex literal the regex engine refuses.
    #[error("invalid regular expression at {span}: {reason}")]
    InvalidRegex {
        /// The engine's explanation.
        reason: String,
        /// The regex literal including its delimiters.
        span: Span,
    },
    /// `parse /regex/` without a named capture group.
    #[error("parse regex has no named capture group at {span}")]
    NoNamedGroups {
        /// The regex literal.
        span: Span,
    },
    /// `parse "glob" as ...` with a different number of `*` and aliases.
    #[error("parse pattern has {stars} wildcards but {aliases} aliases at {span}")]
    GlobAliases {
        /// Number of `*` in the pattern.
        stars: usize,
        /// Number of names after `as`.
        aliases: usize,
        /// The pattern string.
        span: Span,
    },
    /// `limit` with something other than an integer in `1..=MAX_LIMIT`.
    #[error("limit must be an integer from 1 to {max}, found {found} at {span}")]
    InvalidLimit {
        /// The limit.
        max: u64,
        /// The token as written.
        found: String,
        /// Where.
        span: Span,
    },
    /// A pipeline rule is broken, e.g. a third `stats`.
    #[error("{message} at {span}")]
    Pipeline {
        /// Which rule, in words.
        message: String,
        /// The command or field that breaks it.
        span: Span,
    },
}

fn unknown_command_message(name: &str, reserved: bool, span: Span) -> String {
    if reserved {
        format!("command '{name}' is not supported at {span}")
    } else {
        format!("unknown command '{name}' at {span}")
    }
}

/// The `queryCompileError` member of a `MalformedQueryException` (spec §12): a message and
/// 0-based character offsets into the query, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Human readable; clients must not parse it.
    pub message: String,
    /// First character of the offending text.
    pub start_char_offset: usize,
    /// One past its last character.
    pub end_char_offset: usize,
}

impl Error {
    /// The category, for mapping to the wire.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::TooLong { .. } => ErrorKind::TooLong,
            Error::Lexical { .. } => ErrorKind::Lexical,
            Error::Syntax { .. } => ErrorKind::Syntax,
            Error::TooDeep { .. } => ErrorKind::TooDeep,
            Error::UnknownCommand { .. } => ErrorKind::UnknownCommand,
            Error::InvalidRegex { .. } | Error::NoNamedGroups { .. } => ErrorKind::Regex,
            Error::GlobAliases { .. } => ErrorKind::GlobAliases,
            Error::InvalidLimit { .. } => ErrorKind::Limit,
            Error::Pipeline { .. } => ErrorKind::Pipeline,
        }
    }

    /// Where in the query the error is, in bytes.
    pub fn span(&self) -> Span {
        match self {
            Error::TooLong { span, .. }
            | Error::Lexical { span, .. }
            | Error::Syntax { span, .. }
            | Error::TooDeep { span, .. }
            | Error::UnknownCommand { span, .. }
            | Error::InvalidRegex { span, .. }
            | Error::NoNamedGroups { span }
            | Error::GlobAliases { span, .. }
            | Error::InvalidLimit { span, .. }
            | Error::Pipeline { span, .. } => *span,
        }
    }

    /// The message and location for the wire, given the query the error came from.
    ///
    /// Offsets count Unicode scalar values (spec §12 says characters). The message names the
    /// line and column too, because the CLI shows only the message.
    pub fn compile_error(&self, query: &str) -> CompileError {
        let span = self.span();
        let start = char_offset(query, span.start);
        let end = char_offset(query, span.end).max(start);
        let (line, column) = line_column(query, span.start);
        let what = match self {
            Error::TooLong { chars, max, .. } => {
                return CompileError {
                    message: format!(
                        "1 validation error detected: value at 'queryString' failed to satisfy \
                         constraint: member must have length less than or equal to {max} \
                         (it has {chars})"
                    ),
                    start_char_offset: start,
                    end_char_offset: end,
                };
            }
            Error::Lexical { reason, .. } => reason.clone(),
            Error::Syntax {
                expected, found, ..
            } => format!("expected {expected}, found {found}"),
            Error::TooDeep { max, .. } => format!("expression nested deeper than {max} levels"),
            Error::UnknownCommand { name, reserved, .. } => {
                if *reserved {
                    format!("command '{name}' is not supported")
                } else {
                    format!("unknown command '{name}'")
                }
            }
            Error::InvalidRegex { reason, .. } => format!("invalid regular expression: {reason}"),
            Error::NoNamedGroups { .. } => {
                "parse regex needs at least one named capture group such as (?<name>...)".to_owned()
            }
            Error::GlobAliases { stars, aliases, .. } => {
                format!("parse pattern has {stars} wildcards but {aliases} aliases")
            }
            Error::InvalidLimit { max, found, .. } => {
                format!("limit must be an integer from 1 to {max}, found {found}")
            }
            Error::Pipeline { message, .. } => message.clone(),
        };
        CompileError {
            message: format!("{what} at line {line}, column {column}"),
            start_char_offset: start,
            end_char_offset: end,
        }
    }
}

/// Characters before byte `offset`; offsets inside a character or past the end are clamped.
fn char_offset(query: &str, offset: usize) -> usize {
    let offset = offset.min(query.len());
    query
        .char_indices()
        .take_while(|&(i, _)| i < offset)
        .count()
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(query: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in query.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_error_counts_characters_not_bytes() {
        let query = "filter x = \"é\" |\n  bogus";
        let err = Error::UnknownCommand {
            name: "bogus".into(),
            reserved: false,
            span: Span::new(20, 25),
        };
        let ce = err.compile_error(query);
        assert_eq!((ce.start_char_offset, ce.end_char_offset), (19, 24));
        assert_eq!(ce.message, "unknown command 'bogus' at line 2, column 3");
        assert_eq!(err.kind().aws_code(), "MalformedQueryException");
    }
}
