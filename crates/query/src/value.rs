//! Dynamically typed values (spec §4.2): coercions, equality, the sort order of §9 and the
//! string rendering of §10.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

/// A row value. Missing and JSON `null` are both [`Value::Null`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Value {
    /// Missing.
    #[default]
    Null,
    /// Text.
    Str(String),
    /// A double; integers are exact up to 2^53.
    Num(f64),
    /// Epoch milliseconds, UTC.
    Ts(i64),
    /// Renders `1` / `0`.
    Bool(bool),
    /// A map or list from `jsonParse` (never a scalar).
    Json(Arc<serde_json::Value>),
}

/// Parses a numeric-looking string (spec §4.2): an optional sign, digits with an optional
/// fraction, an optional exponent, surrounding whitespace ignored. `inf`/`nan` are text.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let bytes = t.as_bytes();
    let first = *bytes.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    if !bytes.iter().any(u8::is_ascii_digit) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Integral values without a decimal point, others in the shortest round-trip form
/// (spec §10.3).
pub(crate) fn render_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e17 {
        let i = n as i64;
        return i.to_string();
    }
    format!("{n}")
}

impl Value {
    pub(crate) fn from_json_ref(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(Value::Null, Value::Num),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            other => Value::Json(Arc::new(other.clone())),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The numeric value: numbers, timestamps (epoch ms), booleans (1/0) and numeric-looking
    /// strings.
    pub(crate) fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Ts(t) => Some(*t as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => parse_number(s),
            Value::Null | Value::Json(_) => None,
        }
    }

    /// The value as text for string functions and matching; maps, lists and null have none.
    pub(crate) fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Null | Value::Json(_) => None,
            other => other.render().map(Cow::Owned),
        }
    }

    /// The result rendering (spec §10); `None` for null.
    pub(crate) fn render(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            Value::Num(n) => Some(render_number(*n)),
            Value::Ts(t) => Some(crate::time::render(*t)),
            Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
            Value::Json(j) => Some(j.to_string()),
        }
    }

    /// Truthiness (spec §5.3): null false, numbers non-zero, strings numeric value if
    /// numeric-looking else non-empty.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0,
            Value::Ts(t) => *t != 0,
            Value::Str(s) => parse_number(s).map_or(!s.is_empty(), |n| n != 0.0),
            Value::Json(_) => true,
        }
    }

    /// `a op b` ordering for comparisons (spec §5.2): numeric when both are numeric, else
    /// string order; `None` when either side is null, a map or a list.
    pub(crate) fn compare(&self, other: &Value) -> Option<Ordering> {
        if matches!(self, Value::Null | Value::Json(_))
            || matches!(other, Value::Null | Value::Json(_))
        {
            return None;
        }
        if let (Some(a), Some(b)) = (self.as_num(), other.as_num()) {
            return a.partial_cmp(&b);
        }
        let (a, b) = (self.as_text()?, other.as_text()?);
        Some(a.as_ref().cmp(b.as_ref()))
    }

    /// Whether the value is a "number value" in the sort order of §9.
    fn sort_number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Ts(t) => Some(*t as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => parse_number(s),
            Value::Null | Value::Json(_) => None,
        }
    }

    /// A key usable as a hash key for grouping, dedup and distinct counting.
    /// [`Value::group_key`], keeping a string's buffer.
    pub(crate) fn into_group_key(self) -> GroupKey {
        match self {
            Value::Str(s) => GroupKey::Text(s),
            other => other.group_key(),
        }
    }

    pub(crate) fn group_key(&self) -> GroupKey {
        match self {
            Value::Null | Value::Json(_) => GroupKey::Null,
            Value::Ts(t) => GroupKey::Ts(*t),
            other => GroupKey::Text(other.render().unwrap_or_default()),
        }
    }
}

/// A hashable image of a value: timestamps keep their type so a grouped `bin()` renders as
/// a timestamp again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum GroupKey {
    Null,
    Ts(i64),
    Text(String),
}

/// The total order of spec §9 for non-null values: non-numbers first in natural order, then
/// numbers numerically (ties by text); timestamps are numbers; nulls last.
pub(crate) fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    let (an, bn) = (
        matches!(a, Value::Null | Value::Json(_)),
        matches!(b, Value::Null | Value::Json(_)),
    );
    match (an, bn) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    match (a.sort_number(), b.sort_number()) {
        (Some(x), Some(y)) => x
            .partial_cmp(&y)
            .unwrap_or(Ordering::Equal)
            .then_with(|| text_of(a).cmp(&text_of(b))),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => natural_cmp(&text_of(a), &text_of(b)),
    }
}

fn text_of(v: &Value) -> Cow<'_, str> {
    v.as_text().unwrap_or(Cow::Borrowed(""))
}

/// Natural order: runs of digits compare by length then value, other runs by code points; a
/// prefix sorts first.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (rx, tx) = split_run(x);
        let (ry, ty) = split_run(y);
        let dx = rx.as_bytes().first().is_some_and(u8::is_ascii_digit);
        let dy = ry.as_bytes().first().is_some_and(u8::is_ascii_digit);
        let ord = if dx && dy {
            rx.len().cmp(&ry.len()).then_with(|| rx.cmp(ry))
        } else {
            rx.cmp(ry)
        };
        if ord != Ordering::Equal {
            return ord;
        }
        x = tx;
        y = ty;
    }
}

fn split_run(s: &str) -> (&str, &str) {
    let digit = s.as_bytes().first().is_some_and(u8::is_ascii_digit);
    let end = s
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() != digit)
        .map_or(s.len(), |(i, _)| i);
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.to_owned())
    }

    #[test]
    fn numbers_render_shortest() {
        assert_eq!(render_number(42.0), "42");
        assert_eq!(render_number(-39.0), "-39");
        assert_eq!(render_number(0.5), "0.5");
        assert_eq!(render_number(116.12458333333332), "116.12458333333332");
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("-"), None);
    }

    #[test]
    fn sort_order_follows_the_spec() {
        let mut v = vec![
            Value::Num(3.0),
            s("v10"),
            s("v9"),
            s("111A"),
            s("5A"),
            Value::Null,
            s("01"),
            s("#"),
            s("a"),
            s("A"),
        ];
        v.sort_by(sort_cmp);
        let got: Vec<String> = v.iter().map(|x| x.render().unwrap_or_default()).collect();
        assert_eq!(
            got,
            ["#", "5A", "111A", "A", "a", "v9", "v10", "01", "3", ""]
        );
    }

    #[test]
    fn comparison_is_numeric_when_both_are() {
        assert_eq!(s("200").compare(&Value::Num(200.0)), Some(Ordering::Equal));
        assert_eq!(s("b").compare(&s("a")), Some(Ordering::Greater));
        assert_eq!(Value::Null.compare(&s("a")), None);
        assert!(!s("0").truthy() && s("x").truthy());
    }
}
