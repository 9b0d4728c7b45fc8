//! Who may call: users from a credentials file, each with an access key and a policy.

use std::collections::HashMap;
use std::path::Path;

use lookout_api::{ApiError, ErrorCode};
use lookout_sigv4::{Request, Verifier};
use serde::Deserialize;

use crate::policy::Policy;

/// The users a server accepts (`--credentials FILE`).
#[derive(Debug, Clone)]
pub struct Credentials {
    by_key: HashMap<String, User>,
    verifier: Verifier,
}

/// One user.
#[derive(Debug, Clone)]
struct User {
    name: String,
    secret: String,
    policy: Policy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    users: Vec<RawUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    access_key_id: String,
    secret_access_key: String,
    policy: String,
}

/// Why a credentials file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid credentials file: {0}")]
    Invalid(String),
}

impl Credentials {
    /// Parses a credentials file:
    ///
    /// ```toml
    /// [[users]]
    /// name = "shipper"
    /// access_key_id = "AKIDSHIPPER"
    /// secret_access_key = "shipper-secret"
    /// policy = '''{"Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
    ///   "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}'''
    /// ```
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| CredentialsError::Invalid(e.to_string()))?;
        if raw.users.is_empty() {
            return Err(CredentialsError::Invalid("no [[users]] defined".into()));
        }
        let mut by_key = HashMap::new();
        for u in raw.users {
            if u.access_key_id.is_empty() || u.secret_access_key.is_empty() {
                return Err(CredentialsError::Invalid(format!(
                    "user {:?} needs a non-empty access_key_id and secret_access_key",
                    u.name
                )));
            }
            let policy = Policy::parse(&u.policy)
                .map_err(|e| CredentialsError::Invalid(format!("user {:?}: {e}", u.name)))?;
            let user = User {
                name: u.name,
                secret: u.secret_access_key,
                policy,
            };
            if by_key.insert(u.access_key_id.clone(), user).is_some() {
                return Err(CredentialsError::Invalid(format!(
                    "access key {} is defined twice",
                    u.access_key_id
                )));
            }
        }
        Ok(Self {
            by_key,
            verifier: Verifier::new("logs"),
        })
    }

    /// Reads and parses a credentials file.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Checks the signature of `req` at `now` (epoch seconds) and that the signer's policy
    /// allows `action` on `resource` (a closure: the ARN needs the request's region).
    pub(crate) fn authorize(
        &self,
        req: &Request<'_>,
        now: i64,
        action: &str,
        resource: impl FnOnce(&str) -> String,
    ) -> Result<(), ApiError> {
        let verified = self
            .verifier
            .verify(req, now, |akid| {
                self.by_key.get(akid).map(|u| u.secret.clone())
            })
            .map_err(|e| {
                let code = match e.kind() {
                    lookout_sigv4::ErrorKind::MissingAuthenticationToken => {
                        ErrorCode::MissingAuthenticationToken
                    }
                    lookout_sigv4::ErrorKind::IncompleteSignature => ErrorCode::IncompleteSignature,
                    lookout_sigv4::ErrorKind::UnrecognizedClient => ErrorCode::UnrecognizedClient,
                    lookout_sigv4::ErrorKind::InvalidSignature => ErrorCode::InvalidSignature,
                };
                ApiError::new(code, e.aws_message())
            })?;
        let Some(user) = self.by_key.get(&verified.access_key_id) else {
            return Err(ApiError::new(
                ErrorCode::UnrecognizedClient,
                "The security token included in the request is invalid.",
            ));
        };
        let arn = resource(&verified.region);
        if !user.policy.allows(action, &arn) {
            return Err(ApiError::new(
                ErrorCode::AccessDenied,
                format!(
                    "User: {} is not authorized to perform: {action} on resource: {arn} because no identity-based policy allows the {action} action",
                    user.name
                ),
            ));
        }
        Ok(())
    }
}
