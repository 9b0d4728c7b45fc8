//! The compiled pattern: what the server evaluates per event.

mod glob;
mod json;
mod space;
mod terms;

use regex::Regex;

use crate::ast::{Ast, CmpOp, Entry, FieldExpr, Prefix, Step, TermAtom, Value, looks_numeric};
use crate::error::ParseError;
use crate::output::ValueExpr;
use glob::Glob;
use json::JsonMatcher;
use space::SpaceMatcher;
use terms::TermsMatcher;

/// A compiled comparison literal.
#[derive(Debug, Clone)]
pub(crate) enum CValue {
    Str(Glob),
    Num(String, f64),
    Regex(Regex),
}

impl CValue {
    pub(crate) fn new(v: &Value) -> Result<CValue, ParseError> {
        Ok(match v {
            Value::Str(s) => CValue::Str(Glob::new(s)),
            Value::Num(text, n) => CValue::Num(text.clone(), *n),
            Value::Regex(r) => CValue::Regex(crate::regex::compile(&r.body, 0)?),
        })
    }
}

pub(crate) fn compare_numbers(op: CmpOp, x: f64, lit: f64) -> bool {
    match op {
        CmpOp::Eq => x == lit,
        CmpOp::Ne => x != lit,
        CmpOp::Lt => x < lit,
        CmpOp::Le => x <= lit,
        CmpOp::Gt => x > lit,
        CmpOp::Ge => x >= lit,
    }
}

/// A comparison against a space-delimited field (spec §6.4).
pub(crate) fn compare_text(op: CmpOp, value: &CValue, field: &str) -> bool {
    match value {
        CValue::Str(glob) => match op {
            CmpOp::Eq => glob.is_match(field),
            CmpOp::Ne => !glob.is_match(field),
            _ => false,
        },
        CValue::Num(lit, n) => match field.parse::<f64>() {
            Ok(x) if looks_numeric(field) => compare_numbers(op, x, *n),
            // Not a number: ordering is false, (in)equality compares text (spec §6.4).
            _ => match op {
                CmpOp::Eq => field == lit,
                CmpOp::Ne => field != lit,
                _ => false,
            },
        },
        CValue::Regex(re) => match op {
            CmpOp::Eq => re.is_match(field),
            CmpOp::Ne => !re.is_match(field),
            _ => false,
        },
    }
}

#[derive(Debug, Clone)]
enum Compiled {
    All,
    Terms(TermsMatcher),
    Json(JsonMatcher),
    Space(SpaceMatcher),
}

/// What TestMetricFilter and metric filters need from a matching event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extracted {
    values: Vec<(String, String)>,
    outputs: Vec<Option<String>>,
}

impl Extracted {
    /// TestMetricFilter `extractedValues`, in field order: `$name` / `$N` keys for
    /// space-delimited patterns, empty for term and JSON patterns (spec §10.1).
    pub fn values(&self) -> &[(String, String)] {
        &self.values
    }

    /// One extracted value by key (`$status_code`, `$7`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The text of output `i` (in the order given to [`Pattern::with_outputs`]), if the
    /// event has it.
    pub fn output(&self, i: usize) -> Option<&str> {
        self.outputs.get(i).and_then(Option::as_deref)
    }

    /// Output `i` as a metric value: `None` when missing or not numeric, in which case no
    /// data point is emitted for the event (spec §10).
    pub fn output_number(&self, i: usize) -> Option<f64> {
        let text = self.output(i)?.trim();
        if looks_numeric(text) {
            text.parse().ok()
        } else {
            None
        }
    }
}

/// A parsed and compiled filter pattern. Cheap to share across threads (`Send + Sync`).
///
/// Besides matching, it exposes what a storage layer can push down:
/// [`required_substrings`](Pattern::required_substrings) and
/// [`json_equalities`](Pattern::json_equalities).
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    ast: Ast,
    compiled: Compiled,
    outputs: Vec<ValueExpr>,
}

/// A `path = value` condition that every event matched by a JSON pattern satisfies.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonEquality {
    /// The selector's steps (no wildcards).
    pub path: Vec<Step>,
    /// The literal: a string (compared exactly) or a number (compared numerically, so
    /// `400` also matches `400.0` and `4e2`).
    pub value: Value,
}

impl JsonEquality {
    /// The flattened column name used by the segment format: keys and indexes joined by `.`
    /// (`a.b.0`).
    pub fn flat_name(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.path.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            match step {
                Step::Key(k) => out.push_str(k),
                Step::Index(n) => out.push_str(&n.to_string()),
                Step::Wildcard => out.push('*'),
            }
        }
        out
    }
}

impl Pattern {
    /// Parses and compiles `pattern`. Errors are typed; see [`ParseError::aws_message`].
    pub fn parse(pattern: &str) -> Result<Pattern, ParseError> {
        let ast = crate::parse::parse(pattern)?;
        let compiled = compile(&ast, &[])?;
        Ok(Pattern {
            source: pattern.to_owned(),
            ast,
            compiled,
            outputs: Vec::new(),
        })
    }

    /// Adds the metric transformation's value and dimension expressions (`$.latency`,
    /// `$status_code`, `$7`, `1`), so [`Pattern::extract`] resolves them in the same pass
    /// that matches the event.
    pub fn with_outputs(mut self, outputs: &[&str]) -> Result<Pattern, ParseError> {
        let mut exprs = Vec::with_capacity(outputs.len());
        for text in outputs {
            let expr = ValueExpr::parse(text)?;
            let fits = match (&expr, &self.ast) {
                (ValueExpr::Number(..), _) => true,
                (ValueExpr::Json(_), Ast::Json(_)) => true,
                (ValueExpr::Field(_) | ValueExpr::Position(_), Ast::Space(_)) => true,
                (_, Ast::Terms(_) | Ast::MatchAll) => {
                    return Err(ParseError::DimensionsUnsupported {
                        value: (*text).to_owned(),
                    });
                }
                _ => false,
            };
            if !fits {
                return Err(ParseError::Syntax {
                    expected: "a value expression of the pattern's kind",
                    found: format!("'{text}'"),
                    span: crate::error::Span::new(0, text.len()),
                });
            }
            exprs.push(expr);
        }
        let json_outputs: Vec<Vec<Step>> = exprs
            .iter()
            .filter_map(|e| match e {
                ValueExpr::Json(steps) => Some(steps.clone()),
                _ => None,
            })
            .collect();
        self.compiled = compile(&self.ast, &json_outputs)?;
        self.outputs = exprs;
        Ok(self)
    }

    /// The pattern text as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn ast(&self) -> &Ast {
        &self.ast
    }

    /// Whether the message is selected.
    pub fn matches(&self, message: &str) -> bool {
        match &self.compiled {
            Compiled::All => true,
            Compiled::Terms(m) => m.matches(message),
            Compiled::Json(m) => m.eval(message, 0, None),
            Compiled::Space(m) => m.eval(message, None),
        }
    }

    /// Matches and, if the message is selected, returns the TestMetricFilter extracted values
    /// and the outputs. Parses the message once.
    pub fn extract(&self, message: &str) -> Option<Extracted> {
        let mut ex = Extracted::default();
        let matched = match &self.compiled {
            Compiled::All => true,
            Compiled::Terms(m) => m.matches(message),
            Compiled::Json(m) => {
                let json_outputs = self
                    .outputs
                    .iter()
                    .filter(|e| matches!(e, ValueExpr::Json(_)))
                    .count();
                let mut resolved = Vec::with_capacity(json_outputs);
                let ok = m.eval(message, json_outputs, Some(&mut resolved));
                let mut resolved = resolved.into_iter();
                for expr in &self.outputs {
                    ex.outputs.push(match expr {
                        ValueExpr::Number(text, _) => Some(text.clone()),
                        _ => resolved.next().flatten(),
                    });
                }
                return ok.then_some(ex);
            }
            Compiled::Space(m) => m.eval(message, Some(&mut ex.values)),
        };
        if !matched {
            return None;
        }
        for expr in &self.outputs {
            ex.outputs.push(match expr {
                ValueExpr::Number(text, _) => Some(text.clone()),
                ValueExpr::Field(name) => ex.get(&format!("${name}")).map(str::to_owned),
                ValueExpr::Position(n) => ex.get(&format!("${n}")).map(str::to_owned),
                ValueExpr::Json(_) => None,
            });
        }
        Some(ex)
    }

    /// Substrings of the raw message that every selected event contains, as a conjunction of
    /// disjunctions: the event can only match if, for each inner list, it contains at least one
    /// of its strings. Empty when nothing is required. Exact for term patterns (include terms,
    /// or the `?` terms together) and space-delimited patterns (literal parts of `=` values,
    /// which are raw message text); JSON patterns contribute nothing here because a JSON string
    /// may be escaped in the raw message — use [`Pattern::json_equalities`] instead.
    pub fn required_substrings(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        match &self.ast {
            Ast::Terms(terms) => {
                let text = |a: &TermAtom| match a {
                    TermAtom::Word(t) | TermAtom::Phrase(t) if !t.is_empty() => Some(t.clone()),
                    _ => None,
                };
                let has_required = terms.iter().any(|t| t.prefix != Prefix::Optional);
                if has_required {
                    out.extend(
                        terms
                            .iter()
                            .filter(|t| t.prefix == Prefix::Include)
                            .filter_map(|t| text(&t.atom))
                            .map(|t| vec![t]),
                    );
                } else {
                    let any: Option<Vec<String>> = terms.iter().map(|t| text(&t.atom)).collect();
                    if let Some(any) = any.filter(|a| !a.is_empty()) {
                        out.push(any);
                    }
                }
            }
            Ast::Space(entries) => {
                for e in entries {
                    if let Entry::Field { expr, .. } = e {
                        field_needles(expr, &mut out);
                    }
                }
            }
            Ast::MatchAll | Ast::Json(_) => {}
        }
        out
    }

    /// For JSON patterns: the `path = literal` equalities (exact strings without `*`, numbers)
    /// that every selected event satisfies — the conjuncts at the top level of the pattern.
    /// A storage layer can test them against flattened field columns or blooms before
    /// decompressing messages.
    pub fn json_equalities(&self) -> Vec<JsonEquality> {
        let mut out = Vec::new();
        if let Ast::Json(expr) = &self.ast {
            let mut raw = Vec::new();
            json::equalities(expr, &mut raw);
            out.extend(
                raw.into_iter()
                    .map(|(path, value)| JsonEquality { path, value }),
            );
        }
        out
    }
}

fn field_needles(expr: &FieldExpr, out: &mut Vec<Vec<String>>) {
    match expr {
        FieldExpr::Compare(CmpOp::Eq, Value::Str(s)) => {
            if let Some(longest) = s
                .split('*')
                .max_by_key(|p| p.len())
                .filter(|p| !p.is_empty())
            {
                out.push(vec![longest.to_owned()]);
            }
        }
        FieldExpr::And(items) => items.iter().for_each(|e| field_needles(e, out)),
        _ => {}
    }
}

fn compile(ast: &Ast, json_outputs: &[Vec<Step>]) -> Result<Compiled, ParseError> {
    Ok(match ast {
        Ast::MatchAll => Compiled::All,
        Ast::Terms(terms) => Compiled::Terms(TermsMatcher::new(terms)?),
        Ast::Json(expr) => Compiled::Json(JsonMatcher::new(expr, json_outputs)?),
        Ast::Space(entries) => Compiled::Space(SpaceMatcher::new(entries)?),
    })
}
