use thiserror::Error;

/// Why a value was refused by the domain rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// A name is empty or longer than its limit.
    #[error("{what} must have length between {min} and {max}, got {len}")]
    Length {
        /// Which kind of value was checked.
        what: &'static str,
        /// Smallest allowed length.
        min: usize,
        /// Largest allowed length.
        max: usize,
        /// Length that was given.
        len: usize,
    },
    /// A name contains a character outside its pattern.
    #[error("{what} contains an invalid character {found:?}; must match pattern {pattern}")]
    Pattern {
        /// Which kind of value was checked.
        what: &'static str,
        /// The first offending character.
        found: char,
        /// The AWS pattern the value must satisfy.
        pattern: &'static str,
    },
    /// A log group name starts with the reserved `aws/` prefix.
    #[error("log group names starting with aws/ are reserved")]
    ReservedPrefix,
    /// A retention period outside the allowed set.
    #[error("retention in days {0} must satisfy enum value set: {set}", set = crate::retention::ALLOWED_TEXT)]
    Retention(i64),
    /// An event id string that Lookout did not produce.
    #[error("invalid event id")]
    EventId,
}

/// Coarse classification of a [`ModelError`], for mapping to wire errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller supplied an invalid value.
    InvalidParameter,
}

impl ModelError {
    /// The class of this error; every model error is a caller mistake.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidParameter
    }
}
