//! Plan snapshots (STYLE habit 6): the plan of every corpus query that compiles, as
//! `CompiledQuery::explain` prints it, against `tests/plans.snap`. Regenerate with
//! `LOOKOUT_UPDATE_PLANS=1 cargo test -p lookout-query --test tests plans`.

use std::path::PathBuf;

use lookout_query::compile;

#[test]
fn plans_match_snapshot() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/data/insights/queries.jsonl");
    let snap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/plans.snap");
    let mut out = String::new();
    for line in std::fs::read_to_string(corpus).unwrap().lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let query = case["query"].as_str().unwrap();
        let Ok(q) = compile(query) else { continue };
        out.push_str(&format!(
            "== {} {query:?}\n{}\n",
            case["id"].as_str().unwrap(),
            q.explain()
        ));
    }
    if std::env::var("LOOKOUT_UPDATE_PLANS").is_ok() {
        std::fs::write(&snap, &out).unwrap();
    }
    let want = std::fs::read_to_string(&snap).unwrap_or_default();
    assert!(
        want == out,
        "plans differ from tests/plans.snap; rerun with LOOKOUT_UPDATE_PLANS=1 and review the diff"
    );
}
