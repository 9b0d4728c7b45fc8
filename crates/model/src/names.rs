use std::fmt;

use crate::ModelError;

const NAME_MAX: usize = 512;

/// A log group name: 1–512 characters of `[\.\-_/#A-Za-z0-9]`, not starting with `aws/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogGroupName(String);

impl LogGroupName {
    /// Validates `name` against the AWS rules for log group names.
    pub fn new(name: impl Into<String>) -> Result<Self, ModelError> {
        let name = name.into();
        check_len("log group name", &name)?;
        if let Some(found) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')))
        {
            return Err(ModelError::Pattern {
                what: "log group name",
                found,
                pattern: r"[\.\-_/#A-Za-z0-9]+",
            });
        }
        if name.starts_with("aws/") {
            return Err(ModelError::ReservedPrefix);
        }
        Ok(Self(name))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ARN form `arn:<partition>:logs:<region>:<account>:log-group:<name>`, without `:*`.
    pub fn arn(&self, region: &str, account: &str) -> String {
        format!(
            "arn:{}:logs:{region}:{account}:log-group:{}",
            partition(region),
            self.0
        )
    }
}

/// A log stream name: 1–512 characters, none of them `:` or `*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogStreamName(String);

impl LogStreamName {
    /// Validates `name` against the AWS rules for log stream names.
    pub fn new(name: impl Into<String>) -> Result<Self, ModelError> {
        let name = name.into();
        check_len("log stream name", &name)?;
        if let Some(found) = name.chars().find(|c| matches!(c, ':' | '*')) {
            return Err(ModelError::Pattern {
                what: "log stream name",
                found,
                pattern: "[^:*]*",
            });
        }
        Ok(Self(name))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_len(what: &'static str, name: &str) -> Result<(), ModelError> {
    // AWS counts characters, not bytes.
    let len = name.chars().count();
    if len == 0 || len > NAME_MAX {
        return Err(ModelError::Length {
            what,
            min: 1,
            max: NAME_MAX,
            len,
        });
    }
    Ok(())
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

impl fmt::Display for LogGroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for LogStreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LogGroupName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LogStreamName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names() {
        assert!(LogGroupName::new("/aws/lambda/fn").is_ok());
        assert!(LogGroupName::new("a.b-c_d/e#f9").is_ok());
        assert_eq!(LogGroupName::new("aws/x"), Err(ModelError::ReservedPrefix));
        assert!(matches!(
            LogGroupName::new(""),
            Err(ModelError::Length { len: 0, .. })
        ));
        assert!(LogGroupName::new("x".repeat(512)).is_ok());
        assert!(LogGroupName::new("x".repeat(513)).is_err());
        assert!(matches!(
            LogGroupName::new("a b"),
            Err(ModelError::Pattern { found: ' ', .. })
        ));
        assert!(LogGroupName::new("é").is_err());
    }

    #[test]
    fn stream_names() {
        assert!(LogStreamName::new("2026/11/29/[$LATEST]abc").is_ok());
        assert!(LogStreamName::new("ünïcode ok").is_ok());
        assert!(LogStreamName::new("a:b").is_err());
        assert!(LogStreamName::new("a*").is_err());
        assert!(LogStreamName::new("").is_err());
        // 512 characters of two bytes each is still within the limit.
        assert!(LogStreamName::new("é".repeat(512)).is_ok());
        assert!(LogStreamName::new("é".repeat(513)).is_err());
    }

    #[test]
    fn arns() {
        let g = LogGroupName::new("/aws/lambda/f").unwrap();
        assert_eq!(
            g.arn("us-east-1", "123456789012"),
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"
        );
        assert!(g.arn("cn-north-1", "1").starts_with("arn:aws-cn:"));
        assert!(g.arn("us-gov-west-1", "1").starts_with("arn:aws-us-gov:"));
    }
}
