//! The one error type of the crate.

use lookout_insights::Span;
use lookout_storage::StorageError;

/// What a caller does with an [`Error`]: the wire code is chosen from this in one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The query does not compile (`MalformedQueryException`).
    Malformed,
    /// A request parameter is wrong (`InvalidParameterException`).
    InvalidParameter,
    /// A log group named by the request does not exist (`ResourceNotFoundException`).
    NotFound,
    /// The query was stopped before it finished.
    Cancelled,
    /// A fault of the server, never the caller's mistake.
    Internal,
}

/// Why a query could not be compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The parser rejected the query.
    #[error(transparent)]
    Parse(#[from] lookout_insights::Error),
    /// The query parses but does not bind: unknown function, wrong argument count, an
    /// aggregation outside `stats`, a `stats` without aggregation.
    #[error("{message} at {span}")]
    Bind {
        /// What is wrong.
        message: String,
        /// The offending text.
        span: Span,
    },
    /// A parameter of the request is invalid (time range, pointer, too many groups).
    #[error("{0}")]
    InvalidParameter(String),
    /// A log group does not exist.
    #[error("log group '{0}' does not exist")]
    GroupNotFound(String),
    /// The caller stopped the query.
    #[error("query was cancelled")]
    Cancelled,
    /// Storage failed.
    #[error("storage failed: {0}")]
    Storage(#[from] StorageError),
}

impl Error {
    /// The category, for mapping to the wire.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse(e) if e.kind().aws_code() == "InvalidParameterException" => {
                ErrorKind::InvalidParameter
            }
            Error::Parse(_) | Error::Bind { .. } => ErrorKind::Malformed,
            Error::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Error::GroupNotFound(_) => ErrorKind::NotFound,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Storage(e) => match e.kind() {
                lookout_storage::ErrorKind::NotFound => ErrorKind::NotFound,
                _ => ErrorKind::Internal,
            },
        }
    }

    /// For compile errors, the `queryCompileError` message and character offsets into
    /// `query` (spec §12); `None` for other errors.
    pub fn compile_error(&self, query: &str) -> Option<lookout_insights::CompileError> {
        match self {
            Error::Parse(e) => Some(e.compile_error(query)),
            Error::Bind { message, span } => {
                // Reuse the parser's offset and line/column arithmetic.
                let as_parse = lookout_insights::Error::Pipeline {
                    message: message.clone(),
                    span: *span,
                };
                Some(as_parse.compile_error(query))
            }
            _ => None,
        }
    }

    pub(crate) fn bind(message: impl Into<String>, span: Span) -> Self {
        Error::Bind {
            message: message.into(),
            span,
        }
    }
}
