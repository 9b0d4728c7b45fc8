//! Space-delimited patterns (spec §6.2–6.5): split the message into fields, align them with
//! the entries, test each field.

use crate::ast::{Entry, FieldExpr};
use crate::error::ParseError;
use crate::lexer::is_ws;
use crate::matcher::{CValue, compare_text};

#[derive(Debug, Clone)]
enum CExpr {
    Exists,
    Compare(crate::ast::CmpOp, CValue),
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
}

impl CExpr {
    fn new(expr: &FieldExpr) -> Result<CExpr, ParseError> {
        Ok(match expr {
            FieldExpr::Exists => CExpr::Exists,
            FieldExpr::Compare(op, v) => CExpr::Compare(*op, CValue::new(v)?),
            FieldExpr::And(items) => {
                CExpr::And(items.iter().map(CExpr::new).collect::<Result<_, _>>()?)
            }
            FieldExpr::Or(items) => {
                CExpr::Or(items.iter().map(CExpr::new).collect::<Result<_, _>>()?)
            }
        })
    }

    fn eval(&self, field: &str) -> bool {
        match self {
            CExpr::Exists => true,
            CExpr::Compare(op, v) => compare_text(*op, v, field),
            CExpr::And(items) => items.iter().all(|e| e.eval(field)),
            CExpr::Or(items) => items.iter().any(|e| e.eval(field)),
        }
    }
}

#[derive(Debug, Clone)]
struct CEntry {
    /// `$name` for named entries, `None` for blanks (reported by position).
    key: Option<String>,
    expr: CExpr,
}

#[derive(Debug, Clone)]
pub(crate) struct SpaceMatcher {
    /// Entries before `...` (all entries when there is none).
    before: Vec<CEntry>,
    /// Entries after `...`; `None` without an ellipsis.
    after: Option<Vec<CEntry>>,
}

/// One field of the message: `value` has `"`/`[]` delimiters removed, `raw` keeps them.
#[derive(Debug, Clone, Copy)]
struct Field {
    value: (usize, usize),
    raw: (usize, usize),
}

fn split(msg: &str, out: &mut Vec<Field>) {
    let b = msg.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return;
        }
        let start = i;
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        // Unterminated: an ordinary token that keeps the opening character.
        if let Some(off) = close.and_then(|c| memchr::memchr(c, &b[i + 1..])) {
            let end = i + 1 + off;
            out.push(Field {
                value: (start + 1, end),
                raw: (start, end + 1),
            });
            i = end + 1;
            continue;
        }
        while i < b.len() && !is_ws(b[i]) {
            i += 1;
        }
        out.push(Field {
            value: (start, i),
            raw: (start, i),
        });
    }
}

impl SpaceMatcher {
    pub(crate) fn new(entries: &[Entry]) -> Result<SpaceMatcher, ParseError> {
        let mut before = Vec::new();
        let mut after: Option<Vec<CEntry>> = None;
        for entry in entries {
            let c = match entry {
                Entry::Ellipsis => {
                    after = Some(Vec::new());
                    continue;
                }
                Entry::Blank => CEntry {
                    key: None,
                    expr: CExpr::Exists,
                },
                Entry::Field { name, expr, .. } => CEntry {
                    key: Some(format!("${name}")),
                    expr: CExpr::new(expr)?,
                },
            };
            match &mut after {
                Some(a) => a.push(c),
                None => before.push(c),
            }
        }
        Ok(SpaceMatcher { before, after })
    }

    /// Evaluates; when `out` is given and the message matches, fills it with the extracted
    /// values in field order.
    pub(crate) fn eval(&self, msg: &str, out: Option<&mut Vec<(String, String)>>) -> bool {
        let mut fields = Vec::with_capacity(16);
        split(msg, &mut fields);
        let n = fields.len();
        let text = |f: Field| msg.get(f.value.0..f.value.1).unwrap_or("");
        // (entry, value) pairs in field order; positions are 1-based.
        let mut assigned: Vec<(Option<&CEntry>, usize, &str)> = Vec::with_capacity(n);
        match &self.after {
            Some(after) => {
                let (b, a) = (self.before.len(), after.len());
                if n < a + b {
                    return false;
                }
                for (i, f) in fields.iter().enumerate() {
                    let entry = if i < b {
                        Some(&self.before[i])
                    } else if i >= n - a {
                        Some(&after[i - (n - a)])
                    } else {
                        None
                    };
                    assigned.push((entry, i + 1, text(*f)));
                }
            }
            None if self.before.is_empty() => {
                for (i, f) in fields.iter().enumerate() {
                    assigned.push((None, i + 1, text(*f)));
                }
            }
            None => {
                let k = self.before.len();
                if n < k {
                    return false;
                }
                for (i, entry) in self.before.iter().enumerate() {
                    let value = if i + 1 == k && n > k {
                        // The last entry absorbs the rest of the line, raw.
                        msg.get(fields[i].raw.0..fields[n - 1].raw.1).unwrap_or("")
                    } else {
                        text(fields[i])
                    };
                    assigned.push((Some(entry), i + 1, value));
                }
            }
        }
        for (entry, _, value) in &assigned {
            if entry.is_some_and(|e| !e.expr.eval(value)) {
                return false;
            }
        }
        if let Some(out) = out {
            for (entry, pos, value) in assigned {
                let key = match entry.and_then(|e| e.key.clone()) {
                    Some(k) => k,
                    None => format!("${pos}"),
                };
                out.push((key, value.to_owned()));
            }
        }
        true
    }
}
