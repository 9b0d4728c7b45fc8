//! The canonical request and the string to sign, built exactly as AWS describes them.

use sha2::{Digest, Sha256};

/// How the request path was encoded by the signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PathEncoding {
    /// Every AWS service but S3: the signer URI-encodes the already-encoded path once more
    /// (botocore, the AWS SDKs). The path is taken as it arrives on the wire and encoded.
    #[default]
    Double,
    /// S3 and the CRT test suite: the path is decoded from its wire form and encoded once.
    Single,
}

/// Options that decide how a request is canonicalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canonicalization {
    /// Path encoding used by the signer.
    pub path_encoding: PathEncoding,
    /// Whether the signer removed `.`/`..` segments and empty segments from the path (all
    /// services but S3 do).
    pub normalize_path: bool,
}

impl Default for Canonicalization {
    fn default() -> Self {
        Self {
            path_encoding: PathEncoding::Double,
            normalize_path: true,
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// SigV4's URI encoding: everything but unreserved characters (and `/` when `keep_slash`) is
/// `%XX` with upper-case hex.
pub(crate) fn uri_encode(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX_UPPER[(b >> 4) as usize] as char);
            out.push(HEX_UPPER[(b & 15) as usize] as char);
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is (lenient, as
/// HTTP servers are). `+` is not a space here: SigV4 clients encode spaces as `%20`.
pub(crate) fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_value(b[i + 1]), hex_value(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Removes empty, `.` and `..` segments; keeps a trailing slash.
fn normalize_path(path: &[u8]) -> Vec<u8> {
    let mut segments: Vec<&[u8]> = Vec::new();
    for seg in path.split(|b| *b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    let trailing = path.ends_with(b"/") && !segments.is_empty();
    if out.is_empty() || trailing {
        out.push(b'/');
    }
    out
}

/// The canonical URI of a request path as it arrived (`/`, `/a%20b/c`).
pub fn canonical_uri(path: &str, opts: Canonicalization) -> String {
    let raw = if path.is_empty() { "/" } else { path };
    let logical = match opts.path_encoding {
        PathEncoding::Double => raw.as_bytes().to_vec(),
        PathEncoding::Single => percent_decode(raw),
    };
    let path = if opts.normalize_path {
        normalize_path(&logical)
    } else {
        logical
    };
    let mut out = String::with_capacity(path.len() + 8);
    uri_encode(&mut out, &path, true);
    out
}

/// The canonical query string of a raw query (without `?`), leaving out the parameters named
/// in `exclude` (the `X-Amz-Signature` of a presigned request).
pub fn canonical_query(query: &str, exclude: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = percent_decode(k);
        if exclude.iter().any(|x| x.as_bytes() == key.as_slice()) {
            continue;
        }
        let mut ek = String::new();
        uri_encode(&mut ek, &key, false);
        let mut ev = String::new();
        uri_encode(&mut ev, &percent_decode(v), false);
        pairs.push((ek, ev));
    }
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A header value as it enters the canonical request: trimmed, runs of spaces collapsed.
fn push_canonical_value(out: &mut String, value: &str) {
    let mut last_space = false;
    for c in value.trim_matches(|c| c == ' ' || c == '\t').chars() {
        let space = c == ' ';
        if space && last_space {
            continue;
        }
        last_space = space;
        out.push(c);
    }
}

/// The canonical headers block (each `name:value\n`) for `signed` (lower-case names in the
/// order the signer listed them), taking values from `headers`. `None` names the first
/// signed header that is missing from the request.
pub fn canonical_headers<'a>(
    headers: &[(&str, &str)],
    signed: impl IntoIterator<Item = &'a str>,
) -> Result<String, String> {
    let mut out = String::new();
    for name in signed {
        out.push_str(name);
        out.push(':');
        let mut found = false;
        for (k, v) in headers {
            if k.eq_ignore_ascii_case(name) {
                if found {
                    out.push(',');
                }
                push_canonical_value(&mut out, v);
                found = true;
            }
        }
        if !found {
            return Err(name.to_string());
        }
        out.push('\n');
    }
    Ok(out)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical request: method, URI, query, headers, signed header list, payload hash.
pub fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    format!("{method}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{payload_hash}")
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let d = Canonicalization::default();
        assert_eq!(canonical_uri("/", d), "/");
        assert_eq!(canonical_uri("", d), "/");
        assert_eq!(canonical_uri("//example//", d), "/example/");
        assert_eq!(canonical_uri("/example/..", d), "/");
        assert_eq!(canonical_uri("/a%3Db", d), "/a%253Db");
        let single = Canonicalization {
            path_encoding: PathEncoding::Single,
            normalize_path: false,
        };
        assert_eq!(canonical_uri("/a%20b/./", single), "/a%20b/./");
    }

    #[test]
    fn decode_is_lenient() {
        assert_eq!(percent_decode("%41%4a%"), b"AJ%");
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%zz"), b"%zz");
        assert_eq!(percent_decode("a+b"), b"a+b");
    }

    #[test]
    fn query_sorts_encoded_pairs() {
        assert_eq!(canonical_query("b=2&a=1&a=0", &[]), "a=0&a=1&b=2");
        assert_eq!(canonical_query("x&y=", &[]), "x=&y=");
        assert_eq!(
            canonical_query("a=1&X-Amz-Signature=ff", &["X-Amz-Signature"]),
            "a=1"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let h = [
            ("My-Header", "  a   b  "),
            ("my-header", "c"),
            ("Host", "h"),
        ];
        assert_eq!(
            canonical_headers(&h, ["host", "my-header"]).unwrap(),
            "host:h\nmy-header:a b,c\n"
        );
        assert_eq!(
            canonical_headers(&h, ["x-amz-date"]).unwrap_err(),
            "x-amz-date"
        );
    }
}
