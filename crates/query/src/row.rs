//! Turning stored events into rows: system fields, Lambda platform fields (spec §4.4) and
//! discovered JSON fields (spec §4.3).

use std::sync::Arc;

use crate::bind::{Needs, TIMESTAMP};
use crate::json::Extracted;
use crate::json_fast::Leaf;
use crate::value::Value;

/// At most this many JSON leaves are discovered per event.
pub(crate) const MAX_JSON_FIELDS: usize = 200;
/// Deepest nesting flattened, as the storage engine's field columns do.
const MAX_JSON_DEPTH: usize = 16;

/// Where a row came from: enough to order rows and to build `@ptr`.
#[derive(Debug, Clone)]
pub(crate) struct EventRef {
    pub(crate) group: u32,
    pub(crate) stream: Arc<str>,
    pub(crate) ts: i64,
    pub(crate) seq: u64,
}

/// A row: one value per slot, plus its event for rows that still stand for one.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) vals: Vec<Value>,
    pub(crate) ev: Option<EventRef>,
    /// String buffers of earlier events, reused by [`Row::set_text`] when one row buffer
    /// serves a whole scan.
    spare: Vec<String>,
}

impl Clone for Row {
    fn clone(&self) -> Row {
        Row {
            vals: self.vals.clone(),
            ev: self.ev.clone(),
            spare: Vec::new(),
        }
    }
}

/// Buffers kept for reuse per row, and the largest one kept.
const SPARE_BUFFERS: usize = 16;
const SPARE_CAPACITY: usize = 4096;

impl Row {
    pub(crate) fn empty(width: usize) -> Row {
        Row {
            vals: vec![Value::Null; width],
            ev: None,
            spare: Vec::new(),
        }
    }

    pub(crate) fn set(&mut self, slot: usize, v: Value) {
        if let Some(x) = self.vals.get_mut(slot) {
            *x = v;
        }
    }

    /// Sets a string, in a reused buffer when there is one.
    pub(crate) fn set_text(&mut self, slot: usize, parts: &[&str]) {
        if slot >= self.vals.len() {
            return;
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        for p in parts {
            buf.push_str(p);
        }
        self.set(slot, Value::Str(buf));
    }

    fn recycle(&mut self, old: Value) {
        if let Value::Str(s) = old
            && self.spare.len() < SPARE_BUFFERS
            && s.capacity() <= SPARE_CAPACITY
        {
            self.spare.push(s);
        }
    }

    /// Sets every slot to null, keeping string buffers for the next event's
    /// [`Row::set_text`] (only the scan's reused row is ever cleared, so rows that are kept
    /// hold no spare buffers).
    fn clear(&mut self) {
        for i in 0..self.vals.len() {
            if let Some(v) = self.vals.get_mut(i)
                && !v.is_null()
            {
                let old = std::mem::take(v);
                self.recycle(old);
            }
        }
    }

    fn set_leaf(&mut self, slot: usize, leaf: Leaf<'_>) {
        match leaf {
            Leaf::Str(s) => self.set_text(slot, &[s]),
            other => self.set(slot, other.to_value()),
        }
    }
}

/// What one event brings.
pub(crate) struct Event<'a> {
    pub(crate) group: u32,
    pub(crate) group_name: &'a str,
    pub(crate) stream: &'a Arc<str>,
    pub(crate) ts: i64,
    pub(crate) seq: u64,
    pub(crate) ingestion_time: Option<i64>,
    pub(crate) message: Option<&'a str>,
}

/// Whether a group gets Lambda platform fields (spec U12).
pub(crate) fn is_lambda_group(name: &str) -> bool {
    name.starts_with("/aws/lambda/")
}

/// Builds the row of `ev` with the slots `needs` lists.
pub(crate) fn build(
    ev: &Event<'_>,
    needs: &Needs,
    width: usize,
    account: &str,
    lambda: bool,
) -> Row {
    let mut row = Row::empty(width);
    build_into(&mut row, ev, needs, account, lambda, true);
    row
}

/// Refills `row` (reused across events) with the fields of `ev`; `with_ref` keeps the event
/// reference that ordering and `@ptr` need.
pub(crate) fn build_into(
    row: &mut Row,
    ev: &Event<'_>,
    needs: &Needs,
    account: &str,
    lambda: bool,
    with_ref: bool,
) {
    row.clear();
    row.set(TIMESTAMP, Value::Ts(ev.ts));
    row.ev = with_ref.then(|| EventRef {
        group: ev.group,
        stream: ev.stream.clone(),
        ts: ev.ts,
        seq: ev.seq,
    });
    if let Some(s) = needs.log_stream {
        row.set_text(s, &[ev.stream]);
    }
    if let Some(s) = needs.log {
        row.set_text(s, &[account, ":", ev.group_name]);
    }
    if let (Some(s), Some(t)) = (needs.ingestion_time, ev.ingestion_time) {
        row.set(s, Value::Ts(t));
    }
    if let Some(s) = needs.ptr {
        row.set(
            s,
            Value::Str(crate::ptr::encode(ev.group_name, ev.stream, ev.ts, ev.seq)),
        );
    }
    let Some(msg) = ev.message else {
        return;
    };
    if let Some(s) = needs.message {
        row.set_text(s, &[msg]);
    }
    if lambda && !needs.lambda.is_empty() {
        // The first occurrence of a field wins; its slot is still null until then.
        lambda_each(
            msg,
            &|name| needs.lambda.iter().any(|(n, _)| n == name),
            &mut |name, v| {
                if let Some((_, slot)) = needs.lambda.iter().find(|(n, _)| n == name)
                    && row.vals.get(*slot).is_some_and(Value::is_null)
                {
                    row.set_leaf(*slot, v);
                }
            },
        );
    }
    if !needs.json.is_empty() {
        match json_fields(msg, lambda, &needs.json) {
            Some(Extracted::Fast(found)) => {
                for (slot, leaf) in found.iter() {
                    row.set_leaf(slot, leaf);
                }
            }
            Some(Extracted::Full(found)) => {
                for (slot, v) in found {
                    row.set(slot, v);
                }
            }
            None => {}
        }
    }
}

/// The wanted discovered fields of a message: the whole message when it starts with `{`; in
/// Lambda groups also the first object embedded after a text prefix.
fn json_fields<'m>(
    msg: &'m str,
    lambda: bool,
    wanted: &crate::fx::FxMap<String, usize>,
) -> Option<Extracted<'m>> {
    let t = msg.trim_start();
    if t.starts_with('{')
        && let Some(found) = crate::json::extract(t, wanted, !lambda)
    {
        return Some(found);
    }
    if lambda {
        for (i, _) in msg.match_indices('{').take(4) {
            if let Some(found) = crate::json::extract(&msg[i..], wanted, false) {
                return Some(found);
            }
        }
    }
    None
}

/// The JSON object a message carries: the whole message when it starts with `{`; in Lambda
/// groups also the first object embedded after a text prefix.
pub(crate) fn json_object(
    msg: &str,
    lambda: bool,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let t = msg.trim_start();
    if t.starts_with('{')
        && let Ok(serde_json::Value::Object(m)) = serde_json::from_str(t)
    {
        return Some(m);
    }
    if !lambda {
        return None;
    }
    // The first object that parses, ignoring what follows it.
    for (i, _) in msg.match_indices('{').take(4) {
        let mut de = serde_json::Deserializer::from_str(&msg[i..]).into_iter::<serde_json::Value>();
        if let Some(Ok(serde_json::Value::Object(m))) = de.next() {
            return Some(m);
        }
    }
    None
}

/// Calls `out` with each discovered leaf (name, value), at most [`MAX_JSON_FIELDS`].
pub(crate) fn walk(
    obj: &serde_json::Map<String, serde_json::Value>,
    path: &mut String,
    depth: usize,
    count: &mut usize,
    out: &mut dyn FnMut(&str, Value),
) {
    for (k, v) in obj {
        let len = path.len();
        if depth == 0 {
            if k.starts_with('@') {
                path.push('@');
            }
        } else {
            path.push('.');
        }
        path.push_str(k);
        leaf(v, path, depth, count, out);
        path.truncate(len);
    }
}

fn leaf(
    v: &serde_json::Value,
    path: &mut String,
    depth: usize,
    count: &mut usize,
    out: &mut dyn FnMut(&str, Value),
) {
    if *count >= MAX_JSON_FIELDS {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            if depth + 1 < MAX_JSON_DEPTH {
                walk(m, path, depth + 1, count, out);
            }
        }
        serde_json::Value::Array(items) => {
            if depth + 1 < MAX_JSON_DEPTH {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&i.to_string());
                    leaf(item, path, depth + 1, count, out);
                    path.truncate(len);
                }
            }
        }
        serde_json::Value::Null => {}
        scalar => {
            *count += 1;
            out(path, Value::from_json_ref(scalar));
        }
    }
}

/// Fields of a Lambda platform line: START, END, REPORT (spec §4.4).
pub(crate) fn lambda_fields(msg: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    lambda_each(msg, &|_| true, &mut |name, v| {
        out.push((name.to_owned(), v.to_value()))
    });
    out
}

/// Calls `out` with each Lambda platform field of `msg` whose name `want` accepts, in line
/// order; values of unwanted fields are never built.
pub(crate) fn lambda_each<'m>(
    msg: &'m str,
    want: &dyn Fn(&str) -> bool,
    out: &mut dyn FnMut(&'static str, Leaf<'m>),
) {
    let (kind, rest) = if let Some(r) = msg.strip_prefix("START RequestId: ") {
        ("START", r)
    } else if let Some(r) = msg.strip_prefix("END RequestId: ") {
        ("END", r)
    } else if let Some(r) = msg.strip_prefix("REPORT RequestId: ") {
        ("REPORT", r)
    } else {
        return;
    };
    if want("@type") {
        out("@type", Leaf::Str(kind));
    }
    if want("@requestId") {
        let id = rest.split(char::is_whitespace).next().unwrap_or_default();
        if !id.is_empty() {
            out("@requestId", Leaf::Str(id));
        }
    }
    if kind != "REPORT" {
        return;
    }
    for part in rest.split('\t') {
        let Some((key, val)) = part.split_once(':') else {
            continue;
        };
        let name = match key.trim() {
            "Duration" => "@duration",
            "Billed Duration" => "@billedDuration",
            "Memory Size" => "@memorySize",
            "Max Memory Used" => "@maxMemoryUsed",
            "Init Duration" => "@initDuration",
            "XRAY TraceId" => "@xrayTraceId",
            _ => continue,
        };
        if !want(name) {
            continue;
        }
        let mut words = val.split_whitespace();
        let number = words.next().and_then(crate::value::parse_number);
        let unit = words.next().unwrap_or("");
        match number {
            Some(n) if name != "@xrayTraceId" => {
                let scale = if unit == "MB" { 1_000_000.0 } else { 1.0 };
                out(name, Leaf::Num(n * scale));
            }
            None if name == "@xrayTraceId" => out(name, Leaf::Str(val.trim())),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines_give_lambda_fields() {
        let f = lambda_fields(
            "REPORT RequestId: abc-1\tDuration: 182.45 ms\tBilled Duration: 183 ms\tMemory Size: 256 MB\tMax Memory Used: 87 MB\tInit Duration: 401.2 ms\t",
        );
        let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("@type"), Some(Value::Str("REPORT".into())));
        assert_eq!(get("@requestId"), Some(Value::Str("abc-1".into())));
        assert_eq!(get("@duration"), Some(Value::Num(182.45)));
        assert_eq!(get("@memorySize"), Some(Value::Num(256e6)));
        assert_eq!(get("@initDuration"), Some(Value::Num(401.2)));
        assert!(lambda_fields("INIT_START Runtime").is_empty());
    }

    #[test]
    fn json_discovery_flattens_and_drops_nulls() {
        let obj = json_object(
            r#"x	{"a":{"b":[1,{"c":true}]},"n":null,"@k":"v"} tail"#,
            true,
        );
        let mut got = Vec::new();
        if let Some(obj) = obj {
            walk(&obj, &mut String::new(), 0, &mut 0, &mut |n, v| {
                got.push((n.to_owned(), v))
            });
        }
        assert_eq!(
            got,
            [
                ("@@k".to_owned(), Value::Str("v".into())),
                ("a.b.0".to_owned(), Value::Num(1.0)),
                ("a.b.1.c".to_owned(), Value::Bool(true)),
            ]
        );
        assert!(json_object("x {\"a\":1}", false).is_none());
    }
}
