//! Runs every case of `tests/conformance/data/filter-patterns.jsonl` (the shared CloudWatch
//! filter-pattern corpus) and prints `N passed, N failed`; then the same for
//! `tests/data/spec-cases.jsonl` (this crate's cases for spec points the corpus leaves open).

use std::collections::BTreeMap;
use std::path::PathBuf;

use lookout_filter::Pattern;
use serde_json::Value;

fn data(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs one case; `Err` describes the failure.
fn run_case(case: &Value) -> Result<(), String> {
    let pattern = case["pattern"].as_str().ok_or("case without pattern")?;
    let message = case["message"].as_str().ok_or("case without message")?;
    let parsed = Pattern::parse(pattern);
    if case["error"].as_bool() == Some(true) {
        return match parsed {
            Err(_) => Ok(()),
            Ok(p) => Err(format!("accepted, should be rejected: {:?}", p.ast())),
        };
    }
    let pattern = parsed.map_err(|e| format!("rejected: {e} ({})", e.aws_message()))?;
    let want = case["match"].as_bool().ok_or("case without match")?;
    let got = pattern.matches(message);
    if got != want {
        return Err(format!("matches() = {got}, want {want}"));
    }
    let extracted = pattern.extract(message);
    if extracted.is_some() != want {
        return Err(format!("extract() disagrees with matches(): {extracted:?}"));
    }
    if let Some(expected) = case.get("extracted").and_then(Value::as_object) {
        let want: BTreeMap<&str, &str> = expected
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
            .collect();
        let ex = extracted.unwrap_or_default();
        let got: BTreeMap<&str, &str> = ex
            .values()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if got != want {
            return Err(format!("extracted {got:?}, want {want:?}"));
        }
    }
    Ok(())
}

/// Runs every case of a JSON-lines file, prints the tally and fails on any failed case.
fn run_file(relative: &str) {
    let text = std::fs::read_to_string(data(relative)).unwrap();
    let (mut passed, mut failed) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        match run_case(&case) {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {} {}: {why}", case["id"], case["pattern"]);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    assert!(passed > 0, "no cases found");
    assert_eq!(failed, 0, "{failed} cases of {relative} failed");
}

#[test]
fn filter_pattern_conformance() {
    run_file("../../tests/conformance/data/filter-patterns.jsonl");
}

#[test]
fn spec_cases() {
    run_file("tests/data/spec-cases.jsonl");
}
