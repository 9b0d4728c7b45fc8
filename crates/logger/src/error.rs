//! The crate's error type.

/// What went wrong, for callers that branch on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller passed something malformed (a correlation id path).
    InvalidInput,
    /// A process-wide logger or subscriber was already installed.
    AlreadyInitialized,
}

/// Errors from setting the logger up. Logging itself never fails.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A correlation id path could not be parsed.
    #[error("invalid correlation id path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `init` found a global `tracing` subscriber already set.
    #[error("a global tracing subscriber is already installed")]
    SubscriberAlreadySet,
    /// `init` found a global `log` logger already set.
    #[error("a global log logger is already installed")]
    LoggerAlreadySet,
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidPath { .. } => ErrorKind::InvalidInput,
            Error::SubscriberAlreadySet | Error::LoggerAlreadySet => ErrorKind::AlreadyInitialized,
        }
    }
}
