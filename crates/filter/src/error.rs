use std::fmt;
use std::ops::Range;

/// A byte range in the pattern text (after nothing is trimmed: offsets index the original).
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

    /// The span as a `Range` for slicing the pattern.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Which operation a pattern was given to; AWS words generic syntax errors differently per
/// operation (spec §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `FilterLogEvents`, `StartLiveTail`.
    FilterLogEvents,
    /// `PutMetricFilter`, `TestMetricFilter`.
    MetricFilter,
    /// `PutSubscriptionFilter` (not observed on AWS; same wording as `FilterLogEvents`).
    SubscriptionFilter,
}

/// The category of a [`ParseError`]; every kind is an AWS `InvalidParameterException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Longer than 1024 characters.
    TooLong,
    /// Starts with `{` but does not end with `}`.
    UnclosedJson,
    /// Any other syntax error.
    Syntax,
    /// A character that must be quoted, outside quotes.
    InvalidCharacter,
    /// A character outside the documented regex subset.
    InvalidRegexCharacter,
    /// A regex made of allowed characters that still does not compile.
    RegexCompile,
    /// More than one wildcard step in a JSON selector.
    TooManySelectorWildcards,
    /// More than three wildcard selectors in one pattern.
    TooManyWildcardSelectors,
    /// More than two regex literals in one pattern.
    TooManyRegexes,
    /// A space-delimited field name (or `...`) used twice.
    DuplicateField,
    /// A metric value or dimension that refers to a field on a term pattern.
    DimensionsUnsupported,
}

/// Why a pattern (or a metric value expression) was rejected. Carries the byte span of the
/// offending text; [`ParseError::aws_message`] gives the AWS `InvalidParameterException`
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Longer than 1024 characters.
    #[error("pattern is {chars} characters long, the limit is 1024")]
    TooLong {
        /// Length in characters.
        chars: usize,
        /// The whole pattern, echoed by AWS in its message.
        pattern: String,
    },
    /// Starts with `{` but does not end with `}`.
    #[error("a pattern starting with '{{' must end with '}}'")]
    UnclosedJson {
        /// The whole pattern.
        span: Span,
    },
    /// Any other syntax error: what was expected and what was found.
    #[error("expected {expected}, found {found} at {span}")]
    Syntax {
        /// What the parser wanted.
        expected: &'static str,
        /// What it saw (a short excerpt or `end of pattern`).
        found: String,
        /// Where.
        span: Span,
    },
    /// A character that must be quoted, outside quotes.
    #[error("invalid character(s) in term '{term}' at {span}")]
    InvalidCharacter {
        /// The offending text.
        term: String,
        /// Where.
        span: Span,
    },
    /// A character outside the documented regex subset.
    #[error("invalid character(s) in regex '{term}' at {span}")]
    InvalidRegexCharacter {
        /// The offending text.
        term: String,
        /// Where.
        span: Span,
    },
    /// A regex made of allowed characters that still does not compile.
    #[error("failed to compile regular expression at {span}: {reason}")]
    RegexCompile {
        /// Why the regex engine refused it.
        reason: String,
        /// The regex literal including its `%` delimiters.
        span: Span,
    },
    /// More than one wildcard step in a JSON selector.
    #[error("selector has more than one wildcard at {span}")]
    TooManySelectorWildcards {
        /// The selector.
        span: Span,
    },
    /// More than three wildcard selectors in one pattern.
    #[error("more than three wildcard selectors, the fourth at {span}")]
    TooManyWildcardSelectors {
        /// The fourth wildcard selector.
        span: Span,
    },
    /// More than two regex literals in one pattern.
    #[error("more than two regular expressions, the third at {span}")]
    TooManyRegexes {
        /// The third regex literal.
        span: Span,
    },
    /// A space-delimited field name (or `...`) used twice.
    #[error("duplicate field '{name}' at {span}")]
    DuplicateField {
        /// The repeated name.
        name: String,
        /// Its second occurrence.
        span: Span,
    },
    /// A metric value or dimension that refers to a field on a term pattern.
    #[error("term patterns do not support field references, found '{value}'")]
    DimensionsUnsupported {
        /// The value expression.
        value: String,
    },
}

impl ParseError {
    /// The category, for mapping to the wire.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ParseError::TooLong { .. } => ErrorKind::TooLong,
            ParseError::UnclosedJson { .. } => ErrorKind::UnclosedJson,
            ParseError::Syntax { .. } => ErrorKind::Syntax,
            ParseError::InvalidCharacter { .. } => ErrorKind::InvalidCharacter,
            ParseError::InvalidRegexCharacter { .. } => ErrorKind::InvalidRegexCharacter,
            ParseError::RegexCompile { .. } => ErrorKind::RegexCompile,
            ParseError::TooManySelectorWildcards { .. } => ErrorKind::TooManySelectorWildcards,
            ParseError::TooManyWildcardSelectors { .. } => ErrorKind::TooManyWildcardSelectors,
            ParseError::TooManyRegexes { .. } => ErrorKind::TooManyRegexes,
            ParseError::DuplicateField { .. } => ErrorKind::DuplicateField,
            ParseError::DimensionsUnsupported { .. } => ErrorKind::DimensionsUnsupported,
        }
    }

    /// Where in the pattern the error is (the whole pattern for length errors).
    pub fn span(&self) -> Span {
        match self {
            ParseError::TooLong { pattern, .. } => Span::new(0, pattern.len()),
            ParseError::DimensionsUnsupported { .. } => Span::default(),
            ParseError::UnclosedJson { span }
            | ParseError::Syntax { span, .. }
            | ParseError::InvalidCharacter { span, .. }
            | ParseError::InvalidRegexCharacter { span, .. }
            | ParseError::RegexCompile { span, .. }
            | ParseError::TooManySelectorWildcards { span }
            | ParseError::TooManyWildcardSelectors { span }
            | ParseError::TooManyRegexes { span }
            | ParseError::DuplicateField { span, .. } => *span,
        }
    }

    /// The `InvalidParameterException` message AWS returns from `FilterLogEvents`.
    pub fn aws_message(&self) -> String {
        self.aws_message_for(Operation::FilterLogEvents)
    }

    /// The `InvalidParameterException` message AWS returns from `op` (spec §9).
    pub fn aws_message_for(&self, op: Operation) -> String {
        let generic = match op {
            Operation::FilterLogEvents | Operation::SubscriptionFilter => "Invalid filter pattern",
            Operation::MetricFilter => "Invalid metric filter pattern",
        };
        match self {
            ParseError::TooLong { pattern, .. } => format!(
                "1 validation error detected: Value '{pattern}' at 'filterPattern' failed to \
                 satisfy constraint: Member must have length less than or equal to 1024"
            ),
            ParseError::UnclosedJson { .. } => {
                "If a filter pattern starts with '{' it must end with '}'".to_owned()
            }
            ParseError::Syntax { .. } => generic.to_owned(),
            ParseError::InvalidCharacter { term, .. } => match op {
                Operation::MetricFilter => format!("Invalid character(s) in term '{term}'"),
                _ => generic.to_owned(),
            },
            ParseError::InvalidRegexCharacter { .. } => "Invalid character(s) in term".to_owned(),
            ParseError::RegexCompile { .. } => "Failed to compile regular expression.".to_owned(),
            ParseError::TooManySelectorWildcards { .. } => "Your filter pattern has a JSON path \
                 selector that exceeds the maximum of 1 wildcard allowed per json selector."
                .to_owned(),
            ParseError::TooManyWildcardSelectors { .. } => "Your input has exceeded the maximum \
                 of 3 JSON wildcard selectors allowed per filter pattern."
                .to_owned(),
            ParseError::TooManyRegexes { .. } => "Your input has exceeded the maximum of 2 \
                 regular expressions per filter pattern."
                .to_owned(),
            ParseError::DuplicateField { name, .. } => format!("Duplicate field '{name}'"),
            ParseError::DimensionsUnsupported { .. } => {
                "The specified filter pattern does not support dimensions".to_owned()
            }
        }
    }
}
