//! JSON string escaping for the generator's output lines: at compile time for literal pieces
//! of messages ([`lit!`]), at run time for free text.
//!
//! Hand-rolled because it sits on the generator's hot path: a word-at-a-time check finds
//! the (usual) values with nothing to escape, which are copied whole.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// 0 = copy as is; otherwise the character after the backslash (`u` for `\u00XX`).
pub(crate) const ESCAPE: [u8; 256] = {
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

/// Whether any byte of the 8 in `w` needs escaping (`"`, `\\` or a control character).
/// Classic SWAR: a byte is zero after XOR with the pattern, or below 0x20.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = has_zero(w ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    (quote | backslash | control) != 0
}

/// Whether any byte of `bytes` needs escaping, eight at a time.
#[inline]
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| ESCAPE[b as usize] != 0)
}

/// Appends `s` as a quoted JSON string.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Appends `s` escaped for the inside of a JSON string (no quotes). Values without a byte to
/// escape (most vocabulary) are one check and one copy.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
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
}

/// Length of `s` escaped for the inside of a JSON string, at compile time.
pub(crate) const fn escaped_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < bytes.len() {
        n += match ESCAPE[bytes[i] as usize] {
            0 => 1,
            b'u' => 6,
            _ => 2,
        };
        i += 1;
    }
    n
}

/// `s` escaped for the inside of a JSON string, at compile time; `N` is [`escaped_len`].
pub(crate) const fn escape_const<const N: usize>(s: &str) -> [u8; N] {
    let bytes = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    let mut n = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            out[n] = b;
            n += 1;
        } else {
            out[n] = b'\\';
            out[n + 1] = esc;
            n += 2;
            if esc == b'u' {
                out[n] = b'0';
                out[n + 1] = b'0';
                out[n + 2] = HEX[(b >> 4) as usize];
                out[n + 3] = HEX[(b & 15) as usize];
                n += 4;
            }
        }
        i += 1;
    }
    out
}

/// A literal piece of a message in both forms: as written, and escaped for the inside of a
/// JSON string (the form `lookout gen` writes). Built by [`lit!`] at compile time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lit {
    pub(crate) raw: &'static str,
    pub(crate) esc: &'static str,
}

/// `lit!("text")`: a [`Lit`] whose escaped form is computed at compile time.
macro_rules! lit {
    ($s:expr) => {{
        const RAW: &str = $s;
        const N: usize = $crate::jsonl::escaped_len(RAW);
        const BYTES: [u8; N] = $crate::jsonl::escape_const::<N>(RAW);
        const ESC: &str = match std::str::from_utf8(&BYTES) {
            Ok(s) => s,
            // Escaping keeps UTF-8 valid; a failure would stop the build, not a run.
            Err(_) => panic!("escaped literal is not UTF-8"),
        };
        $crate::jsonl::Lit { raw: RAW, esc: ESC }
    }};
}
pub(crate) use lit;

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
            "exactly8",
            "0123456789abcdef\"",
            "0123456789abcde\u{7}",
            "\\0123456\\",
        ] {
            let mut text = String::from("prefix ");
            push_json_str(&mut text, s);
            assert_eq!(text[7..], serde_json::to_string(s).unwrap());
            let mut inner = String::new();
            push_escaped(&mut inner, s);
            assert_eq!(needs_escape(s.as_bytes()), inner != s);
        }
    }

    #[test]
    fn swar_agrees_with_the_table_on_every_byte_and_position() {
        for b in 0u8..=255 {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = b;
                assert_eq!(
                    word_needs_escape(u64::from_le_bytes(w)),
                    ESCAPE[b as usize] != 0,
                    "{b}"
                );
            }
        }
    }
}
