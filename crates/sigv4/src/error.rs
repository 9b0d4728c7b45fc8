//! Why a request's signature was not accepted, in the terms AWS reports it.

/// A request that did not pass SigV4 verification. [`Error::code`] is the AWS error code
/// (the `__type` of the response) and the `Display` text is AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No `Authorization` header and no `X-Amz-Signature` query parameter.
    #[error("missing authentication token")]
    Missing,
    /// The authorization data is present but not well formed.
    #[error("{0}")]
    Incomplete(String),
    /// The access key id is not known.
    #[error("the security token included in the request is invalid")]
    UnknownAccessKey,
    /// The request time is outside the allowed clock skew, a presigned URL has expired, or
    /// the credential scope does not fit the request (date, service, terminator).
    #[error("{0}")]
    Invalid(String),
    /// The signature does not match the one computed from the request.
    #[error(
        "the request signature we calculated does not match the signature you provided; check your AWS secret access key and signing method"
    )]
    Mismatch,
}

/// The class of a verification failure, for mapping to the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `MissingAuthenticationTokenException`.
    MissingAuthenticationToken,
    /// `IncompleteSignatureException`.
    IncompleteSignature,
    /// `UnrecognizedClientException`.
    UnrecognizedClient,
    /// `InvalidSignatureException` (bad signature, or time outside the window).
    InvalidSignature,
}

impl Error {
    /// The class of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Missing => ErrorKind::MissingAuthenticationToken,
            Error::Incomplete(_) => ErrorKind::IncompleteSignature,
            Error::UnknownAccessKey => ErrorKind::UnrecognizedClient,
            Error::Invalid(_) | Error::Mismatch => ErrorKind::InvalidSignature,
        }
    }

    /// The AWS error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self.kind() {
            ErrorKind::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorKind::IncompleteSignature => "IncompleteSignatureException",
            ErrorKind::UnrecognizedClient => "UnrecognizedClientException",
            ErrorKind::InvalidSignature => "InvalidSignatureException",
        }
    }

    /// The message AWS sends with this error, word for word where AWS's is known (clients
    /// show it to users, who search for it).
    pub fn aws_message(&self) -> String {
        match self {
            Error::Missing => "Missing Authentication Token".to_string(),
            Error::Incomplete(m) | Error::Invalid(m) => m.clone(),
            Error::UnknownAccessKey => {
                "The security token included in the request is invalid.".to_string()
            }
            Error::Mismatch => "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".to_string(),
        }
    }
}
