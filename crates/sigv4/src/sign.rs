//! Signing requests as a client: what the `lookout` CLI and tests use to talk to a server
//! that checks signatures.

use crate::canonical::{
    Canonicalization, canonical_headers, canonical_query, canonical_request, canonical_uri,
    sha256_hex, string_to_sign,
};
use crate::time::format_amz_date;
use crate::verify::{signature, signing_key};

/// An access key pair, with a session token for temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

/// Signs a request in the header form: returns the headers to add (`x-amz-date`,
/// `x-amz-security-token` when there is a token, and `authorization`). Every header in
/// `headers` is signed; it must include `host`.
#[allow(clippy::too_many_arguments)]
pub fn sign_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    region: &str,
    service: &str,
    time_secs: i64,
    credentials: &Credentials,
    canonicalization: Canonicalization,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(time_secs);
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("x-amz-date", &amz_date));
    if let Some(token) = &credentials.session_token {
        all.push(("x-amz-security-token", token));
    }
    let mut names: Vec<String> = all.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    // Every name comes from `all`, so no signed header can be missing.
    let canonical_hdrs =
        canonical_headers(&all, names.iter().map(String::as_str)).unwrap_or_default();
    let signed = names.join(";");
    let creq = canonical_request(
        method,
        &canonical_uri(path, canonicalization),
        &canonical_query(query, &[]),
        &canonical_hdrs,
        &signed,
        &sha256_hex(body),
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(&credentials.secret_access_key, date, region, service);
    let sig = signature(&key, &sts);
    let mut out = vec![("x-amz-date".to_string(), amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token".to_string(), token.clone()));
    }
    out.push((
        "authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={sig}",
            credentials.access_key_id
        ),
    ));
    out
}
