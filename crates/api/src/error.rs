//! Errors as CloudWatch Logs sends them: an error code (the `__type`), an HTTP status and a
//! message, plus the extra members some error shapes carry.

use std::fmt;

/// The AWS error codes Lookout produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A parameter is missing, malformed or out of range.
    InvalidParameter,
    /// The log group, stream or query does not exist.
    ResourceNotFound,
    /// The log group or stream already exists.
    ResourceAlreadyExists,
    /// A quota was reached.
    LimitExceeded,
    /// A concurrent change conflicted.
    OperationAborted,
    /// A deletion-protected group cannot be deleted.
    Validation,
    /// Too many tags on a resource.
    TooManyTags,
    /// The Insights query does not parse.
    MalformedQuery,
    /// The operation is modelled but not supported here.
    InvalidOperation,
    /// The `X-Amz-Target` names no operation.
    UnknownOperation,
    /// The body is not JSON, or a member has the wrong JSON type.
    Serialization,
    /// The request is not signed.
    MissingAuthenticationToken,
    /// The signature data is malformed.
    IncompleteSignature,
    /// The signature does not match, or the request time is outside the window.
    InvalidSignature,
    /// The access key is unknown.
    UnrecognizedClient,
    /// The signer's policy does not allow the action.
    AccessDenied,
    /// Too many requests.
    Throttling,
    /// A server fault: never the caller's mistake.
    ServiceUnavailable,
}

impl ErrorCode {
    /// The `__type` and `x-amzn-ErrorType` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameter => "InvalidParameterException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            ErrorCode::LimitExceeded => "LimitExceededException",
            ErrorCode::OperationAborted => "OperationAbortedException",
            ErrorCode::Validation => "ValidationException",
            ErrorCode::TooManyTags => "TooManyTagsException",
            ErrorCode::MalformedQuery => "MalformedQueryException",
            ErrorCode::InvalidOperation => "InvalidOperationException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::Serialization => "SerializationException",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignature => "IncompleteSignatureException",
            ErrorCode::InvalidSignature => "InvalidSignatureException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::Throttling => "ThrottlingException",
            ErrorCode::ServiceUnavailable => "ServiceUnavailableException",
        }
    }

    /// The HTTP status: 400 for caller mistakes, 403 for authentication and authorization
    /// failures, 500 for server faults (which every SDK retries).
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::MissingAuthenticationToken
            | ErrorCode::IncompleteSignature
            | ErrorCode::InvalidSignature
            | ErrorCode::UnrecognizedClient
            | ErrorCode::AccessDenied => 403,
            ErrorCode::ServiceUnavailable => 500,
            _ => 400,
        }
    }
}

/// An error response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The error code.
    pub code: ErrorCode,
    /// The human-readable message.
    pub message: String,
    /// Extra members of the error shape (`queryCompileError`, `resourceName`).
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            extra: None,
        }
    }

    /// `InvalidParameterException`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameter, message)
    }

    /// `ResourceNotFoundException` for a missing log group.
    pub fn group_not_found() -> Self {
        Self::new(
            ErrorCode::ResourceNotFound,
            "The specified log group does not exist.",
        )
    }

    /// `ResourceNotFoundException` for a missing log stream.
    pub fn stream_not_found() -> Self {
        Self::new(
            ErrorCode::ResourceNotFound,
            "The specified log stream does not exist.",
        )
    }

    /// `ServiceUnavailableException` for a fault of the server; the detail is logged by the
    /// caller, the client gets a generic message.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "The service cannot complete the request.",
        )
    }

    /// The JSON body: `{"__type": …, "message": …, …extra}`.
    pub fn body(&self) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        map.insert("__type".into(), self.code.as_str().into());
        map.insert("message".into(), self.message.clone().into());
        if let Some(extra) = &self.extra {
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// Builds the Coral-style validation message AWS uses for constraint failures:
/// `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: rule`.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `member` (with `value`, when there is one) breaks `rule`.
    pub fn add(&mut self, member: &str, value: Option<&str>, rule: &str) {
        let v = match value {
            Some(v) => format!("Value '{v}' at '{member}' failed to satisfy constraint: {rule}"),
            None => format!("Value null at '{member}' failed to satisfy constraint: {rule}"),
        };
        self.0.push(v);
    }

    /// `Ok` when nothing was recorded, else the `InvalidParameterException`.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::invalid(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(ApiError::invalid(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Rules of the `limit` of list operations, in AWS's words.
pub const RULE_NOT_NULL: &str = "Member must not be null";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_type_and_message() {
        let e = ApiError::group_not_found();
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["__type"], "ResourceNotFoundException");
        assert_eq!(v["message"], "The specified log group does not exist.");
        assert_eq!(e.code.status(), 400);
        assert_eq!(ErrorCode::InvalidSignature.status(), 403);
        assert_eq!(ErrorCode::ServiceUnavailable.status(), 500);
    }

    #[test]
    fn violations_read_like_aws() {
        let mut v = Violations::new();
        v.add("logGroupName", None, RULE_NOT_NULL);
        let e = v.finish().unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"
        );
        let mut v = Violations::new();
        v.add(
            "limit",
            Some("0"),
            "Member must have value greater than or equal to 1",
        );
        v.add(
            "logGroupName",
            Some("a:b"),
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        );
        assert!(
            v.finish()
                .unwrap_err()
                .message
                .starts_with("2 validation errors detected: ")
        );
        assert!(Violations::new().finish().is_ok());
    }
}
