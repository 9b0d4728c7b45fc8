//! Input validation with AWS's messages, and the mapping of lower-level errors to the wire.

use lookout_api::{ApiError, ErrorCode, RULE_NOT_NULL, Violations};
use lookout_model::{LogGroupName, LogStreamName, ModelError};
use lookout_storage::{ErrorKind, StorageError};

const GROUP_PATTERN: &str = "[\\.\\-_/#A-Za-z0-9]+";
const STREAM_PATTERN: &str = "[^:*]*";

/// A required member.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        let mut v = Violations::new();
        v.add(member, None, RULE_NOT_NULL);
        v.finish()
            .err()
            .unwrap_or_else(|| ApiError::invalid(member.to_string()))
    })
}

fn name_violation(member: &str, value: &str, e: &ModelError, pattern: &str) -> ApiError {
    let rule = match e {
        ModelError::Length { min, len, .. } if len < min => {
            format!("Member must have length greater than or equal to {min}")
        }
        ModelError::Length { max, .. } => {
            format!("Member must have length less than or equal to {max}")
        }
        ModelError::ReservedPrefix => {
            return ApiError::invalid(format!(
                "Log group names cannot start with 'aws/': '{value}'"
            ));
        }
        _ => format!("Member must satisfy regular expression pattern: {pattern}"),
    };
    let mut v = Violations::new();
    v.add(member, Some(value), &rule);
    v.finish().err().unwrap_or_else(|| ApiError::invalid(rule))
}

/// A validated log group name from `member`.
pub(crate) fn group_name(value: &str, member: &str) -> Result<LogGroupName, ApiError> {
    LogGroupName::new(value).map_err(|e| name_violation(member, value, &e, GROUP_PATTERN))
}

/// A validated log stream name from `member`.
pub(crate) fn stream_name(value: &str, member: &str) -> Result<LogStreamName, ApiError> {
    LogStreamName::new(value).map_err(|e| name_violation(member, value, &e, STREAM_PATTERN))
}

/// The required `logGroupName` and `logStreamName` of stream operations, validated.
pub(crate) fn group_and_stream(
    group: Option<String>,
    stream: Option<String>,
) -> Result<(LogGroupName, LogStreamName), ApiError> {
    let group = group_name(&required(group, "logGroupName")?, "logGroupName")?;
    let stream = stream_name(&required(stream, "logStreamName")?, "logStreamName")?;
    Ok((group, stream))
}

/// The group of a `logGroupIdentifier`: a name, or an ARN with or without `:*`.
pub(crate) fn group_from_identifier(identifier: &str) -> Result<LogGroupName, ApiError> {
    let name = match identifier.strip_prefix("arn:") {
        Some(rest) => {
            // arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]
            let parts: Vec<&str> = rest.splitn(6, ':').collect();
            match parts.as_slice() {
                [_, "logs", _, _, kind, name] if *kind == "log-group" => {
                    name.strip_suffix(":*").unwrap_or(name)
                }
                [_, "logs", _, _, rest, ..] if rest.starts_with("log-group") => {
                    return Err(ApiError::invalid(format!(
                        "invalid log group ARN: {identifier}"
                    )));
                }
                _ => {
                    return Err(ApiError::invalid(format!(
                        "invalid log group ARN: {identifier}"
                    )));
                }
            }
        }
        None => identifier,
    };
    group_name(name, "logGroupIdentifier")
}

/// Exactly one of `logGroupName` / `logGroupIdentifier`.
pub(crate) fn one_group(
    name: Option<String>,
    identifier: Option<String>,
) -> Result<LogGroupName, ApiError> {
    match (name, identifier) {
        (Some(n), None) => group_name(&n, "logGroupName"),
        (None, Some(id)) => group_from_identifier(&id),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "LogGroup name and LogGroup identifier are mutually exclusive parameters.",
        )),
        (None, None) => Err(ApiError::invalid(
            "Should provide either name or identifier for log group.",
        )),
    }
}

/// An optional integer member within `min..=max`, else `default`.
pub(crate) fn bounded(
    value: Option<i64>,
    member: &str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ApiError> {
    let Some(v) = value else { return Ok(default) };
    let mut vs = Violations::new();
    if v < min {
        vs.add(
            member,
            Some(&v.to_string()),
            &format!("Member must have value greater than or equal to {min}"),
        );
    } else if v > max {
        vs.add(
            member,
            Some(&v.to_string()),
            &format!("Member must have value less than or equal to {max}"),
        );
    }
    vs.finish().map(|()| v)
}

/// Storage errors as the client sees them; faults are logged here and hidden behind a
/// generic `ServiceUnavailableException`.
pub(crate) fn storage(e: StorageError) -> ApiError {
    match e {
        StorageError::GroupNotFound => ApiError::group_not_found(),
        StorageError::StreamNotFound => ApiError::stream_not_found(),
        StorageError::GroupExists => ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "The specified log group already exists",
        ),
        StorageError::StreamExists => ApiError::new(
            ErrorCode::ResourceAlreadyExists,
            "The specified log stream already exists",
        ),
        other => match other.kind() {
            ErrorKind::InvalidInput => ApiError::invalid(other.to_string()),
            _ => {
                tracing::error!(error = %other, "storage fault");
                ApiError::internal()
            }
        },
    }
}

/// Validates tags: keys 1–128 and values 0–256 characters of letters, digits, spaces and
/// `_.:/=+-@`.
pub(crate) fn tags(tags: &std::collections::BTreeMap<String, String>) -> Result<(), ApiError> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let mut v = Violations::new();
    for (k, val) in tags {
        let klen = k.chars().count();
        if klen == 0 || klen > 128 {
            v.add("tags", Some(k), "Member must have length between 1 and 128");
        } else if !k.chars().all(allowed) {
            v.add("tags", Some(k), "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$");
        }
        if val.chars().count() > 256 {
            v.add(
                "tags",
                Some(val),
                "Member must have length less than or equal to 256",
            );
        } else if !val.chars().all(allowed) {
            v.add("tags", Some(val), "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$");
        }
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*";
        assert_eq!(
            group_from_identifier(arn).unwrap().as_str(),
            "/aws/lambda/f"
        );
        assert_eq!(
            group_from_identifier(&arn[..arn.len() - 2])
                .unwrap()
                .as_str(),
            "/aws/lambda/f"
        );
        assert_eq!(group_from_identifier("plain").unwrap().as_str(), "plain");
        assert!(group_from_identifier("arn:aws:s3:::bucket").is_err());
        assert!(one_group(None, None).is_err());
        assert!(one_group(Some("a".into()), Some("a".into())).is_err());
    }

    #[test]
    fn messages() {
        let e = group_name("bad name", "logGroupName").unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        );
        let e = group_name(&"a".repeat(513), "logGroupName").unwrap_err();
        assert!(
            e.message
                .ends_with("Member must have length less than or equal to 512")
        );
        let e = required::<String>(None, "logStreamName").unwrap_err();
        assert!(e.message.contains("Value null at 'logStreamName'"));
        assert_eq!(
            bounded(Some(0), "limit", 1, 50, 50).unwrap_err().code,
            ErrorCode::InvalidParameter
        );
        assert_eq!(bounded(None, "limit", 1, 50, 50).unwrap(), 50);
    }
}
