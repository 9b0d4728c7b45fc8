//! Parses every query of `tests/conformance/data/insights/queries.jsonl` (the shared Logs
//! Insights corpus): the `compare: error` ones must be rejected, every other must parse and
//! print back to a query that parses to the same tree. Prints `N passed, N failed`.

use std::path::PathBuf;

use lookout_insights::parse;
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/data/insights/queries.jsonl")
}

fn run_case(case: &Value) -> Result<(), String> {
    let query = case["query"].as_str().ok_or("case without query")?;
    let parsed = parse(query);
    if case["compare"].as_str() == Some("error") {
        return match parsed {
            Err(e) if e.kind().aws_code() == case["expectError"].as_str().unwrap_or("") => Ok(()),
            Err(e) => Err(format!(
                "rejected with {}, want {}",
                e.kind().aws_code(),
                case["expectError"]
            )),
            Ok(q) => Err(format!("accepted as {q}, should be rejected")),
        };
    }
    let q = parsed.map_err(|e| format!("rejected: {e}"))?;
    let printed = q.to_string();
    let again = parse(&printed).map_err(|e| format!("printed as {printed:?}, which fails: {e}"))?;
    if again.without_spans() != q.without_spans() {
        return Err(format!("printed as {printed:?}, which parses differently"));
    }
    Ok(())
}

#[test]
fn insights_corpus_parses() {
    let text = std::fs::read_to_string(corpus()).unwrap();
    let (mut passed, mut failed) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        match run_case(&case) {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {} {}: {why}", case["id"], case["query"]);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    assert!(passed >= 70, "corpus too small: {passed}");
    assert_eq!(failed, 0, "{failed} corpus queries failed");
}
