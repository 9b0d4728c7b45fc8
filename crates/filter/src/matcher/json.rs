//! JSON patterns (spec §5.3): a lazy, validating scanner ([`scan`]) and the evaluation of
//! the pattern's conditions over the values it kept.
//!
//! The whole message is validated, because AWS does not match JSON patterns against messages
//! that are not JSON (a truncated document must not match because its first field looked
//! right).

mod scan;

use std::borrow::Cow;
use std::cell::RefCell;

use memchr::memmem::Finder;

use crate::ast::{CmpOp, JsonExpr, JsonTest, Step, Value};
use crate::error::ParseError;
use crate::matcher::CValue;
use crate::matcher::glob::Glob;
use scan::{Doc, Node, Scratch, Trie};

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
    /// Conjunction of disjunctions of substrings a matching message contains (see
    /// [`needles`] for when the test is exact).
    prefilter: Vec<Vec<Finder<'static>>>,
    /// Whether every prefilter needle is free of characters a short escape (`\n`, `\"`, …)
    /// can produce: then only `\u` escapes can hide a needle, not any backslash.
    prefilter_plain: bool,
}

thread_local! {
    /// Scanner buffers, reused across messages on this thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn compare(op: CmpOp, value: &CValue, node: Node, text: &str) -> bool {
    match (value, node) {
        (CValue::Num(_, n), Node::Num(_)) => match text.parse::<f64>() {
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

/// Whether `needle` can only appear in the decoded JSON text as the same raw bytes when the
/// message has no `\u` escape: it holds no character a short escape stands for (`"` only as
/// the delimiters of a quoted key).
fn plain_needle(needle: &[u8]) -> bool {
    let inner = match needle {
        [b'"', inner @ .., b'"'] => inner,
        other => other,
    };
    !inner
        .iter()
        .any(|&b| b < 0x20 || matches!(b, b'"' | b'\\' | b'/'))
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
        let needles = needles(&expr, &selectors);
        let prefilter_plain = needles.iter().flatten().all(|n| plain_needle(n));
        let prefilter = needles
            .into_iter()
            .map(|clause| clause.iter().map(|n| Finder::new(n).into_owned()).collect())
            .collect();
        Ok(JsonMatcher {
            expr,
            selectors,
            trie,
            prefilter,
            prefilter_plain,
        })
    }

    /// Number of selectors of the pattern itself; outputs follow.
    fn condition_selectors(&self, outputs: usize) -> usize {
        self.selectors.len() - outputs
    }

    /// Whether the prefilter may run on this message and rejects it. It may when the raw
    /// text shows every JSON string as its value: no backslash at all, or (for plain
    /// needles) no `\u` escape. A `\\u` (escaped backslash, then `u`) only costs the
    /// shortcut.
    fn prefilter_rejects(&self, bytes: &[u8], clean: bool) -> bool {
        if self.prefilter.is_empty() {
            return false;
        }
        // A clean message has no backslash; otherwise find the first one.
        if !clean
            && let Some(at) = memchr::memchr(b'\\', bytes)
            && (!self.prefilter_plain || memchr::memmem::find(&bytes[at..], b"\\u").is_some())
        {
            return false;
        }
        !self
            .prefilter
            .iter()
            .all(|clause| clause.iter().any(|f| f.find(bytes).is_some()))
    }

    /// Evaluates the pattern; on a match, resolves `outputs` (the last selectors) to text.
    pub(crate) fn eval(
        &self,
        msg: &str,
        outputs: usize,
        out: Option<&mut Vec<Option<String>>>,
    ) -> bool {
        let bytes = msg.as_bytes();
        let first = scan::first_non_ws(bytes);
        if !matches!(first.map(|i| bytes[i]), Some(b'{' | b'[')) {
            return false;
        }
        let clean = !scan::has_escape_or_control(bytes);
        if self.prefilter_rejects(bytes, clean) {
            return false;
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.eval_in(msg, clean, outputs, out, &mut scratch),
            // Only reachable if evaluation ever re-entered itself on this thread.
            Err(_) => self.eval_in(msg, clean, outputs, out, &mut Scratch::default()),
        })
    }

    fn eval_in(
        &self,
        msg: &str,
        clean: bool,
        outputs: usize,
        out: Option<&mut Vec<Option<String>>>,
        scratch: &mut Scratch,
    ) -> bool {
        let Some((doc, found, next)) = scan::parse(msg, clean, &self.trie, scratch) else {
            return false;
        };
        if !self.eval_expr(&self.expr, &doc, found, next) {
            return false;
        }
        if let Some(out) = out {
            let first_output = self.condition_selectors(outputs);
            for steps in &self.selectors[first_output..] {
                doc.resolve(steps, found, next);
                let text = found.iter().find_map(|&id| doc.scalar_text(id));
                out.push(text.map(Cow::into_owned));
            }
        }
        true
    }

    fn eval_expr(
        &self,
        expr: &CExpr,
        doc: &Doc<'_>,
        found: &mut Vec<u32>,
        next: &mut Vec<u32>,
    ) -> bool {
        match expr {
            CExpr::And(items) => items.iter().all(|e| self.eval_expr(e, doc, found, next)),
            CExpr::Or(items) => items.iter().any(|e| self.eval_expr(e, doc, found, next)),
            CExpr::Cond { selector, test } => {
                doc.resolve(&self.selectors[*selector], found, next);
                match test {
                    CTest::NotExists => found.is_empty(),
                    CTest::IsNull => found.iter().any(|&id| doc.is_null_or_holds_null(id)),
                    CTest::IsTrue => found
                        .iter()
                        .any(|&id| matches!(doc.node(id), Node::Bool(true))),
                    CTest::IsFalse => found
                        .iter()
                        .any(|&id| matches!(doc.node(id), Node::Bool(false))),
                    CTest::Compare(op, value) => found.iter().any(|&id| {
                        doc.scalar_text(id)
                            .is_some_and(|text| compare(*op, value, doc.node(id), &text))
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

/// Substrings every matching message contains, as a conjunction of disjunctions. A condition
/// other than `NOT EXISTS` needs its selector's last key, quoted; a string equality also needs
/// the longest literal part of its value. Both hold when the raw message shows JSON strings as
/// their values: when it has no backslash, or, for needles without characters that short
/// escapes stand for, when it has no `\u` escape.
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
