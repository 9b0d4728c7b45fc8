//! Parser throughput over the 70 queries of the shared corpus (each parsed, and checked to
//! parse or fail as the corpus expects), and over one long dashboard-style query.
//!
//! Run: `cargo bench -p lookout-insights --bench parse`

// A benchmark that cannot set up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_insights::parse;

/// `(query, should_parse)` for every corpus line.
fn corpus() -> Vec<(String, bool)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/conformance/data/insights/queries.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let q = v["query"].as_str().unwrap().to_owned();
            (q, v["compare"].as_str() != Some("error"))
        })
        .collect()
}

/// A long query in the style of a Lambda dashboard: every command kind, ~1.3 KB.
const LONG: &str = r#"SOURCE logGroups(namePrefix: ['/aws/lambda/orders', '/aws/lambda/payments'])
| fields @timestamp, @message, @logStream, @requestId, `x-correlation-id` as cid
| parse @message /(?<level>[A-Z]+)\t(?<service>[a-z-]+)\t(?<msg>.*)/
| parse @message "user=* order=* amount=*" as user, order, amount
| filter (level in ["ERROR", "WARN"] or @message like /(?i)timeout|exception/)
    and not ispresent(ignored) and @logStream not like "canary"
    and toMillis(@timestamp) >= 1700000000000 and abs(amount - 10) * 2 ^ 2 > 3
| fields concat(service, ":", level) as key, strlen(msg) as len,
    coalesce(user, "anonymous") as who, datefloor(@timestamp, 5m) as t
| stats count(*) as n, count_distinct(who) as users, avg(len) as avgLen,
    pct(len, 95) as p95, max(@duration / 1000 / 1000) as maxS,
    earliest(msg) as first, latest(msg) as last by key, bin(5m) as window
| filter n > 10
| stats sum(n) as total, max(n) as peak, avg(avgLen) as meanLen by key
| sort total desc, key asc
| limit 100"#;

fn bench(c: &mut Criterion) {
    let cases = corpus();
    let bytes: usize = cases.iter().map(|(q, _)| q.len()).sum();
    for (q, ok) in &cases {
        assert_eq!(parse(q).is_ok(), *ok, "{q}");
    }
    let long = parse(LONG).expect("long query parses");
    assert_eq!(
        parse(&long.to_string()).unwrap().without_spans(),
        long.without_spans()
    );

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("corpus_70_queries", |b| {
        b.iter(|| {
            let mut accepted = 0;
            for (q, _) in &cases {
                accepted += usize::from(parse(black_box(q)).is_ok());
            }
            accepted
        })
    });
    group.throughput(Throughput::Bytes(LONG.len() as u64));
    group.bench_function("long_query", |b| b.iter(|| parse(black_box(LONG)).unwrap()));
    group.bench_function("long_query_print", |b| {
        b.iter(|| black_box(&long).to_string())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
