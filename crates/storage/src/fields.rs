//! Flattening of JSON messages into (path, value) pairs for field columns and blooms.

use serde_json::Value;

/// Most fields taken from one event; the rest stay only in the raw message.
const MAX_FIELDS: usize = 256;
/// Deepest nesting flattened.
const MAX_DEPTH: usize = 16;

/// The kind of a flattened value, kept so numbers can carry min/max statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Other,
}

/// Flattens a JSON object message into `a.b` / `a.0` paths with their values as text:
/// strings unquoted, numbers as written, `true`, `false`, `null`. A message that is not a
/// JSON object yields nothing.
pub(crate) fn flatten(message: &str, out: &mut Vec<(String, String, Kind)>) {
    out.clear();
    let trimmed = message.trim_start();
    if !trimmed.starts_with('{') {
        return;
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) else {
        return;
    };
    let mut path = String::new();
    for (k, v) in map {
        path.clear();
        path.push_str(&k);
        walk(&mut path, v, 1, out);
    }
}

fn walk(path: &mut String, v: Value, depth: usize, out: &mut Vec<(String, String, Kind)>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match v {
        Value::Object(map) if depth < MAX_DEPTH => {
            let len = path.len();
            for (k, v) in map {
                path.push('.');
                path.push_str(&k);
                walk(path, v, depth + 1, out);
                path.truncate(len);
            }
        }
        Value::Array(items) if depth < MAX_DEPTH => {
            let len = path.len();
            for (i, v) in items.into_iter().enumerate() {
                path.push('.');
                path.push_str(itoa::Buffer::new().format(i));
                walk(path, v, depth + 1, out);
                path.truncate(len);
            }
        }
        Value::String(s) => out.push((path.clone(), s, Kind::String)),
        Value::Number(n) => out.push((path.clone(), n.to_string(), Kind::Number)),
        other => out.push((path.clone(), other.to_string(), Kind::Other)),
    }
}

/// Looks up one flattened field of a message, the slow path when a block has no column.
pub(crate) fn field_of(message: &str, path: &str) -> Option<String> {
    let mut out = Vec::new();
    flatten(message, &mut out);
    out.into_iter()
        .find(|(p, _, _)| p == path)
        .map(|(_, v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_objects_and_arrays() {
        let mut out = Vec::new();
        flatten(
            r#" {"level":"ERROR","a":{"b":1.5,"c":[true,null]},"s":"x"}"#,
            &mut out,
        );
        let got: Vec<(&str, &str)> = out
            .iter()
            .map(|(p, v, _)| (p.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a.b", "1.5"),
                ("a.c.0", "true"),
                ("a.c.1", "null"),
                ("level", "ERROR"),
                ("s", "x")
            ]
        );
        assert_eq!(out[0].2, Kind::Number);
        flatten("plain text", &mut out);
        assert!(out.is_empty());
        flatten("{broken", &mut out);
        assert!(out.is_empty());
        assert_eq!(field_of(r#"{"x":{"y":"z"}}"#, "x.y").as_deref(), Some("z"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let mut out = Vec::new();
        flatten(&format!(r#"{{"d":{deep}}}"#), &mut out);
    }
}
