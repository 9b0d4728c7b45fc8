//! JSON patterns (spec §5.3): a lazy, validating scanner.
//!
//! The message is scanned once. Values on a path that some selector of the pattern can reach
//! (the selector trie) are kept in a small arena; everything else is skipped by an iterative
//! validator that allocates nothing. The whole message is still validated, because AWS does not
//! match JSON patterns against messages that are not JSON (a truncated document must not match
//! because its first field looked right).

use std::borrow::Cow;
use std::collections::HashSet;

use memchr::memmem::Finder;

use crate::ast::{CmpOp, JsonExpr, JsonTest, Step, Value};
use crate::error::ParseError;
use crate::matcher::CValue;
use crate::matcher::glob::Glob;

/// Selector paths merged into a tree; node 0 is the root (`$`).
#[derive(Debug, Clone, Default)]
struct Trie {
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
    fn insert(&mut self, steps: &[Step]) {
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

#[derive(Debug, Clone)]
enum CTest {
    Compare(CmpOp, CValue),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone)]
enum CExpr {
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    Cond { selector: usize, test: CTest },
}

#[derive(Debug, Clone)]
pub(crate) struct JsonMatcher {
    expr: CExpr,
    /// Paths of the conditions' selectors, then of the outputs.
    selectors: Vec<Vec<Step>>,
    trie: Trie,
    /// Conjunction of disjunctions of substrings a matching message contains, valid when the
    /// message has no backslash (then JSON strings are their raw text).
    prefilter: Vec<Vec<Finder<'static>>>,
}

/// A parsed (pruned) JSON value.
#[derive(Debug, Clone, Copy)]
enum Node<'m> {
    Null,
    Bool(bool),
    /// Raw number text.
    Num(&'m str),
    /// Raw string contents without the quotes, and whether it has escapes.
    Str(&'m str, bool),
    Obj {
        first: u32,
        len: u32,
    },
    Arr {
        first: u32,
        len: u32,
    },
}

#[derive(Debug, Clone)]
struct Member<'m> {
    key: Cow<'m, str>,
    index: u32,
    node: u32,
}

struct Invalid;

struct Scanner<'m, 't> {
    s: &'m [u8],
    src: &'m str,
    pos: usize,
    trie: &'t Trie,
    nodes: Vec<Node<'m>>,
    members: Vec<Member<'m>>,
    pending: Vec<Member<'m>>,
    skip_stack: Vec<u8>,
}

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

fn is_json_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'m> Scanner<'m, '_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && is_json_ws(self.s[self.pos]) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn push(&mut self, node: Node<'m>) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    fn text(&self, start: usize, end: usize) -> &'m str {
        self.src.get(start..end).unwrap_or("")
    }

    /// A string at the current `"`: its raw contents and whether it contains escapes.
    fn string(&mut self) -> Result<(&'m str, bool), Invalid> {
        if !self.eat(b'"') {
            return Err(Invalid);
        }
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Most JSON strings are short keys and values: a table-driven byte loop beats
            // memchr2 plus a separate control-character pass there.
            let rest = &self.s[self.pos..];
            let Some(off) = rest.iter().position(|&b| STRING_STOP[usize::from(b)]) else {
                return Err(Invalid);
            };
            self.pos += off;
            match self.s[self.pos] {
                b'"' => {
                    let text = self.text(start, self.pos);
                    self.pos += 1;
                    return Ok((text, escaped));
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

    fn number(&mut self) -> Result<&'m str, Invalid> {
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
        Ok(self.text(start, self.pos))
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Invalid> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    fn scalar(&mut self) -> Result<Node<'m>, Invalid> {
        Ok(match self.peek() {
            Some(b'"') => {
                let (text, escaped) = self.string()?;
                Node::Str(text, escaped)
            }
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
        self.skip_stack.clear();
        'value: loop {
            self.ws();
            match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.ws();
                    if !self.eat(b'}') {
                        self.skip_stack.push(b'}');
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.ws();
                    if !self.eat(b']') {
                        self.skip_stack.push(b']');
                        continue 'value;
                    }
                }
                _ => {
                    self.scalar()?;
                }
            }
            loop {
                let Some(&top) = self.skip_stack.last() else {
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
                        self.skip_stack.pop();
                    }
                    _ => return Err(Invalid),
                }
            }
        }
    }

    /// `"key" :` inside an object.
    fn key(&mut self) -> Result<(&'m str, bool), Invalid> {
        let key = self.string()?;
        self.ws();
        if !self.eat(b':') {
            return Err(Invalid);
        }
        Ok(key)
    }

    /// One value; `tset` are the trie nodes this value stands for.
    fn value(&mut self, tset: &[u32]) -> Result<u32, Invalid> {
        self.ws();
        let open = self.peek();
        if !matches!(open, Some(b'{' | b'[')) {
            let node = self.scalar()?;
            return Ok(self.push(node));
        }
        let trie = self.trie;
        let wanted = tset.iter().any(|&t| trie.nodes[t as usize].has_children());
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
        let mark = self.pending.len();
        self.ws();
        if !self.eat(close) {
            let mut index = 0u32;
            let mut children: Vec<u32> = Vec::new();
            loop {
                self.ws();
                let key: Cow<'m, str> = if is_obj {
                    match self.key()? {
                        (raw, false) => Cow::Borrowed(raw),
                        (raw, true) => Cow::Owned(unescape(raw)),
                    }
                } else {
                    Cow::Borrowed("")
                };
                children.clear();
                for &t in tset {
                    let node = &trie.nodes[t as usize];
                    if is_obj {
                        children.extend(node.keys.iter().filter(|(k, _)| *k == key).map(|e| e.1));
                    } else {
                        children.extend(
                            node.indexes
                                .iter()
                                .filter(|(i, _)| *i == index)
                                .map(|e| e.1),
                        );
                    }
                    children.extend(node.wildcard);
                }
                if children.is_empty() {
                    self.skip_value()?;
                } else {
                    let node = self.value(&children)?;
                    self.pending.push(Member { key, index, node });
                }
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
        let first = self.members.len() as u32;
        let len = (self.pending.len() - mark) as u32;
        self.members.extend(self.pending.drain(mark..));
        Ok(self.push(if is_obj {
            Node::Obj { first, len }
        } else {
            Node::Arr { first, len }
        }))
    }
}

/// Resolves JSON string escapes (already validated by the scanner).
fn unescape(raw: &str) -> String {
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
struct Doc<'m> {
    nodes: Vec<Node<'m>>,
    members: Vec<Member<'m>>,
    root: u32,
}

impl<'m> Doc<'m> {
    fn members(&self, first: u32, len: u32) -> &[Member<'m>] {
        self.members
            .get(first as usize..(first + len) as usize)
            .unwrap_or(&[])
    }

    fn resolve(&self, steps: &[Step], out: &mut Vec<u32>) {
        out.clear();
        out.push(self.root);
        let mut next = Vec::new();
        for step in steps {
            next.clear();
            for &id in out.iter() {
                match (step, self.nodes[id as usize]) {
                    (Step::Key(k), Node::Obj { first, len }) => {
                        // Duplicate keys: the last occurrence wins.
                        if let Some(m) = self
                            .members(first, len)
                            .iter()
                            .rev()
                            .find(|m| m.key == k.as_str())
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
                        let mut seen: HashSet<&str> = HashSet::new();
                        let start = next.len();
                        for m in members.iter().rev() {
                            if seen.insert(&m.key) {
                                next.push(m.node);
                            }
                        }
                        next[start..].reverse();
                    }
                    _ => {}
                }
            }
            std::mem::swap(out, &mut next);
            if out.is_empty() {
                return;
            }
        }
    }

    fn is_null_or_holds_null(&self, id: u32) -> bool {
        match self.nodes[id as usize] {
            Node::Null => true,
            Node::Arr { first, len } => self
                .members(first, len)
                .iter()
                .any(|m| matches!(self.nodes[m.node as usize], Node::Null)),
            _ => false,
        }
    }

    /// The text of a scalar node: unescaped string, or the number as written.
    fn scalar_text(&self, id: u32) -> Option<Cow<'m, str>> {
        match self.nodes[id as usize] {
            Node::Str(raw, false) => Some(Cow::Borrowed(raw)),
            Node::Str(raw, true) => Some(Cow::Owned(unescape(raw))),
            Node::Num(raw) => Some(Cow::Borrowed(raw)),
            _ => None,
        }
    }
}

fn compare(op: CmpOp, value: &CValue, node: Node<'_>, text: &str) -> bool {
    match (value, node) {
        (CValue::Num(_, n), Node::Num(raw)) => match raw.parse::<f64>() {
            Ok(x) => crate::matcher::compare_numbers(op, x, *n),
            Err(_) => false,
        },
        // A number literal against a string compares text for = / != only (spec §5.3).
        (CValue::Num(lit, _), _) => match op {
            CmpOp::Eq => text == lit,
            CmpOp::Ne => text != lit,
            _ => false,
        },
        (CValue::Str(glob), _) => glob_test(op, glob, text),
        (CValue::Regex(re), _) => match op {
            CmpOp::Eq => re.is_match(text),
            CmpOp::Ne => !re.is_match(text),
            _ => false,
        },
    }
}

fn glob_test(op: CmpOp, glob: &Glob, text: &str) -> bool {
    match op {
        CmpOp::Eq => glob.is_match(text),
        CmpOp::Ne => !glob.is_match(text),
        _ => false,
    }
}

impl JsonMatcher {
    pub(crate) fn new(expr: &JsonExpr, outputs: &[Vec<Step>]) -> Result<JsonMatcher, ParseError> {
        let mut selectors = Vec::new();
        let expr = compile(expr, &mut selectors)?;
        selectors.extend(outputs.iter().cloned());
        let mut trie = Trie::default();
        for s in &selectors {
            trie.insert(s);
        }
        // `IS NULL` also holds for an array holding null (spec §5.3, NATIVE-CAP), so the
        // elements of such arrays are kept too.
        for steps in null_tested(&expr, &selectors) {
            let mut steps = steps.to_vec();
            steps.push(Step::Wildcard);
            trie.insert(&steps);
        }
        let prefilter = needles(&expr, &selectors)
            .into_iter()
            .map(|clause| clause.iter().map(|n| Finder::new(n).into_owned()).collect())
            .collect();
        Ok(JsonMatcher {
            expr,
            selectors,
            trie,
            prefilter,
        })
    }

    /// Number of selectors of the pattern itself; outputs follow.
    fn condition_selectors(&self, outputs: usize) -> usize {
        self.selectors.len() - outputs
    }

    /// Evaluates the pattern; on a match, resolves `outputs` (the last selectors) to text.
    pub(crate) fn eval(
        &self,
        msg: &str,
        outputs: usize,
        out: Option<&mut Vec<Option<String>>>,
    ) -> bool {
        let bytes = msg.as_bytes();
        let first = bytes.iter().position(|&b| !is_json_ws(b));
        if !matches!(first.map(|i| bytes[i]), Some(b'{' | b'[')) {
            return false;
        }
        if !self.prefilter.is_empty() && memchr::memchr(b'\\', bytes).is_none() {
            let ok = self
                .prefilter
                .iter()
                .all(|clause| clause.iter().any(|f| f.find(bytes).is_some()));
            if !ok {
                return false;
            }
        }
        let mut sc = Scanner {
            s: bytes,
            src: msg,
            pos: 0,
            trie: &self.trie,
            nodes: Vec::with_capacity(8),
            members: Vec::with_capacity(8),
            pending: Vec::new(),
            skip_stack: Vec::new(),
        };
        let Ok(root) = sc.value(&[0]) else {
            return false;
        };
        sc.ws();
        if sc.pos != bytes.len() {
            return false;
        }
        let doc = Doc {
            nodes: sc.nodes,
            members: sc.members,
            root,
        };
        let mut scratch = Vec::new();
        if !self.eval_expr(&self.expr, &doc, &mut scratch) {
            return false;
        }
        if let Some(out) = out {
            let first_output = self.condition_selectors(outputs);
            for steps in &self.selectors[first_output..] {
                doc.resolve(steps, &mut scratch);
                let text = scratch.iter().find_map(|&id| doc.scalar_text(id));
                out.push(text.map(Cow::into_owned));
            }
        }
        true
    }

    fn eval_expr(&self, expr: &CExpr, doc: &Doc<'_>, scratch: &mut Vec<u32>) -> bool {
        match expr {
            CExpr::And(items) => items.iter().all(|e| self.eval_expr(e, doc, scratch)),
            CExpr::Or(items) => items.iter().any(|e| self.eval_expr(e, doc, scratch)),
            CExpr::Cond { selector, test } => {
                doc.resolve(&self.selectors[*selector], scratch);
                match test {
                    CTest::NotExists => scratch.is_empty(),
                    CTest::IsNull => scratch.iter().any(|&id| doc.is_null_or_holds_null(id)),
                    CTest::IsTrue => scratch
                        .iter()
                        .any(|&id| matches!(doc.nodes[id as usize], Node::Bool(true))),
                    CTest::IsFalse => scratch
                        .iter()
                        .any(|&id| matches!(doc.nodes[id as usize], Node::Bool(false))),
                    CTest::Compare(op, value) => scratch.iter().any(|&id| {
                        let node = doc.nodes[id as usize];
                        doc.scalar_text(id)
                            .is_some_and(|text| compare(*op, value, node, &text))
                    }),
                }
            }
        }
    }
}

/// Selectors tested with `IS NULL`.
fn null_tested<'a>(expr: &CExpr, selectors: &'a [Vec<Step>]) -> Vec<&'a [Step]> {
    match expr {
        CExpr::Cond {
            selector,
            test: CTest::IsNull,
        } => vec![&selectors[*selector]],
        CExpr::Cond { .. } => Vec::new(),
        CExpr::And(items) | CExpr::Or(items) => items
            .iter()
            .flat_map(|e| null_tested(e, selectors))
            .collect(),
    }
}

fn compile(expr: &JsonExpr, selectors: &mut Vec<Vec<Step>>) -> Result<CExpr, ParseError> {
    Ok(match expr {
        JsonExpr::And(items) => CExpr::And(
            items
                .iter()
                .map(|e| compile(e, selectors))
                .collect::<Result<_, _>>()?,
        ),
        JsonExpr::Or(items) => CExpr::Or(
            items
                .iter()
                .map(|e| compile(e, selectors))
                .collect::<Result<_, _>>()?,
        ),
        JsonExpr::Cond(c) => {
            selectors.push(c.selector.steps.clone());
            let test = match &c.test {
                JsonTest::Compare(op, v) => CTest::Compare(*op, CValue::new(v)?),
                JsonTest::IsNull => CTest::IsNull,
                JsonTest::IsTrue => CTest::IsTrue,
                JsonTest::IsFalse => CTest::IsFalse,
                JsonTest::NotExists => CTest::NotExists,
            };
            CExpr::Cond {
                selector: selectors.len() - 1,
                test,
            }
        }
    })
}

/// Substrings every matching message contains (when it has no backslash), as a conjunction of
/// disjunctions. A condition other than `NOT EXISTS` needs its selector's last key, quoted; a
/// string equality also needs the longest literal part of its value. Both hold because without
/// a backslash JSON strings and keys are their raw message text.
fn needles(expr: &CExpr, selectors: &[Vec<Step>]) -> Vec<Vec<Vec<u8>>> {
    match expr {
        CExpr::Cond {
            test: CTest::NotExists,
            ..
        } => Vec::new(),
        CExpr::Cond { selector, test } => {
            let mut clauses = Vec::new();
            if let CTest::Compare(CmpOp::Eq, CValue::Str(glob)) = test {
                let lit = glob.longest_literal();
                if !lit.is_empty() {
                    // The value is usually rarer than the key: check it first.
                    clauses.push(vec![lit.to_vec()]);
                }
            }
            // Every other test needs the selector to resolve, so its last key is in the text.
            let last_key = selectors[*selector].iter().rev().find_map(|s| match s {
                Step::Key(k) => Some(k),
                _ => None,
            });
            if let Some(key) = last_key {
                clauses.push(vec![format!("\"{key}\"").into_bytes()]);
            }
            clauses
        }
        CExpr::And(items) => items.iter().flat_map(|e| needles(e, selectors)).collect(),
        CExpr::Or(items) => {
            let mut any = Vec::new();
            for item in items {
                // Each alternative must guarantee something, else the disjunction guarantees
                // nothing.
                match needles(item, selectors).into_iter().next() {
                    Some(clause) => any.extend(clause),
                    None => return Vec::new(),
                }
            }
            vec![any]
        }
    }
}

/// Flattened `path = value` equalities every match satisfies, for storage pushdown.
pub(crate) fn equalities(expr: &JsonExpr, out: &mut Vec<(Vec<Step>, Value)>) {
    match expr {
        JsonExpr::And(items) => items.iter().for_each(|e| equalities(e, out)),
        JsonExpr::Cond(c) => {
            if let JsonTest::Compare(CmpOp::Eq, v) = &c.test {
                let exact = match v {
                    Value::Str(s) => !s.contains('*'),
                    Value::Num(..) => true,
                    Value::Regex(_) => false,
                };
                if exact && c.selector.wildcards() == 0 {
                    out.push((c.selector.steps.clone(), v.clone()));
                }
            }
        }
        JsonExpr::Or(_) => {}
    }
}
