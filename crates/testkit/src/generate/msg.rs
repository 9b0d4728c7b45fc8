//! The message being rendered, in one of two forms: as written (what [`super::EventRef`]
//! hands out), or already escaped as the contents of the output line's JSON string (what
//! [`super::Generator::write_jsonl`] writes). Rendering straight into the escaped form spares
//! a second pass over every byte: literal pieces are escaped at compile time ([`lit!`]), ids,
//! digits and timestamps need no escaping, and only free text is escaped at run time.

use crate::jsonl::{ESCAPE, Lit, needs_escape, push_escaped, push_json_str};

use super::render::{push_fixed2, push_u64};

#[derive(Debug, Default)]
pub(super) struct Msg {
    buf: String,
    escaped: bool,
    /// Length of the message as written (the manifest counts message bytes).
    raw_len: usize,
    /// A JSON string value before its second escaping.
    tmp: String,
}

impl Msg {
    pub(super) fn with_capacity(n: usize) -> Msg {
        Msg {
            buf: String::with_capacity(n),
            ..Msg::default()
        }
    }

    pub(super) fn clear(&mut self) {
        self.buf.clear();
        self.raw_len = 0;
    }

    /// Switches between the written and the escaped form (for the next message).
    pub(super) fn set_escaped(&mut self, escaped: bool) {
        self.escaped = escaped;
    }

    /// The text in its current form.
    pub(super) fn as_str(&self) -> &str {
        &self.buf
    }

    /// Length of the message as written, whatever the form.
    pub(super) fn raw_len(&self) -> usize {
        self.raw_len
    }

    /// A literal piece.
    #[inline]
    pub(super) fn lit(&mut self, l: Lit) {
        self.raw_len += l.raw.len();
        // One push per branch: each has a constant length, so the copy is inlined.
        if self.escaped {
            self.buf.push_str(l.esc);
        } else {
            self.buf.push_str(l.raw);
        }
    }

    /// Text that never needs escaping: ids, hex, digits, level names.
    #[inline]
    pub(super) fn plain(&mut self, s: &str) {
        debug_assert!(s.bytes().all(|b| ESCAPE[usize::from(b)] == 0), "{s:?}");
        self.raw_len += s.len();
        self.buf.push_str(s);
    }

    /// Text appended by `f` that never needs escaping (hex, UUIDs, timestamps).
    #[inline]
    pub(super) fn plain_with(&mut self, f: impl FnOnce(&mut String)) {
        let before = self.buf.len();
        f(&mut self.buf);
        debug_assert!(
            self.buf.as_bytes()[before..]
                .iter()
                .all(|&b| ESCAPE[usize::from(b)] == 0)
        );
        self.raw_len += self.buf.len() - before;
    }

    /// Any text.
    #[inline]
    pub(super) fn text(&mut self, s: &str) {
        self.raw_len += s.len();
        if self.escaped {
            push_escaped(&mut self.buf, s);
        } else {
            self.buf.push_str(s);
        }
    }

    /// A JSON string value inside the message: quoted and escaped, and in the escaped form
    /// escaped once more.
    pub(super) fn json_str(&mut self, s: &str) {
        if self.escaped && !needs_escape(s.as_bytes()) {
            // Usually the value has nothing to escape: only its quotes are escaped.
            self.raw_len += s.len() + 2;
            self.buf.push_str("\\\"");
            self.buf.push_str(s);
            self.buf.push_str("\\\"");
        } else if self.escaped {
            self.tmp.clear();
            push_json_str(&mut self.tmp, s);
            self.raw_len += self.tmp.len();
            push_escaped(&mut self.buf, &self.tmp);
        } else {
            let before = self.buf.len();
            push_json_str(&mut self.buf, s);
            self.raw_len += self.buf.len() - before;
        }
    }

    #[inline]
    pub(super) fn u64(&mut self, v: u64) {
        self.plain_with(|s| push_u64(s, v));
    }

    /// `v / 100` with two decimals.
    #[inline]
    pub(super) fn fixed2(&mut self, v: u64) {
        self.plain_with(|s| push_fixed2(s, v));
    }

    /// Another message fragment rendered in the same form.
    pub(super) fn append(&mut self, other: &Msg) {
        debug_assert_eq!(self.escaped, other.escaped);
        self.raw_len += other.raw_len;
        self.buf.push_str(&other.buf);
    }
}
