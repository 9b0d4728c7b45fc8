//! Shared helpers: running code under a layer with a capture writer, loading captures,
//! and comparing records by keys, key order and value types.

use std::path::PathBuf;

use lookout_logger::{CaptureWriter, InvocationContext, LoggerBuilder, LoggerHandle};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

pub const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:payment-fn";

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/data/logger")
}

/// One record: its top-level keys in written order (serde_json's `Value` sorts them), the
/// parsed value and the raw line.
#[derive(Clone, Debug)]
pub struct Rec {
    pub keys: Vec<String>,
    pub value: Value,
    pub raw: String,
}

impl std::ops::Deref for Rec {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.value
    }
}

struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

impl Rec {
    pub fn parse(line: &str) -> Rec {
        let keys = serde_json::from_str::<Keys>(line)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}): {line}"))
            .0;
        Rec {
            keys,
            value: serde_json::from_str(line).unwrap(),
            raw: line.to_owned(),
        }
    }
}

/// Loads a capture; bare `NaN`/`Infinity` tokens (Python's invalid JSON) become strings.
pub fn load(name: &str) -> Vec<Rec> {
    let text = std::fs::read_to_string(data_dir().join(name)).unwrap();
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let fixed = l
                .replace(":NaN", ":\"NaN\"")
                .replace(":Infinity", ":\"Infinity\"");
            Rec::parse(&fixed)
        })
        .collect()
}

pub fn request_id(n: u32) -> String {
    format!("{n:08}-0000-4000-8000-{n:012}")
}

pub fn trace_header(n: u32) -> String {
    format!("Root=1-6743a1b0-{n:024x};Parent={n:016x};Sampled=1")
}

/// The fake function identity of the captures, invocation `n`.
pub fn invocation(n: u32) -> InvocationContext {
    InvocationContext::new(request_id(n))
        .function_name("payment-fn")
        .memory_mb(512)
        .function_arn(ARN)
        .trace_header(trace_header(n))
}

/// Runs `f` with a subscriber made of `builder` writing into a capture; returns every
/// record parsed (each line must be valid JSON).
pub fn run(builder: LoggerBuilder, f: impl FnOnce(&LoggerHandle)) -> Vec<Rec> {
    let out = CaptureWriter::new();
    let layer = builder.writer(out.clone()).build();
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || f(&handle));
    out.lines().iter().map(|l| Rec::parse(l)).collect()
}

pub fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares what lies inside a value: an object's keys (as a set) and their types, an
/// array's elements' types as far as both arrays go (a stack's depth is the program's own).
fn nested(at: &str, p: &Value, o: &Value) {
    match (p, o) {
        (Value::Object(p), Value::Object(o)) => {
            let (pk, ok): (Vec<&String>, Vec<&String>) = (p.keys().collect(), o.keys().collect());
            assert_eq!(pk, ok, "{at}: keys\nreference: {p:?}\nours: {o:?}");
            for (k, pv) in p {
                let ov = &o[k];
                assert_eq!(type_of(pv), type_of(ov), "{at}.{k}: type: {pv} vs {ov}");
                nested(&format!("{at}.{k}"), pv, ov);
            }
        }
        (Value::Array(p), Value::Array(o)) => {
            for (n, (pv, ov)) in p.iter().zip(o).enumerate() {
                assert_eq!(type_of(pv), type_of(ov), "{at}[{n}]: type: {pv} vs {ov}");
                nested(&format!("{at}[{n}]"), pv, ov);
            }
        }
        _ => {}
    }
}

/// Keys whose values are deterministic in the captures and must match exactly (the
/// replays log the captures' messages word for word).
const EXACT: &[&str] = &[
    "level",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
    "sampling_rate",
    "exception_name",
    "message",
];

/// Compares records pairwise: same key order (after dropping `ignore` keys from the
/// reference), same value types (nested ones too, see [`nested`]), exact values for
/// deterministic keys, and matching timestamp shape. Returns the number of records compared.
pub fn compare(name: &str, reference: &[Rec], ours: &[Rec], ignore: &[&str]) -> usize {
    let summary = |recs: &[Rec]| -> Vec<String> {
        recs.iter()
            .map(|r| format!("{} {}", r["level"], r["message"]))
            .collect()
    };
    assert_eq!(
        reference.len(),
        ours.len(),
        "{name}: record count\nreference: {:#?}\nours: {:#?}",
        summary(reference),
        summary(ours)
    );
    for (i, (pr, or)) in reference.iter().zip(ours).enumerate() {
        let (p, o) = (pr.as_object().unwrap(), or.as_object().unwrap());
        // The written order (`Rec::keys`): a `Value`'s keys come out sorted.
        let pk: Vec<&String> = pr
            .keys
            .iter()
            .filter(|k| !ignore.contains(&k.as_str()))
            .collect();
        let ok: Vec<&String> = or.keys.iter().collect();
        assert_eq!(
            pk, ok,
            "{name} record {i}: key order\nreference: {}\nours: {}",
            pr.raw, or.raw
        );
        for k in pk {
            let (pv, ov) = (&p[k], &o[k]);
            assert_eq!(
                type_of(pv),
                type_of(ov),
                "{name} record {i}: type of {k}: {pv} vs {ov}"
            );
            nested(&format!("{name} record {i}: {k}"), pv, ov);
            if EXACT.contains(&k.as_str()) {
                assert_eq!(pv, ov, "{name} record {i}: value of {k}");
            }
            if k == "timestamp" {
                let shape = |v: &Value| -> String {
                    v.as_str()
                        .unwrap()
                        .chars()
                        .map(|c| if c.is_ascii_digit() { '9' } else { c })
                        .collect()
                };
                assert_eq!(shape(pv), shape(ov), "{name} record {i}: timestamp format");
            }
        }
    }
    reference.len()
}
