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

/// `level = "ERROR"` skips events whose message lacks the literal and has no backslash
/// (exact in every group kind); the answers equal those of a filter nothing is pushed for.
#[test]
fn equality_pushdown_keeps_every_answer() {
    use lookout_model::{InputEvent, LogGroupName, LogStreamName};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    let messages = [
        r#"{"level":"ERROR","function_name":"plain"}"#,
        "2024-05-20T10:00:00.000Z\tabc-123\tERROR\t{\"level\":\"ERROR\",\"function_name\":\"prefixed\"}",
        r#"{"level":"\u0045RROR","function_name":"escaped value"}"#,
        r#"{"lev\u0065l":"ERROR","function_name":"escaped key"}"#,
        r#"{"level":"INFO","msg":"ERROR later","function_name":"other field"}"#,
        "ERROR in plain text",
        r#"{"level":"ERRORS","function_name":"longer"}"#,
        r#"{"level":"ERROR","function_name":"unterminated""#,
        r#"{"nested":{"level":"ERROR"},"function_name":"nested"}"#,
        r#"{"level":["ERROR"],"function_name":"array"}"#,
        "START RequestId: 1 Version: $LATEST",
    ];
    let groups = ["/aws/lambda/fn", "/app/plain"];
    for g in groups {
        store
            .create_group(&LogGroupName::new(g).unwrap(), Default::default(), 0)
            .unwrap();
        store
            .create_stream(g, &LogStreamName::new("s").unwrap(), 0)
            .unwrap();
        let events = messages
            .iter()
            .enumerate()
            .map(|(i, m)| InputEvent {
                timestamp: 1_000 + i as i64,
                message: (*m).to_owned(),
            })
            .collect();
        store.append(g, "s", events).unwrap();
    }
    let run_on = |query: &str| {
        let req = Request {
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            start_ms: 0,
            end_ms: 10_000,
            limit: None,
            account: "123456789012".into(),
            now_secs: 0,
        };
        let out = compile(query)
            .unwrap()
            .run(&store, &req, &|| false)
            .unwrap();
        (out.rows, out.statistics.records_matched)
    };
    let tail = "| stats count(*) as n by @log, function_name | sort @log, function_name";
    for flushed in [false, true] {
        if flushed {
            store.flush().unwrap();
        }
        let pushed = run_on(&format!("filter level = \"ERROR\" {tail}"));
        // `concat` is not a literal: nothing is pushed down for this filter.
        let reference = run_on(&format!("filter level = concat(\"ERR\", \"OR\") {tail}"));
        assert_eq!(pushed, reference, "flushed: {flushed}");
        let names: Vec<(&str, &str)> = pushed
            .0
            .iter()
            .map(|r| (r[0].1.as_str(), r[1].1.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("123456789012:/app/plain", "escaped key"),
                ("123456789012:/app/plain", "escaped value"),
                ("123456789012:/app/plain", "plain"),
                ("123456789012:/aws/lambda/fn", "escaped key"),
                ("123456789012:/aws/lambda/fn", "escaped value"),
                ("123456789012:/aws/lambda/fn", "plain"),
                ("123456789012:/aws/lambda/fn", "prefixed"),
            ],
            "flushed: {flushed}"
        );
        assert_eq!(pushed.1, 7.0);
    }
}

fn corpus_request() -> Request {
    Request {
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
    }
}

/// Snapshots taken while a query scans: counters never go down, rows stay within the
/// final answer's shape, and the run still returns exactly what `run` returns.
#[test]
fn partial_results_while_running() {
    use lookout_query::Progress;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    crate::conformance::load(&store).unwrap();
    let req = corpus_request();
    for (query, rows_in_partials) in [
        // Workers merged: the parallel path, whose snapshots depend on thread timing.
        ("stats count(*) as n by @log", None),
        // Sums run on one thread: the sequential path.
        ("stats sum(1) as n by @log", Some(true)),
        (
            "fields @message | sort @timestamp desc | limit 3",
            Some(true),
        ),
        // A second stats shows rows only once the first has finished.
        (
            "stats sum(1) as n by @log | stats sum(n) as total",
            Some(false),
        ),
    ] {
        let q = compile(query).unwrap();
        let mut partials = Vec::new();
        let out = q
            .run_with_progress(
                &store,
                &req,
                &|| false,
                Progress {
                    every: std::time::Duration::ZERO,
                    sink: &mut |o| partials.push(o),
                },
            )
            .unwrap();
        assert_eq!(out, q.run(&store, &req, &|| false).unwrap(), "{query}");
        assert!(
            rows_in_partials.is_none() || !partials.is_empty(),
            "{query}"
        );
        let mut scanned = 0.0;
        for p in &partials {
            assert!(p.statistics.records_scanned >= scanned, "{query}");
            assert!(p.statistics.records_scanned <= out.statistics.records_scanned);
            assert!(p.statistics.records_matched <= out.statistics.records_matched);
            scanned = p.statistics.records_scanned;
            assert!(p.rows.len() <= out.rows.len().max(3), "{query}");
            if rows_in_partials == Some(false) {
                assert!(p.rows.is_empty(), "{query}");
            }
        }
        if rows_in_partials == Some(true) {
            assert!(partials.iter().any(|p| !p.rows.is_empty()), "{query}");
        }
    }
}

/// `filterIndex` on a field without an index skips every group (spec §6.6); on a default
/// index it filters like `filter`.
#[test]
fn filter_index_scans_only_indexed_fields() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(dir.path())).unwrap();
    crate::conformance::load(&store).unwrap();
    let req = corpus_request();
    let run = |q: &str| compile(q).unwrap().run(&store, &req, &|| false).unwrap();
    let none = run("filterIndex level = \"ERROR\" | stats count(*) as n");
    assert_eq!(none.rows, [vec![("n".to_owned(), "0".to_owned())]]);
    assert_eq!(none.statistics.log_groups_scanned, 0.0);
    assert_eq!(none.statistics.records_scanned, 0.0);
    assert!(run("filterIndex level in [\"ERROR\"]").rows.is_empty());
    assert!(!run("filter level = \"ERROR\"").rows.is_empty());
    let indexed = run("filterIndex @logStream = \"gw-stream-2\" | stats count(*) as n");
    let filtered = run("filter @logStream = \"gw-stream-2\" | stats count(*) as n");
    assert_eq!(indexed, filtered);
    assert_eq!(indexed.rows, [vec![("n".to_owned(), "43".to_owned())]]);
}
