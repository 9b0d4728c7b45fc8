//! `@ptr` values: an opaque, URL-safe pointer to one stored event that GetLogRecord resolves
//! (spec §11.5). Layout, base64url without padding: `1`, group, stream, timestamp and
//! sequence, joined by newlines (names cannot contain one).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The pointer to event `seq` at `ts` in `group`/`stream`.
pub(crate) fn encode(group: &str, stream: &str, ts: i64, seq: u64) -> String {
    let raw = format!("1\n{group}\n{stream}\n{ts}\n{seq}");
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// A decoded pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPointer {
    /// Log group name.
    pub group: String,
    /// Log stream name.
    pub stream: String,
    /// Event timestamp, epoch ms.
    pub timestamp: i64,
    /// Store sequence number.
    pub seq: u64,
}

/// Decodes an `@ptr` value from a query result; `None` for anything else.
pub fn decode(ptr: &str) -> Option<EventPointer> {
    let mut bytes = Vec::with_capacity(ptr.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in ptr.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('\n');
    if parts.next()? != "1" {
        return None;
    }
    let group = parts.next()?.to_owned();
    let stream = parts.next()?.to_owned();
    let timestamp = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    if parts.next().is_some() || group.is_empty() || stream.is_empty() {
        return None;
    }
    Some(EventPointer {
        group,
        stream,
        timestamp,
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip() {
        for (g, s) in [
            ("/aws/lambda/x", "2024/05/20/[$LATEST]ab"),
            ("g", "s"),
            ("gg", "ss1"),
        ] {
            let p = encode(g, s, -5, 42);
            assert!(p.bytes().all(|b| ALPHABET.contains(&b)));
            let d = decode(&p);
            assert_eq!(
                d,
                Some(EventPointer {
                    group: g.into(),
                    stream: s.into(),
                    timestamp: -5,
                    seq: 42
                })
            );
        }
        assert_eq!(decode("not a pointer!"), None);
        assert_eq!(decode(""), None);
    }
}
