//! Server-side verification of SigV4-signed requests, in the header form (`Authorization`)
//! and the query-string form (presigned URLs).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::canonical::{
    Canonicalization, canonical_headers, canonical_query, canonical_request, canonical_uri,
    percent_decode, sha256_hex, string_to_sign,
};
use crate::error::Error;
use crate::time::{format_amz_date, parse_amz_date, parse_http_date};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The longest validity AWS allows a presigned URL (7 days).
const MAX_EXPIRES_SECS: i64 = 604_800;

/// An incoming request, as the HTTP layer received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `POST`, `GET`, …
    pub method: &'a str,
    /// The path as it arrived, still percent-encoded (`/`).
    pub path: &'a str,
    /// The raw query string without `?` (empty when there is none).
    pub query: &'a str,
    /// Every header as received; names in any case, repeated names allowed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The raw body.
    pub body: &'a [u8],
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// The region of the credential scope: the region the client is configured for.
    pub region: String,
    /// Request time, epoch seconds.
    pub request_time: i64,
    /// Lower-case names of the signed headers.
    pub signed_headers: Vec<String>,
    /// `X-Amz-Security-Token`, when the request carries one.
    pub session_token: Option<String>,
    /// Whether the session token is covered by the signature.
    pub session_token_signed: bool,
    /// Whether the signature came in the query string (presigned URL).
    pub presigned: bool,
    /// The canonical request that was verified (for diagnostics).
    pub canonical_request: String,
    /// The string to sign that was verified (for diagnostics).
    pub string_to_sign: String,
}

/// Verifies requests for one service.
#[derive(Debug, Clone)]
pub struct Verifier {
    service: String,
    max_skew_secs: i64,
    canonicalization: Canonicalization,
}

/// The authorization data of a request, from either form.
struct Auth {
    access_key_id: String,
    scope_date: String,
    region: String,
    service: String,
    terminator: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    request_time: i64,
    expires: Option<i64>,
    presigned: bool,
    query_token: Option<String>,
}

fn header<'a>(req: &Request<'a>, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|part| {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        (percent_decode(k) == name.as_bytes())
            .then(|| String::from_utf8_lossy(&percent_decode(v)).into_owned())
    })
}

fn split_credential(cred: &str) -> Result<[String; 5], Error> {
    let parts: Vec<&str> = cred.split('/').collect();
    match parts.as_slice() {
        [a, d, r, s, t] if !a.is_empty() => Ok([a, d, r, s, t].map(|p| p.to_string())),
        _ => Err(Error::Incomplete(format!(
            "Credential should have 5 parts in the form <access key>/<date>/<region>/<service>/aws4_request: '{cred}'"
        ))),
    }
}

impl Verifier {
    /// A verifier for `service` (the signing name, `logs` for CloudWatch Logs) with AWS's
    /// 15-minute clock-skew window and the canonicalisation of every service but S3.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            max_skew_secs: 15 * 60,
            canonicalization: Canonicalization::default(),
        }
    }

    /// Sets the allowed difference between request time and server time.
    pub fn with_max_skew_secs(mut self, secs: i64) -> Self {
        self.max_skew_secs = secs.max(0);
        self
    }

    /// Sets how paths are canonicalised (the default fits every AWS service but S3).
    pub fn with_canonicalization(mut self, c: Canonicalization) -> Self {
        self.canonicalization = c;
        self
    }

    fn parse_header_auth(&self, req: &Request<'_>, value: &str) -> Result<Auth, Error> {
        let value = value.trim();
        let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
        if algorithm != ALGORITHM {
            return Err(Error::Incomplete(format!(
                "Unsupported AWS 'algorithm': '{algorithm}'"
            )));
        }
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            match k {
                "Credential" => credential = Some(v),
                "SignedHeaders" => signed = Some(v),
                "Signature" => signature = Some(v),
                _ => {}
            }
        }
        let date_header = header(req, "x-amz-date").or_else(|| header(req, "date"));
        let mut missing = String::new();
        for (name, present) in [
            ("Credential", credential.is_some()),
            ("Signature", signature.is_some()),
            ("SignedHeaders", signed.is_some()),
        ] {
            if !present {
                missing.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        if date_header.is_none() {
            missing.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        let (Some(credential), Some(signed), Some(signature), Some(date)) =
            (credential, signed, signature, date_header)
        else {
            return Err(Error::Incomplete(format!("{missing}Authorization={value}")));
        };
        let [akid, scope_date, region, service, terminator] = split_credential(credential)?;
        let request_time = match header(req, "x-amz-date") {
            Some(d) => parse_amz_date(d.trim()),
            None => parse_http_date(date),
        }
        .ok_or_else(|| {
            Error::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?;
        Ok(Auth {
            access_key_id: akid,
            scope_date,
            region,
            service,
            terminator,
            signed_headers: signed.to_string(),
            signature: signature.to_string(),
            amz_date: format_amz_date(request_time),
            request_time,
            expires: None,
            presigned: false,
            query_token: None,
        })
    }

    fn parse_query_auth(&self, req: &Request<'_>) -> Result<Auth, Error> {
        let get = |name: &str| query_param(req.query, name);
        let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
        if algorithm != ALGORITHM {
            return Err(Error::Incomplete(format!(
                "Unsupported AWS 'algorithm': '{algorithm}'"
            )));
        }
        let mut missing = String::new();
        let mut need = |name: &str| {
            let v = get(name);
            if v.is_none() {
                missing.push_str(&format!(
                    "AWS query-string parameters must include '{name}'. "
                ));
            }
            v
        };
        let credential = need("X-Amz-Credential");
        let date = need("X-Amz-Date");
        let signed = need("X-Amz-SignedHeaders");
        let signature = need("X-Amz-Signature");
        let expires = need("X-Amz-Expires");
        let (Some(credential), Some(date), Some(signed), Some(signature), Some(expires)) =
            (credential, date, signed, signature, expires)
        else {
            return Err(Error::Incomplete(format!(
                "{missing}Re-examine the query-string parameters."
            )));
        };
        let request_time = parse_amz_date(&date).ok_or_else(|| {
            Error::Incomplete(format!(
                "X-Amz-Date must be in ISO-8601 'basic format'. Got '{date}'"
            ))
        })?;
        let expires: i64 = expires
            .parse()
            .ok()
            .filter(|e| (0..=MAX_EXPIRES_SECS).contains(e))
            .ok_or_else(|| {
                Error::Incomplete(format!(
                    "X-Amz-Expires must be a whole number of seconds from 0 to {MAX_EXPIRES_SECS}, got '{expires}'"
                ))
            })?;
        let [akid, scope_date, region, service, terminator] = split_credential(&credential)?;
        Ok(Auth {
            access_key_id: akid,
            scope_date,
            region,
            service,
            terminator,
            signed_headers: signed,
            signature,
            amz_date: format_amz_date(request_time),
            request_time,
            expires: Some(expires),
            presigned: true,
            query_token: get("X-Amz-Security-Token"),
        })
    }

    /// Verifies `req` at server time `now` (epoch seconds), looking secrets up with
    /// `secret_for(access_key_id)`.
    pub fn verify(
        &self,
        req: &Request<'_>,
        now: i64,
        secret_for: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Verified, Error> {
        let (auth, mut verified) = self.prepare(req, false)?;
        self.check_time(&auth, now)?;
        let secret = secret_for(&auth.access_key_id).ok_or(Error::UnknownAccessKey)?;
        let key = signing_key(&secret, &auth.scope_date, &auth.region, &auth.service);
        let matches = |v: &Verified| {
            constant_time_eq(
                signature(&key, &v.string_to_sign).as_bytes(),
                auth.signature.as_bytes(),
            )
        };
        if !matches(&verified) {
            // A presigned URL may have had its session token appended after signing (as
            // the token in a header may be unsigned): then the token is not in the
            // canonical query.
            if !(auth.presigned && auth.query_token.is_some()) {
                return Err(Error::Mismatch);
            }
            let (_, without_token) = self.prepare(req, true)?;
            if !matches(&without_token) {
                return Err(Error::Mismatch);
            }
            verified = without_token;
        }
        verified.access_key_id = auth.access_key_id;
        Ok(verified)
    }

    /// Parses the authorization data and builds the canonical request and string to sign,
    /// without checking time or secret: what a client must have signed.
    pub fn canonical_request_for(&self, req: &Request<'_>) -> Result<Verified, Error> {
        let (auth, mut v) = self.prepare(req, false)?;
        v.access_key_id = auth.access_key_id;
        Ok(v)
    }

    fn prepare(
        &self,
        req: &Request<'_>,
        exclude_query_token: bool,
    ) -> Result<(Auth, Verified), Error> {
        let auth = match header(req, "authorization") {
            Some(value) => self.parse_header_auth(req, value)?,
            None if query_param(req.query, "X-Amz-Signature").is_some()
                || query_param(req.query, "X-Amz-Algorithm").is_some() =>
            {
                self.parse_query_auth(req)?
            }
            None => return Err(Error::Missing),
        };
        if auth.terminator != "aws4_request" {
            return Err(Error::Invalid(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                auth.terminator
            )));
        }
        if auth.service != self.service {
            return Err(Error::Invalid(format!(
                "Credential should be scoped to correct service: '{}'.",
                self.service
            )));
        }
        if auth.scope_date != auth.amz_date[..8] {
            return Err(Error::Invalid(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                auth.scope_date,
                &auth.amz_date[..8],
                auth.amz_date
            )));
        }
        let signed: Vec<String> = auth
            .signed_headers
            .split(';')
            .filter(|h| !h.is_empty())
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if !signed.iter().any(|h| h == "host" || h == ":authority") {
            return Err(Error::Incomplete(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
                    .to_string(),
            ));
        }
        let headers =
            canonical_headers(req.headers, signed.iter().map(String::as_str)).map_err(|name| {
                Error::Incomplete(format!("signed header '{name}' is not in the request"))
            })?;
        let payload_hash = self.payload_hash(req, &signed)?;
        let exclude: &[&str] = match (auth.presigned, exclude_query_token) {
            (false, _) => &[],
            (true, false) => &["X-Amz-Signature"],
            (true, true) => &["X-Amz-Signature", "X-Amz-Security-Token"],
        };
        let query = canonical_query(req.query, exclude);
        let canonical = canonical_request(
            req.method,
            &canonical_uri(req.path, self.canonicalization),
            &query,
            &headers,
            &signed.join(";"),
            &payload_hash,
        );
        let scope = format!(
            "{}/{}/{}/{}",
            auth.scope_date, auth.region, auth.service, auth.terminator
        );
        let sts = string_to_sign(&auth.amz_date, &scope, &canonical);
        let header_token = header(req, "x-amz-security-token").map(str::to_string);
        let token_signed = signed.iter().any(|h| h == "x-amz-security-token")
            || (auth.presigned && auth.query_token.is_some() && !exclude_query_token);
        let verified = Verified {
            access_key_id: String::new(),
            region: auth.region.clone(),
            request_time: auth.request_time,
            signed_headers: signed,
            session_token: header_token.or_else(|| auth.query_token.clone()),
            session_token_signed: token_signed,
            presigned: auth.presigned,
            canonical_request: canonical,
            string_to_sign: sts,
        };
        Ok((auth, verified))
    }

    /// The payload hash: the signed `x-amz-content-sha256` when present (and then it must
    /// match the body), else the body's SHA-256.
    fn payload_hash(&self, req: &Request<'_>, signed: &[String]) -> Result<String, Error> {
        let actual = sha256_hex(req.body);
        let Some(claimed) = header(req, "x-amz-content-sha256") else {
            return Ok(actual);
        };
        if !signed.iter().any(|h| h == "x-amz-content-sha256") {
            return Ok(actual);
        }
        let claimed = claimed.trim();
        if claimed == "UNSIGNED-PAYLOAD" || claimed.starts_with("STREAMING-") {
            return Err(Error::Invalid(format!(
                "x-amz-content-sha256 '{claimed}' is not supported by this service"
            )));
        }
        if !claimed.eq_ignore_ascii_case(&actual) {
            return Err(Error::Mismatch);
        }
        Ok(claimed.to_ascii_lowercase())
    }

    fn check_time(&self, auth: &Auth, now: i64) -> Result<(), Error> {
        let skew = self.max_skew_secs;
        let minutes = skew / 60;
        if auth.request_time > now + skew {
            return Err(Error::Invalid(format!(
                "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
                auth.amz_date,
                format_amz_date(now + skew),
                format_amz_date(now)
            )));
        }
        let oldest = match auth.expires {
            Some(expires) => auth.request_time + expires,
            None => auth.request_time + skew,
        };
        if now > oldest {
            return Err(match auth.expires {
                Some(_) => Error::Invalid(format!(
                    "Signature expired: {} is now earlier than {} (request expired at {})",
                    format_amz_date(oldest),
                    format_amz_date(now),
                    format_amz_date(oldest)
                )),
                None => Error::Invalid(format!(
                    "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
                    auth.amz_date,
                    format_amz_date(now - skew),
                    format_amz_date(now)
                )),
            });
        }
        Ok(())
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key for a secret, scope date (`YYYYMMDD`), region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The hex signature of a string to sign.
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(key, string_to_sign.as_bytes()))
}

/// Compares without an early exit, so timing does not reveal how much of a guess matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
