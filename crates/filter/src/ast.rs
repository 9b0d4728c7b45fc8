//! The syntax tree of a filter pattern, and its printer.
//!
//! Printing is canonical: `parse(print(ast))` yields `ast` again (spans aside), which the
//! property tests check. Compound JSON / field expressions print every nested compound in
//! parentheses so the tree shape survives the round trip.

use std::fmt::{self, Write};

use crate::error::Span;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// Empty or whitespace-only pattern: every event.
    MatchAll,
    /// Unstructured terms (§4).
    Terms(Vec<Term>),
    /// `{ ... }` (§5).
    Json(JsonExpr),
    /// `[ ... ]` (§6).
    Space(Vec<Entry>),
}

/// How a term combines with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// Must be found.
    Include,
    /// `-`: must not be found.
    Exclude,
    /// `?`: at least one optional term must be found (only when nothing else is given).
    Optional,
}

/// One term of a term pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Include, exclude or optional.
    pub prefix: Prefix,
    /// What to look for.
    pub atom: TermAtom,
    /// Where the term (with its prefix) is in the pattern.
    pub span: Span,
}

/// The text a term looks for.
#[derive(Debug, Clone, PartialEq)]
pub enum TermAtom {
    /// An unquoted word, `[A-Za-z0-9_]+`.
    Word(String),
    /// A quoted phrase, escapes resolved.
    Phrase(String),
    /// `%...%`.
    Regex(RegexLit),
}

/// A `%...%` literal; `body` is the text between the delimiters, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexLit {
    /// The regex source without the `%` delimiters.
    pub body: String,
}

/// A JSON pattern expression.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    /// Every operand holds (two or more).
    And(Vec<JsonExpr>),
    /// Some operand holds (two or more).
    Or(Vec<JsonExpr>),
    /// A single condition.
    Cond(Condition),
}

/// `selector op value`, `selector IS NULL`, ...
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The path the condition looks at.
    pub selector: Selector,
    /// What it requires there.
    pub test: JsonTest,
    /// Where the condition is.
    pub span: Span,
}

/// The test of a JSON condition.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTest {
    /// A comparison with a literal.
    Compare(CmpOp, Value),
    /// `IS NULL`.
    IsNull,
    /// `IS TRUE`.
    IsTrue,
    /// `IS FALSE`.
    IsFalse,
    /// `NOT EXISTS`.
    NotExists,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// True for the four ordering operators, which require a number literal.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, quoted or bare; every `*` is a wildcard.
    Str(String),
    /// A bare number: the text as written and its value.
    Num(String, f64),
    /// `%...%`.
    Regex(RegexLit),
}

/// A JSON selector: `$` followed by steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The steps after `$`.
    pub steps: Vec<Step>,
    /// Where the selector is (default when built by hand).
    pub span: Span,
}

impl Selector {
    /// Number of wildcard steps.
    pub fn wildcards(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Wildcard))
            .count()
    }
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// `.name` or `.['any text']`.
    Key(String),
    /// `[n]`.
    Index(u32),
    /// `.*` or `[*]`.
    Wildcard,
}

/// One entry of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// `...`: any number of unnamed fields.
    Ellipsis,
    /// An empty entry: one unnamed field.
    Blank,
    /// A named field and the condition on it.
    Field {
        /// The field name.
        name: String,
        /// Its condition; [`FieldExpr::Exists`] when none is given.
        expr: FieldExpr,
        /// Where the entry is.
        span: Span,
    },
}

/// A condition on one space-delimited field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldExpr {
    /// The bare name: the field only has to exist.
    Exists,
    /// `name op value`.
    Compare(CmpOp, Value),
    /// Every operand holds.
    And(Vec<FieldExpr>),
    /// Some operand holds.
    Or(Vec<FieldExpr>),
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_json_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn write_quoted(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.write_char('\\')?;
        }
        out.write_char(c)?;
    }
    out.write_char('"')
}

/// True when `text` reads back as a number if written bare.
pub(crate) fn looks_numeric(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - s;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

/// Whether a string value may be printed bare in the given context without changing meaning.
fn bare_ok(text: &str, space_delimited: bool) -> bool {
    if text.is_empty() || looks_numeric(text) || text.starts_with('%') {
        return false;
    }
    text.bytes().all(|b| {
        b.is_ascii_graphic()
            && !matches!(
                b,
                b'(' | b')' | b'&' | b'|' | b'{' | b'}' | b'"' | b'\\' | b'=' | b'!' | b'<' | b'>'
            )
            && !(space_delimited && matches!(b, b',' | b']' | b'['))
    })
}

fn write_value(out: &mut impl Write, value: &Value, space_delimited: bool) -> fmt::Result {
    match value {
        Value::Str(s) if bare_ok(s, space_delimited) => out.write_str(s),
        Value::Str(s) => write_quoted(out, s),
        Value::Num(text, _) => out.write_str(text),
        Value::Regex(r) => write!(out, "%{}%", r.body),
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('$')?;
        for step in &self.steps {
            match step {
                Step::Key(k) if !k.is_empty() && k.bytes().all(is_json_name_byte) => {
                    write!(f, ".{k}")?
                }
                Step::Key(k) if k.contains('\'') => write!(f, ".[\"{k}\"]")?,
                Step::Key(k) => write!(f, ".['{k}']")?,
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Wildcard => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

fn write_json(f: &mut fmt::Formatter<'_>, expr: &JsonExpr, nested: bool) -> fmt::Result {
    match expr {
        JsonExpr::Cond(c) => {
            write!(f, "{}", c.selector)?;
            match &c.test {
                JsonTest::Compare(op, v) => {
                    write!(f, " {} ", op.as_str())?;
                    write_value(f, v, false)
                }
                JsonTest::IsNull => f.write_str(" IS NULL"),
                JsonTest::IsTrue => f.write_str(" IS TRUE"),
                JsonTest::IsFalse => f.write_str(" IS FALSE"),
                JsonTest::NotExists => f.write_str(" NOT EXISTS"),
            }
        }
        JsonExpr::And(items) | JsonExpr::Or(items) => {
            let op = if matches!(expr, JsonExpr::And(_)) {
                " && "
            } else {
                " || "
            };
            if nested {
                f.write_char('(')?;
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(op)?;
                }
                write_json(f, item, true)?;
            }
            if nested {
                f.write_char(')')?;
            }
            Ok(())
        }
    }
}

fn write_field(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    expr: &FieldExpr,
    nested: bool,
) -> fmt::Result {
    match expr {
        FieldExpr::Exists => f.write_str(name),
        FieldExpr::Compare(op, v) => {
            write!(f, "{name} {} ", op.as_str())?;
            write_value(f, v, true)
        }
        FieldExpr::And(items) | FieldExpr::Or(items) => {
            let op = if matches!(expr, FieldExpr::And(_)) {
                " && "
            } else {
                " || "
            };
            if nested {
                f.write_char('(')?;
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(op)?;
                }
                write_field(f, name, item, true)?;
            }
            if nested {
                f.write_char(')')?;
            }
            Ok(())
        }
    }
}

impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ast::MatchAll => Ok(()),
            Ast::Terms(terms) => {
                for (i, t) in terms.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    match t.prefix {
                        Prefix::Include => {}
                        Prefix::Exclude => f.write_char('-')?,
                        Prefix::Optional => f.write_char('?')?,
                    }
                    match &t.atom {
                        TermAtom::Word(w) if !w.is_empty() && w.bytes().all(is_word_byte) => {
                            f.write_str(w)?
                        }
                        TermAtom::Word(w) | TermAtom::Phrase(w) => write_quoted(f, w)?,
                        TermAtom::Regex(r) => write!(f, "%{}%", r.body)?,
                    }
                }
                Ok(())
            }
            Ast::Json(expr) => {
                f.write_str("{ ")?;
                write_json(f, expr, false)?;
                f.write_str(" }")
            }
            Ast::Space(entries) => {
                f.write_char('[')?;
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match e {
                        Entry::Ellipsis => f.write_str("...")?,
                        Entry::Blank => {}
                        Entry::Field { name, expr, .. } => write_field(f, name, expr, false)?,
                    }
                }
                f.write_char(']')
            }
        }
    }
}

impl Ast {
    /// The same tree with every span reset, for comparing trees parsed from different text.
    pub fn without_spans(&self) -> Ast {
        let mut ast = self.clone();
        match &mut ast {
            Ast::MatchAll => {}
            Ast::Terms(terms) => terms.iter_mut().for_each(|t| t.span = Span::default()),
            Ast::Json(expr) => clear_json(expr),
            Ast::Space(entries) => {
                for e in entries {
                    if let Entry::Field { span, .. } = e {
                        *span = Span::default();
                    }
                }
            }
        }
        ast
    }
}

fn clear_json(expr: &mut JsonExpr) {
    match expr {
        JsonExpr::Cond(c) => {
            c.span = Span::default();
            c.selector.span = Span::default();
        }
        JsonExpr::And(items) | JsonExpr::Or(items) => items.iter_mut().for_each(clear_json),
    }
}
