//! The validating JSON scanner behind JSON patterns and the pruned document it builds.
//!
//! The message is scanned once. Values on a path that some selector of the pattern can reach
//! (the selector [`Trie`]) are kept in a small arena; everything else is skipped by an
//! iterative validator. Nodes refer to the message by byte offsets, so the arena has no
//! lifetime and one [`Scratch`] per thread is reused across messages: in steady state a
//! message costs no allocation.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use crate::ast::Step;

/// Selector paths merged into a tree; node 0 is the root (`$`).
#[derive(Debug, Clone, Default)]
pub(super) struct Trie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    keys: Vec<(String, u32)>,
    indexes: Vec<(u32, u32)>,
    wildcard: Option<u32>,
}

impl TrieNode {
    fn has_children(&self) -> bool {
        !self.keys.is_empty() || !self.indexes.is_empty() || self.wildcard.is_some()
    }
}

impl Trie {
    pub(super) fn insert(&mut self, steps: &[Step]) {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut at = 0usize;
        for step in steps {
            let next = self.nodes.len() as u32;
            let node = &mut self.nodes[at];
            let existing = match step {
                Step::Key(k) => node.keys.iter().find(|(key, _)| key == k).map(|e| e.1),
                Step::Index(i) => node.indexes.iter().find(|(idx, _)| idx == i).map(|e| e.1),
                Step::Wildcard => node.wildcard,
            };
            let child = match existing {
                Some(c) => c,
                None => {
                    match step {
                        Step::Key(k) => node.keys.push((k.clone(), next)),
                        Step::Index(i) => node.indexes.push((*i, next)),
                        Step::Wildcard => node.wildcard = Some(next),
                    }
                    self.nodes.push(TrieNode::default());
                    next
                }
            };
            at = child as usize;
        }
    }
}

/// A JSON string in the message: the bytes between the quotes, and whether they hold an
/// escape (then the value is not the raw text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Text {
    start: usize,
    end: usize,
    escaped: bool,
}

impl Text {
    const EMPTY: Text = Text {
        start: 0,
        end: 0,
        escaped: false,
    };

    fn raw<'m>(&self, msg: &'m str) -> &'m str {
        msg.get(self.start..self.end).unwrap_or("")
    }

    /// The string's value, borrowed unless it has escapes.
    pub(super) fn value<'m>(&self, msg: &'m str) -> Cow<'m, str> {
        let raw = self.raw(msg);
        if self.escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// Whether the string's value is `want`; the raw bytes are compared unless it has escapes.
    fn is(&self, msg: &str, want: &str) -> bool {
        if self.escaped {
            unescape(self.raw(msg)) == want
        } else {
            self.raw(msg) == want
        }
    }
}

/// A parsed (pruned) JSON value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Node {
    Null,
    Bool(bool),
    /// The number as written.
    Num(Text),
    Str(Text),
    Obj {
        first: u32,
        len: u32,
    },
    Arr {
        first: u32,
        len: u32,
    },
}

/// A kept member of an object (`key`) or element of an array (`index`).
#[derive(Debug, Clone, Copy)]
struct Member {
    key: Text,
    index: u32,
    node: u32,
}

/// Buffers reused from message to message.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    nodes: Vec<Node>,
    members: Vec<Member>,
    pending: Vec<Member>,
    skip_stack: Vec<u8>,
    /// Trie node sets of the values being scanned, one range per nesting level.
    tsets: Vec<u32>,
    /// Node sets while resolving selectors.
    pub(super) found: Vec<u32>,
    next: Vec<u32>,
}

impl Scratch {
    /// Empties the buffers for the next message. One huge message must not pin its memory
    /// to the thread for good: oversized buffers are dropped instead.
    fn clear(&mut self) {
        const KEEP: usize = 4096;
        if self.nodes.capacity() > KEEP
            || self.members.capacity() > KEEP
            || self.pending.capacity() > KEEP
            || self.skip_stack.capacity() > KEEP * 16
            || self.tsets.capacity() > KEEP
            || self.found.capacity() > KEEP
            || self.next.capacity() > KEEP
        {
            *self = Scratch::default();
        }
        self.nodes.clear();
        self.members.clear();
        self.pending.clear();
        self.skip_stack.clear();
        self.tsets.clear();
    }
}

pub(super) struct Invalid;

/// Bytes that end a run of plain string content: `"`, `\\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The bytes of `w` (little endian) that end plain string content, as high bits. Only the
/// lowest set bit is reliable (borrows may mark bytes above it), which is all the scanner uses.
#[inline]
fn stop_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let quote = has_zero(w ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    quote | backslash | control
}

/// Position of the first string-stop byte at or after `from`: eight bytes per step, then the
/// table for the tail.
#[inline]
fn find_stop(s: &[u8], from: usize) -> Option<usize> {
    let rest = s.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut off = from;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mask = stop_mask(u64::from_le_bytes(word));
        if mask != 0 {
            return Some(off + (mask.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| STRING_STOP[usize::from(b)])
        .map(|p| off + p)
}

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Index of the first byte that is not JSON whitespace.
pub(super) fn first_non_ws(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| !is_json_ws(b))
}

/// Whether `s` has a backslash or a control character. Written as a fold over fixed-size
/// chunks so that it compiles to vector compares.
pub(super) fn has_escape_or_control(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(32);
    for chunk in chunks.by_ref() {
        let hit = chunk.iter().fold(0u8, |acc, &b| {
            acc | u8::from(b < 0x20) | u8::from(b == b'\\')
        });
        if hit != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20 || b == b'\\')
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
    /// The message has no backslash and no control character: a string ends at the next `"`.
    clean: bool,
    msg: &'a str,
    trie: &'a Trie,
    sc: &'a mut Scratch,
}

impl Scanner<'_> {
    #[inline]
    fn ws(&mut self) {
        while self.pos < self.s.len() && is_json_ws(self.s[self.pos]) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn push(&mut self, node: Node) -> u32 {
        self.sc.nodes.push(node);
        (self.sc.nodes.len() - 1) as u32
    }

    /// A string at the current `"`.
    fn string(&mut self) -> Result<Text, Invalid> {
        if !self.eat(b'"') {
            return Err(Invalid);
        }
        let start = self.pos;
        if self.clean {
            let len = self
                .s
                .get(start..)
                .and_then(|rest| memchr::memchr(b'"', rest));
            let end = start + len.ok_or(Invalid)?;
            self.pos = end + 1;
            return Ok(Text {
                start,
                end,
                escaped: false,
            });
        }
        let mut escaped = false;
        loop {
            self.pos = find_stop(self.s, self.pos).ok_or(Invalid)?;
            match self.s[self.pos] {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(Text {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {}
                // A raw control character: not JSON.
                _ => return Err(Invalid),
            }
            escaped = true;
            match self.s.get(self.pos + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
                Some(b'u') => {
                    let hex = self.s.get(self.pos + 2..self.pos + 6).ok_or(Invalid)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return Err(Invalid);
                    }
                    self.pos += 6;
                }
                _ => return Err(Invalid),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Text, Invalid> {
        let start = self.pos;
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Invalid),
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(Invalid);
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(Invalid);
            }
        }
        Ok(Text {
            start,
            end: self.pos,
            escaped: false,
        })
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Invalid> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn scalar(&mut self) -> Result<Node, Invalid> {
        Ok(match self.peek() {
            Some(b'"') => Node::Str(self.string()?),
            Some(b't') => {
                self.literal(b"true")?;
                Node::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Node::Bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Node::Null
            }
            Some(b'-' | b'0'..=b'9') => Node::Num(self.number()?),
            _ => return Err(Invalid),
        })
    }

    /// Validates and skips one value without keeping anything. Iterative, so nesting depth
    /// costs heap (bounded by the message) rather than stack.
    fn skip_value(&mut self) -> Result<(), Invalid> {
        self.ws();
        // Most skipped values are strings: no container bookkeeping for them.
        if self.peek() == Some(b'"') {
            self.string()?;
            return Ok(());
        }
        self.sc.skip_stack.clear();
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.ws();
                    if !self.eat(b'}') {
                        self.sc.skip_stack.push(b'}');
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.ws();
                    if !self.eat(b']') {
                        self.sc.skip_stack.push(b']');
                        continue 'value;
                    }
                }
                _ => {
                    self.scalar()?;
                }
            }
            loop {
                let Some(&top) = self.sc.skip_stack.last() else {
                    return Ok(());
                };
                self.ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if top == b'}' {
                            self.ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(c) if c == top => {
                        self.pos += 1;
                        self.sc.skip_stack.pop();
                    }
                    _ => return Err(Invalid),
                }
            }
        }
    }

    /// `"key" :` inside an object.
    fn key(&mut self) -> Result<Text, Invalid> {
        let key = self.string()?;
        self.ws();
        if !self.eat(b':') {
            return Err(Invalid);
        }
        Ok(key)
    }

    /// One value; `tset` (a range of `sc.tsets`) holds the trie nodes this value stands for.
    fn value(&mut self, tset: Range<usize>) -> Result<u32, Invalid> {
        self.ws();
        let open = self.peek();
        if !matches!(open, Some(b'{' | b'[')) {
            let node = self.scalar()?;
            return Ok(self.push(node));
        }
        let trie = self.trie;
        let wanted = self.sc.tsets[tset.clone()]
            .iter()
            .any(|&t| trie.nodes[t as usize].has_children());
        let is_obj = open == Some(b'{');
        if !wanted {
            self.skip_value()?;
            let empty = if is_obj {
                Node::Obj { first: 0, len: 0 }
            } else {
                Node::Arr { first: 0, len: 0 }
            };
            return Ok(self.push(empty));
        }
        self.pos += 1;
        let close = if is_obj { b'}' } else { b']' };
        let mark = self.sc.pending.len();
        self.ws();
        if !self.eat(close) {
            let mut index = 0u32;
            loop {
                self.ws();
                let key = if is_obj { self.key()? } else { Text::EMPTY };
                // The children of this member go on top of the stack of trie node sets.
                let from = self.sc.tsets.len();
                for i in tset.clone() {
                    let node = &trie.nodes[self.sc.tsets[i] as usize];
                    if is_obj {
                        for (k, child) in &node.keys {
                            if key.is(self.msg, k) {
                                self.sc.tsets.push(*child);
                            }
                        }
                    } else {
                        for &(i, child) in &node.indexes {
                            if i == index {
                                self.sc.tsets.push(child);
                            }
                        }
                    }
                    if let Some(w) = node.wildcard {
                        self.sc.tsets.push(w);
                    }
                }
                let to = self.sc.tsets.len();
                if from == to {
                    self.skip_value()?;
                } else {
                    let node = self.value(from..to)?;
                    self.sc.pending.push(Member { key, index, node });
                }
                self.sc.tsets.truncate(from);
                index = index.saturating_add(1);
                self.ws();
                if self.eat(b',') {
                    continue;
                }
                if self.eat(close) {
                    break;
                }
                return Err(Invalid);
            }
        }
        let first = self.sc.members.len() as u32;
        let len = (self.sc.pending.len() - mark) as u32;
        let sc = &mut *self.sc;
        sc.members.extend(sc.pending.drain(mark..));
        Ok(self.push(if is_obj {
            Node::Obj { first, len }
        } else {
            Node::Arr { first, len }
        }))
    }
}

/// Resolves JSON string escapes (already validated by the scanner).
pub(super) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hi = hex4(&mut chars);
                if (0xD800..0xDC00).contains(&hi) {
                    let rest = chars.as_str();
                    if let Some(after) = rest.strip_prefix("\\u") {
                        let mut look = after.chars();
                        let lo = hex4(&mut look);
                        if (0xDC00..0xE000).contains(&lo) {
                            let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            chars = look;
                            continue;
                        }
                    }
                }
                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn hex4(chars: &mut std::str::Chars<'_>) -> u32 {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
    }
    v
}

/// The parsed message, as far as the selectors reach.
pub(super) struct Doc<'a> {
    msg: &'a str,
    nodes: &'a [Node],
    members: &'a [Member],
    root: u32,
}

/// Scans and validates `msg` (which starts, after whitespace, with `{` or `[`) into
/// `scratch`; `None` if it is not one JSON document. `clean`: see
/// [`has_escape_or_control`] (false is always correct).
pub(super) fn parse<'a>(
    msg: &'a str,
    clean: bool,
    trie: &'a Trie,
    scratch: &'a mut Scratch,
) -> Option<(Doc<'a>, &'a mut Vec<u32>, &'a mut Vec<u32>)> {
    scratch.clear();
    scratch.tsets.push(0);
    let mut sc = Scanner {
        s: msg.as_bytes(),
        pos: 0,
        clean,
        msg,
        trie,
        sc: scratch,
    };
    let root = sc.value(0..1).ok()?;
    sc.ws();
    if sc.pos != msg.len() {
        return None;
    }
    let Scratch {
        nodes,
        members,
        found,
        next,
        ..
    } = scratch;
    let doc = Doc {
        msg,
        nodes,
        members,
        root,
    };
    Some((doc, found, next))
}

impl Doc<'_> {
    pub(super) fn node(&self, id: u32) -> Node {
        self.nodes[id as usize]
    }

    fn members(&self, first: u32, len: u32) -> &[Member] {
        self.members
            .get(first as usize..(first + len) as usize)
            .unwrap_or(&[])
    }

    /// The nodes `steps` select, into `out`; `next` is scratch.
    pub(super) fn resolve(&self, steps: &[Step], out: &mut Vec<u32>, next: &mut Vec<u32>) {
        out.clear();
        out.push(self.root);
        for step in steps {
            next.clear();
            for &id in out.iter() {
                match (step, self.node(id)) {
                    (Step::Key(k), Node::Obj { first, len }) => {
                        // Duplicate keys: the last occurrence wins.
                        if let Some(m) = self
                            .members(first, len)
                            .iter()
                            .rev()
                            .find(|m| m.key.is(self.msg, k))
                        {
                            next.push(m.node);
                        }
                    }
                    (Step::Index(i), Node::Arr { first, len }) => {
                        if let Some(m) = self.members(first, len).iter().find(|m| m.index == *i) {
                            next.push(m.node);
                        }
                    }
                    (Step::Wildcard, Node::Arr { first, len }) => {
                        next.extend(self.members(first, len).iter().map(|m| m.node));
                    }
                    (Step::Wildcard, Node::Obj { first, len }) => {
                        let members = self.members(first, len);
                        let mut seen: HashSet<Cow<'_, str>> = HashSet::new();
                        let start = next.len();
                        for m in members.iter().rev() {
                            if seen.insert(m.key.value(self.msg)) {
                                next.push(m.node);
                            }
                        }
                        next[start..].reverse();
                    }
                    _ => {}
                }
            }
            std::mem::swap(out, next);
            if out.is_empty() {
                return;
            }
        }
    }

    pub(super) fn is_null_or_holds_null(&self, id: u32) -> bool {
        match self.node(id) {
            Node::Null => true,
            Node::Arr { first, len } => self
                .members(first, len)
                .iter()
                .any(|m| matches!(self.node(m.node), Node::Null)),
            _ => false,
        }
    }

    /// The text of a scalar node: unescaped string, or the number as written.
    pub(super) fn scalar_text(&self, id: u32) -> Option<Cow<'_, str>> {
        match self.node(id) {
            Node::Str(t) | Node::Num(t) => Some(t.value(self.msg)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_agrees_with_the_table_on_every_byte_and_position() {
        for b in 0u8..=255 {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = b;
                let mask = stop_mask(u64::from_le_bytes(w));
                let expect = STRING_STOP[usize::from(b)];
                assert_eq!(mask != 0, expect, "byte {b} at {pos}");
                if expect {
                    assert_eq!(mask.trailing_zeros() / 8, pos as u32, "byte {b} at {pos}");
                }
            }
        }
    }

    #[test]
    fn first_stop_wins_over_later_ones() {
        // Borrows from a stop byte may mark bytes above it; the lowest must still be found.
        for (text, want) in [
            (&b"ab\x00\x01\"cdefgh"[..], 2),
            (b"abcdefg\\\"", 7),
            (b"abcdefgh\x1f", 8),
            (b"\"", 0),
            (b"abcdefghijklmnop", usize::MAX),
            (b"abcdefghijklmno\x7f\x80\xff\"", 18),
        ] {
            let got = find_stop(text, 0).unwrap_or(usize::MAX);
            assert_eq!(got, want, "{text:?}");
        }
    }
}
