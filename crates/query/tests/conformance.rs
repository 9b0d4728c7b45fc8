//! Runs the shared Logs Insights corpus (`tests/conformance/data/insights/`: events,
//! 70 queries with expected rows, README with the comparison rules) against a temporary
//! store, once with every event in the memtable and once after flushing to segments, and
//! prints `N passed, N failed` for each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lookout_model::{InputEvent, LogGroupName, LogStreamName};
use lookout_query::{ErrorKind, Request, compile, resolve_source};
use lookout_storage::{Store, StoreConfig};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/data/insights")
        .join(file)
}

fn lines(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(data(file)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

/// Creates the corpus's groups and streams and appends its events in timestamp order.
pub(crate) fn load(store: &Store) -> Result<(), Box<dyn std::error::Error>> {
    let mut streams: BTreeMap<(String, String), Vec<InputEvent>> = BTreeMap::new();
    for e in lines("events.jsonl") {
        let key = (
            e["logGroup"].as_str().unwrap_or_default().to_owned(),
            e["logStream"].as_str().unwrap_or_default().to_owned(),
        );
        streams.entry(key).or_default().push(InputEvent {
            timestamp: e["timestamp"].as_i64().unwrap_or_default(),
            message: e["message"].as_str().unwrap_or_default().to_owned(),
        });
    }
    assert!(!streams.is_empty(), "corpus events are missing");
    for ((group, stream), mut events) in streams {
        if store.group(&group).is_err() {
            let name = LogGroupName::new(group.clone())?;
            store.create_group(&name, Default::default(), 0)?;
        }
        let s = LogStreamName::new(stream.clone())?;
        store.create_stream(&group, &s, 0)?;
        events.sort_by_key(|e| e.timestamp);
        store.append(&group, &stream, events)?;
    }
    Ok(())
}

/// README rule 2: equal strings, or finite numbers within 1e-9 relative.
fn same_value(want: &str, got: &str) -> bool {
    if want == got {
        return true;
    }
    match (want.parse::<f64>(), got.parse::<f64>()) {
        (Ok(w), Ok(g)) if w.is_finite() && g.is_finite() => {
            (w - g).abs() <= 1e-9 * w.abs().max(1.0)
        }
        _ => false,
    }
}

fn same_row(want: &BTreeMap<String, String>, got: &BTreeMap<String, String>) -> bool {
    want.len() == got.len()
        && want
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| same_value(v, g)))
}

fn run_case(store: &Store, case: &Value) -> Result<(), String> {
    let query = case["query"].as_str().ok_or("case without query")?;
    let compare = case["compare"].as_str().unwrap_or("rows");
    let compiled = compile(query);
    if compare == "error" {
        return match compiled {
            Err(e) if e.kind() == ErrorKind::Malformed => Ok(()),
            Err(e) => Err(format!("rejected as {:?}: {e}", e.kind())),
            Ok(_) => Err("accepted, should be rejected".into()),
        };
    }
    let q = compiled.map_err(|e| format!("rejected: {e}"))?;
    let mut groups: Vec<String> = case["logGroups"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(source) = q.source() {
        groups = resolve_source(store, source, 0)
            .map_err(|e| e.to_string())?
            .0;
    }
    let req = Request {
        groups,
        start_ms: case["start"].as_i64().unwrap_or(0) * 1000,
        end_ms: case["end"].as_i64().unwrap_or(0) * 1000 + 999,
        limit: None,
        account: ACCOUNT.into(),
        now_secs: 0,
    };
    let out = q
        .run(store, &req, &|| false)
        .map_err(|e| format!("failed: {e}"))?;
    if compare == "accept" {
        return Ok(());
    }
    let got: Vec<BTreeMap<String, String>> = out
        .rows
        .into_iter()
        .map(|r| r.into_iter().filter(|(k, _)| k != "@ptr").collect())
        .collect();
    let want: Vec<BTreeMap<String, String>> = case["expected"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    r.as_object()
                        .map(|o| {
                            o.iter()
                                .map(|(k, v)| {
                                    (k.clone(), v.as_str().unwrap_or_default().to_owned())
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    let fail = || format!("rows differ:\n  want {want:?}\n  got  {got:?}");
    if want.len() != got.len() {
        return Err(fail());
    }
    if case["ordered"].as_bool().unwrap_or(false) {
        if !want.iter().zip(&got).all(|(w, g)| same_row(w, g)) {
            return Err(fail());
        }
    } else {
        let mut left: Vec<&BTreeMap<String, String>> = got.iter().collect();
        for w in &want {
            match left.iter().position(|g| same_row(w, g)) {
                Some(i) => {
                    left.swap_remove(i);
                }
                None => return Err(fail()),
            }
        }
    }
    Ok(())
}

fn run_corpus(store: &Store, label: &str) {
    let cases = lines("queries.jsonl");
    assert_eq!(cases.len(), 70, "corpus should have 70 queries");
    let mut failed = Vec::new();
    for case in &cases {
        if let Err(e) = run_case(store, case) {
            failed.push(format!("{} {:?}: {e}", case["id"], case["query"]));
        }
    }
    println!(
        "{label}: {} passed, {} failed",
        cases.len() - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "{label}:\n{}", failed.join("\n"));
}

#[test]
fn insights_corpus_memtable_then_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    load(&store).unwrap();
    run_corpus(&store, "memtable");
    store.flush().unwrap();
    run_corpus(&store, "segments");
}
