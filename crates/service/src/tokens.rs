//! Pagination tokens. Deterministic (the same position always gives the same string, which
//! is how clients detect the end of GetLogEvents), and bound to what they page through, so a
//! token from another query is refused instead of silently misread.

use lookout_api::ApiError;

fn invalid() -> ApiError {
    ApiError::invalid("The specified nextToken is invalid.")
}

/// Positions are `(timestamp, sequence)`; timestamps are shifted to unsigned so that the
/// digits sort like the keys.
fn key_digits(key: (i64, u64)) -> String {
    let ts = (i128::from(key.0) - i128::from(i64::MIN)) as u64;
    format!("{:016}{ts:020}{:020}", 0, key.1)
}

fn parse_key_digits(digits: &str) -> Option<(i64, u64)> {
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (pad, rest) = digits.split_at(16);
    if pad.bytes().any(|b| b != b'0') {
        return None;
    }
    let (ts, seq) = rest.split_at(20);
    let ts: u64 = ts.parse().ok()?;
    let seq: u64 = seq.parse().ok()?;
    Some(((i128::from(ts) + i128::from(i64::MIN)) as i64, seq))
}

/// A GetLogEvents token: `f/<56 digits>` (events after the position) or `b/<56 digits>`
/// (events before it), the shape AWS uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamToken {
    /// Read forward from after this key.
    Forward((i64, u64)),
    /// Read backward from before this key.
    Backward((i64, u64)),
}

impl StreamToken {
    pub(crate) fn encode(self) -> String {
        match self {
            StreamToken::Forward(k) => format!("f/{}", key_digits(k)),
            StreamToken::Backward(k) => format!("b/{}", key_digits(k)),
        }
    }

    pub(crate) fn decode(token: &str) -> Result<Self, ApiError> {
        let token = token.strip_suffix("/s").unwrap_or(token);
        let (dir, digits) = token.split_once('/').ok_or_else(invalid)?;
        let key = parse_key_digits(digits).ok_or_else(invalid)?;
        match dir {
            "f" => Ok(StreamToken::Forward(key)),
            "b" => Ok(StreamToken::Backward(key)),
            _ => Err(invalid()),
        }
    }
}

/// FNV-1a, to bind a token to the parameters of the query it pages through.
pub(crate) fn fingerprint(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A FilterLogEvents token: the last returned key and the query's fingerprint.
pub(crate) fn encode_after(key: (i64, u64), query: u64) -> String {
    format!("{}{query:016x}", key_digits(key))
}

pub(crate) fn decode_after(token: &str, query: u64) -> Result<(i64, u64), ApiError> {
    if token.len() != 72 {
        return Err(invalid());
    }
    let (digits, fp) = token.split_at(56);
    let key = parse_key_digits(digits).ok_or_else(invalid)?;
    let fp = u64::from_str_radix(fp, 16).map_err(|_| invalid())?;
    if fp != query {
        return Err(invalid());
    }
    Ok(key)
}

/// A name-ordered listing token (DescribeLogGroups / DescribeLogStreams): the last name,
/// hex-encoded behind a tag for the ordering it belongs to.
pub(crate) fn encode_name(tag: &str, name: &str) -> String {
    let mut out = String::with_capacity(tag.len() + 1 + name.len() * 2);
    out.push_str(tag);
    out.push('/');
    for b in name.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub(crate) fn decode_name(tag: &str, token: &str) -> Result<String, ApiError> {
    let hex = token
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(invalid)?;
    if hex.len() % 2 != 0 {
        return Err(invalid());
    }
    let mut bytes = Vec::with_capacity(hex.len() / 2);
    for i in (0..hex.len()).step_by(2) {
        let pair = hex.get(i..i + 2).ok_or_else(invalid)?;
        bytes.push(u8::from_str_radix(pair, 16).map_err(|_| invalid())?);
    }
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_tokens_round_trip_and_look_like_aws() {
        for key in [
            (0, 0),
            (1_764_400_000_000, 42),
            (i64::MIN, 0),
            (i64::MAX, u64::MAX),
            (-5, 7),
        ] {
            for t in [StreamToken::Forward(key), StreamToken::Backward(key)] {
                let s = t.encode();
                assert_eq!(s.len(), 58);
                assert_eq!(StreamToken::decode(&s).unwrap(), t);
                assert_eq!(StreamToken::decode(&format!("{s}/s")).unwrap(), t);
            }
        }
        for bad in ["", "f/", "x/00", "f/123", &format!("f/{}", "9".repeat(56))] {
            assert!(StreamToken::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filter_tokens_are_bound_to_their_query() {
        let q = fingerprint(&["g", "pattern"]);
        let t = encode_after((10, 3), q);
        assert_eq!(decode_after(&t, q).unwrap(), (10, 3));
        assert!(decode_after(&t, fingerprint(&["g", "other"])).is_err());
        assert!(decode_after("garbage", q).is_err());
    }

    #[test]
    fn name_tokens() {
        let t = encode_name("g", "/aws/lambda/é");
        assert_eq!(decode_name("g", &t).unwrap(), "/aws/lambda/é");
        assert!(decode_name("s", &t).is_err());
        assert!(decode_name("g", "g/zz").is_err());
        assert!(decode_name("g", "g/ff").is_err());
    }
}
