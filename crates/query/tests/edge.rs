//! Queries at the edges of the value domain and of the pipeline rules run to completion
//! (no panic, no error) over the corpus events, and a few answers that the corpus does not
//! cover are pinned.

use lookout_query::{Request, compile};
use lookout_storage::{Store, StoreConfig};

fn run(store: &Store, query: &str) -> Vec<Vec<(String, String)>> {
    let q = compile(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let req = Request {
        groups: vec![
            "/aws/lambda/orders-api".into(),
            "/aws/lambda/payments-worker".into(),
            "/app/gateway-access".into(),
        ],
        start_ms: 0,
        end_ms: i64::MAX / 2,
        limit: None,
        account: "123456789012".into(),
        now_secs: 0,
    };
    q.run(store, &req, &|| false)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .rows
}

#[test]
fn extreme_values_and_odd_pipelines_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    crate::conformance::load(&store).unwrap();
    for q in [
        "fields fromMillis(0 - 10 ^ 300) as a, fromMillis(10 ^ 300) as b, datefloor(fromMillis(10 ^ 300), 1mo) as c, dateceil(fromMillis(0 - 10 ^ 300), 1y) as d",
        "fields substr(@message, -5, 10 ^ 20) as a, 10 % 0 as b, 1 / 0 as c, log(-1) as d, sqrt(-4) as e, 2 ^ 5000 as f",
        "fields jsonParse(@message) as j | unnest j into k | stats count(*) as n by k",
        "fields jsonParse(@message) as j | fields jsonStringify(j) as s | filter ispresent(s) | limit 3",
        "stats count(*) as n by bin(1ms) | stats count(*) as bins",
        "stats count(*) as n by bin(1y), bin(1q), bin(1w)",
        "pattern @message | sort @sampleCount desc | limit 3",
        "filter @message like /ERROR/ | diff previousDay",
        "fields @log, @ingestionTime, @ptr | dedup @logStream | limit 2",
        "sort @timestamp desc, @message asc | limit 1",
        "filter isIpInSubnet(\"10.0.0.1\", \"10.0.0.0/99\") or isValidIp(\"::\")",
        "stats pct(@duration, 0) as a, pct(@duration, 100) as b, stddev(1) as c, avg(@message) as d",
        "fields round(3.14159, 2) as r, startsWith(@message, \"START\") as s | stats sum(s) as starts",
    ] {
        run(&store, q);
    }
    let rows = run(&store, "stats count(*) as n | filter n > 1000000");
    assert!(rows.is_empty());
    let rows = run(
        &store,
        "filter @logStream = \"no such stream\" | stats count(*) as n",
    );
    assert_eq!(rows, [vec![("n".to_owned(), "0".to_owned())]]);
    let rows = run(
        &store,
        "fields 2 ^ 10 as p, concat(\"a\", 1.5) as c | limit 1",
    );
    assert_eq!(
        rows[0][..2],
        [("p".into(), "1024".into()), ("c".into(), "a1.5".into())]
    );
}

#[test]
fn columnar_bins_match_the_row_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    crate::conformance::load(&store).unwrap();
    for q in [
        "stats count(*) as n by bin(5m)",
        "stats count() as a, count(*) as b by bin(1h) as t",
    ] {
        let fast = run(&store, q);
        // A filter that keeps every row forces the row-at-a-time path.
        let slow = run(&store, &format!("filter ispresent(@timestamp) | {q}"));
        assert!(!fast.is_empty());
        assert_eq!(fast, slow, "{q}");
    }
    store.flush().unwrap();
    assert_eq!(
        run(&store, "stats count(*) as n by bin(5m)"),
        run(&store, "filter 1 = 1 | stats count(*) as n by bin(5m)")
    );
}

#[test]
fn parallel_stats_match_the_sequential_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    crate::conformance::load(&store).unwrap();
    for (aggs, tail) in [
        (
            "stats count(*) as n, count_distinct(@logStream) as d, pct(@duration, 90) as p",
            " by @log",
        ),
        (
            "stats count(*) as n, count(@type) as t",
            " by @type, bin(1h)",
        ),
        ("filter @message like /e/ | stats count(*) as n", ""),
    ] {
        let q = format!("{aggs}{tail}");
        let merged = run(&store, &q);
        // A sum is not merged across workers, so this variant scans on one thread.
        let sequential: Vec<Vec<(String, String)>> =
            run(&store, &format!("{aggs}, sum(0) as zz{tail}"))
                .into_iter()
                .map(|r| r.into_iter().filter(|(k, _)| k != "zz").collect())
                .collect();
        assert!(!merged.is_empty());
        assert_eq!(merged, sequential, "{q}");
    }
}
