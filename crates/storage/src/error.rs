use thiserror::Error;

/// Everything that can go wrong in the storage engine.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The named log group does not exist.
    #[error("the specified log group does not exist")]
    GroupNotFound,
    /// The named log stream does not exist.
    #[error("the specified log stream does not exist")]
    StreamNotFound,
    /// A log group with that name already exists.
    #[error("the specified log group already exists")]
    GroupExists,
    /// A log stream with that name already exists in the group.
    #[error("the specified log stream already exists")]
    StreamExists,
    /// The caller passed an invalid argument.
    #[error("{0}")]
    Invalid(String),
    /// A domain rule was violated.
    #[error(transparent)]
    Model(#[from] lookout_model::ModelError),
    /// Bytes read back from disk or the object store failed validation.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// Which structure was being decoded.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A file system operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The metastore database failed.
    #[error("metastore error: {0}")]
    Metastore(String),
    /// The object store failed.
    #[error("object store error: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The store has been shut down or a background worker died.
    #[error("storage engine is closed")]
    Closed,
}

/// Coarse classification of a [`StorageError`], mapped to wire errors in one place above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A group or stream does not exist.
    NotFound,
    /// A group or stream already exists.
    AlreadyExists,
    /// The caller's input is invalid.
    InvalidInput,
    /// Stored data failed validation; the rest of the store is still usable.
    Corrupt,
    /// An internal failure (I/O, database, shutdown): not the caller's fault.
    Internal,
}

impl StorageError {
    /// A [`StorageError::Corrupt`] for the structure `what`.
    pub(crate) fn corrupt(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Corrupt {
            what,
            detail: detail.into(),
        }
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::GroupNotFound | Self::StreamNotFound => ErrorKind::NotFound,
            Self::GroupExists | Self::StreamExists => ErrorKind::AlreadyExists,
            Self::Invalid(_) | Self::Model(_) => ErrorKind::InvalidInput,
            Self::Corrupt { .. } => ErrorKind::Corrupt,
            Self::Io(_) | Self::Metastore(_) | Self::ObjectStore(_) | Self::Closed => {
                ErrorKind::Internal
            }
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Metastore(e.to_string())
    }
}
