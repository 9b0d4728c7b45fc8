//! JSON string escaping and the generator's output line.
//!
//! Hand-rolled because it runs on every byte the generator writes (hundreds of MB/s): a
//! lookup table tells which bytes need escaping, and runs of plain bytes are copied whole.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 0 = copy as is; otherwise the character after the backslash (`u` for `\u00XX`).
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a quoted JSON string to `out`.
pub(crate) fn push_json_bytes(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        out.push(esc);
        if esc == b'u' {
            out.extend_from_slice(b"00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `s` as a quoted JSON string to a `String`.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        // Escaped bytes are ASCII, so `i` is always a char boundary.
        out.push_str(&s[start..i]);
        out.push('\\');
        out.push(esc as char);
        if esc == b'u' {
            out.push_str("00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends one output line: `{"logGroup":…,"logStream":…,"timestamp":…,"message":…}\n`.
pub(crate) fn write_event_line(out: &mut Vec<u8>, group: &str, stream: &str, ts: i64, msg: &str) {
    out.extend_from_slice(b"{\"logGroup\":");
    push_json_bytes(out, group);
    out.extend_from_slice(b",\"logStream\":");
    push_json_bytes(out, stream);
    out.extend_from_slice(b",\"timestamp\":");
    let mut b = itoa::Buffer::new();
    out.extend_from_slice(b.format(ts).as_bytes());
    out.extend_from_slice(b",\"message\":");
    push_json_bytes(out, msg);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain",
            "quote \" backslash \\ newline \n tab \t cr \r",
            "\u{0}\u{1}\u{1f} ctl",
            "unicode é ✓ 🚀",
            "{\"level\":\"INFO\"}",
        ] {
            let mut out = Vec::new();
            push_json_bytes(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
            let mut text = String::from("prefix ");
            push_json_str(&mut text, s);
            assert_eq!(text.as_bytes()[7..], out[..]);
        }
    }

    #[test]
    fn event_line_is_one_json_object() {
        let mut out = Vec::new();
        write_event_line(
            &mut out,
            "/aws/lambda/f",
            "2026/11/01/[$LATEST]ab",
            -5,
            "a\nb",
        );
        assert_eq!(out.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["timestamp"], -5);
        assert_eq!(v["message"], "a\nb");
        assert_eq!(v["logStream"], "2026/11/01/[$LATEST]ab");
    }
}
