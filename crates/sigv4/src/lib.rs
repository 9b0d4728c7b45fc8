//! AWS Signature Version 4 for Lookout: canonical requests, client-side signing and
//! server-side verification. Pure: no I/O, no clock (callers pass the time).
//!
//! [`Verifier`] checks an incoming [`Request`] in either form AWS clients use (the
//! `Authorization` header, or a presigned query string) against the secret of its access key,
//! within a clock-skew window, rebuilding the canonical headers from exactly the names the
//! client signed. [`sign_request`] is the client side. Both are checked against AWS's
//! published SigV4 test suite (`tests/conformance/data/sigv4/`).
//!
//! ```
//! use lookout_sigv4::{Canonicalization, Credentials, Request, Verifier, sign_request};
//!
//! let creds = Credentials {
//!     access_key_id: "AKIDEXAMPLE".into(),
//!     secret_access_key: "secret".into(),
//!     session_token: None,
//! };
//! let body = br#"{"logGroupName":"/aws/lambda/orders"}"#;
//! let now = 1_764_400_000;
//! let base = [("host", "127.0.0.1:4588"), ("x-amz-target", "Logs_20140328.CreateLogGroup")];
//! let added = sign_request("POST", "/", "", &base, body, "us-east-1", "logs", now, &creds,
//!                          Canonicalization::default());
//! let mut headers: Vec<(&str, &str)> = base.to_vec();
//! headers.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
//! let req = Request { method: "POST", path: "/", query: "", headers: &headers, body };
//! let ok = Verifier::new("logs").verify(&req, now + 60, |akid| {
//!     (akid == "AKIDEXAMPLE").then(|| "secret".to_string())
//! });
//! assert_eq!(ok.unwrap().region, "us-east-1");
//! ```
#![deny(missing_docs)]

mod canonical;
mod error;
mod sign;
mod time;
mod verify;

pub use canonical::{Canonicalization, PathEncoding};
pub use error::{Error, ErrorKind};
pub use sign::{Credentials, sign_request};
pub use time::{format_amz_date, parse_amz_date, parse_http_date};
pub use verify::{Request, Verified, Verifier};
