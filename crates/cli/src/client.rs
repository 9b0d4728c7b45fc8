//! A blocking CloudWatch Logs client: AWS JSON 1.1 over HTTP, SigV4-signed when credentials
//! are configured.

use std::fmt;
use std::io::ErrorKind;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use clap::Args;
use lookout_sigv4::{Canonicalization, Credentials, sign_request};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TARGET_PREFIX: &str = "Logs_20140328.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// A FilterLogEvents page is at most 1 MB of messages; escaping can double that.
const MAX_RESPONSE_BYTES: u64 = 64 << 20;
/// Throttling and unavailability are worth a few more tries before giving up.
const RETRIES: u32 = 5;

/// Where the server is and who is calling; shared by every client subcommand.
#[derive(Args, Debug, Clone)]
pub(crate) struct ConnectArgs {
    /// Lookout (or CloudWatch Logs) endpoint.
    #[arg(
        long,
        global = true,
        env = "LOOKOUT_ENDPOINT",
        default_value = "http://127.0.0.1:4588"
    )]
    endpoint: String,
    /// Region used for signing (requests are signed when AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY are set).
    #[arg(long, global = true, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
}

/// An error the server answered with: its AWS `__type` and message.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    /// Short error code such as `ResourceNotFoundException`.
    pub code: String,
    /// The server's message.
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiFailure {}

/// Whether `err` is the server's answer with error code `code`.
pub(crate) fn is_api_error(err: &anyhow::Error, code: &str) -> bool {
    err.downcast_ref::<ApiFailure>()
        .is_some_and(|f| f.code == code)
}

/// A connection to one endpoint.
pub(crate) struct Client {
    agent: ureq::Agent,
    url: String,
    host: String,
    region: String,
    credentials: Option<Credentials>,
}

impl Client {
    /// A client for `args`, with credentials from the standard AWS environment variables.
    pub(crate) fn new(args: &ConnectArgs) -> Result<Self> {
        let url = args.endpoint.trim_end_matches('/').to_string();
        let Some(rest) = url.strip_prefix("http://") else {
            if url.starts_with("https://") {
                anyhow::bail!(
                    "invalid --endpoint {url:?}: this build speaks plain HTTP only (put a TLS proxy in front, or use http://)"
                );
            }
            anyhow::bail!("invalid --endpoint {url:?}: expected http://HOST:PORT");
        };
        let host = rest.split('/').next().unwrap_or_default().to_string();
        if host.is_empty() {
            anyhow::bail!("invalid --endpoint {url:?}: no host");
        }
        let credentials = match (
            std::env::var("AWS_ACCESS_KEY_ID"),
            std::env::var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Ok(id), Ok(secret)) if !id.is_empty() && !secret.is_empty() => Some(Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: std::env::var("AWS_SESSION_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty()),
            }),
            _ => None,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Self {
            agent,
            url: format!("{url}/"),
            host,
            region: args.region.clone(),
            credentials,
        })
    }

    /// The endpoint's URL.
    pub(crate) fn endpoint(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// Calls operation `op` with `req` and decodes the answer.
    pub(crate) fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        op: &str,
        req: &Req,
    ) -> Result<Resp> {
        let body = encode(req)?;
        let bytes = self.send(op, &body)?;
        // Operations with no output answer with an empty body.
        let bytes = if bytes.is_empty() {
            b"{}".to_vec()
        } else {
            bytes
        };
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{op}: unexpected answer from {}", self.url))
    }

    fn send(&self, op: &str, body: &[u8]) -> Result<Vec<u8>> {
        let mut attempt = 0;
        loop {
            match self.send_once(op, body) {
                Err(e)
                    if attempt < RETRIES
                        && (is_api_error(&e, "ThrottlingException")
                            || is_api_error(&e, "ServiceUnavailableException")) =>
                {
                    attempt += 1;
                    crate::term::pause(Duration::from_millis(100 << attempt));
                }
                other => return other,
            }
        }
    }

    fn send_once(&self, op: &str, body: &[u8]) -> Result<Vec<u8>> {
        let target = format!("{TARGET_PREFIX}{op}");
        let mut req = self
            .agent
            .post(&self.url)
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-target", &target);
        if let Some(creds) = &self.credentials {
            let base = [
                ("host", self.host.as_str()),
                ("content-type", CONTENT_TYPE),
                ("x-amz-target", target.as_str()),
            ];
            let signed = sign_request(
                "POST",
                "/",
                "",
                &base,
                body,
                &self.region,
                "logs",
                now_ms() / 1000,
                creds,
                Canonicalization::default(),
            );
            for (k, v) in signed {
                req = req.header(k, v);
            }
        }
        let mut resp = req.send(body).map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| self.transport_error(e))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(decode_error(status, &bytes).into())
    }

    fn transport_error(&self, e: ureq::Error) -> anyhow::Error {
        let refused = match &e {
            ureq::Error::Io(io) => io.kind() == ErrorKind::ConnectionRefused,
            ureq::Error::ConnectionFailed => true,
            _ => false,
        };
        if refused {
            anyhow!(
                "cannot connect to {}: connection refused (is `lookout serve` running? set --endpoint or LOOKOUT_ENDPOINT)",
                self.url.trim_end_matches('/')
            )
        } else {
            anyhow!("cannot talk to {}: {e}", self.url.trim_end_matches('/'))
        }
    }
}

/// JSON body of `req`. The shapes leave absent members out (AWS refuses `null`), so the
/// request serializes straight into the body, with no intermediate tree.
fn encode<Req: Serialize>(req: &Req) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(req)?)
}

/// The `__type` and `message` of an AWS JSON error body.
fn decode_error(status: u16, body: &[u8]) -> ApiFailure {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| parsed.as_ref()?.get(*k)?.as_str())
            .map(str::to_string)
    };
    let code = field(&["__type"])
        // Some servers send `prefix#Code`.
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = field(&["message", "Message"]).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let line = text.lines().next().unwrap_or_default().trim();
        if line.is_empty() {
            "no error message".to_string()
        } else {
            line.chars().take(200).collect()
        }
    });
    ApiFailure { code, message }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_decode_aws_and_foreign_bodies() {
        let e = decode_error(
            400,
            br#"{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}"#,
        );
        assert_eq!(
            e.to_string(),
            "ResourceNotFoundException: The specified log group does not exist."
        );
        let e = decode_error(
            400,
            br#"{"__type":"com.amazonaws#ThrottlingException","Message":"slow down"}"#,
        );
        assert_eq!(e.to_string(), "ThrottlingException: slow down");
        let e = decode_error(502, b"Bad Gateway\nmore");
        assert_eq!(e.to_string(), "HTTP 502: Bad Gateway");
    }

    #[test]
    fn absent_members_are_left_out() {
        let req = lookout_api::shapes::LogStreamRequest {
            log_group_name: Some("g".into()),
            log_stream_name: None,
        };
        assert_eq!(encode(&req).unwrap(), br#"{"logGroupName":"g"}"#);
    }
}
