//! Matching throughput per pattern kind on one million generator events (mixed JSON and text
//! Lambda logs), in bytes of message per second on one core.
//!
//! Run: `nice -n 10 cargo bench -p lookout-filter --bench filter`, then
//! `python3 scripts/bench-filter-moto.py` for moto on the same messages and the ratios.
//!
//! Patterns are data (`benches/patterns.jsonl`), shared with the moto script. The bench
//! checks its answers against the generator's manifest (planted needles) and writes every
//! pattern's match count to `bench-data/filter-counts.json`; it also writes the messages to
//! `bench-data/filter-events.jsonl`, where the moto script recomputes each count with an
//! independent Python reference.

// A benchmark that cannot set up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_filter::Pattern;
use lookout_testkit::{GenConfig, Generator};

const EVENTS: u64 = 1_000_000;
const SEED: u64 = 7;

fn bench_data() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_messages(messages: &[String]) {
    let path = bench_data().join("filter-events.jsonl");
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    for m in messages {
        serde_json::to_writer(&mut out, m).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

fn count(pattern: &Pattern, messages: &[String]) -> u64 {
    let mut n = 0;
    for m in messages {
        n += u64::from(pattern.matches(m));
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut generator = Generator::new(GenConfig {
        events: EVENTS,
        seed: SEED,
        ..GenConfig::default()
    });
    let messages: Vec<String> = generator.by_ref().map(|e| e.message).collect();
    let manifest = generator.manifest();
    write_messages(&messages);
    let bytes: u64 = messages.iter().map(|m| m.len() as u64).sum();

    let specs = include_str!("patterns.jsonl");
    let mut counts = serde_json::Map::new();
    let mut group = c.benchmark_group("filter");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    for line in specs.lines().filter(|l| !l.trim().is_empty()) {
        let spec: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = spec["name"].as_str().unwrap();
        let pattern = Pattern::parse(spec["pattern"].as_str().unwrap()).unwrap();
        let n = count(&pattern, &messages);
        let needles = &manifest.needles;
        if name == "term" {
            assert_eq!(spec["pattern"], needles.rare_term.value.as_str());
            assert_eq!(n, needles.rare_term.count, "rare term count");
        }
        if name == "term_request_id" {
            assert!(
                spec["pattern"]
                    .as_str()
                    .unwrap()
                    .contains(&needles.request_id.value)
            );
            assert_eq!(n, needles.request_id.count, "request id count");
        }
        counts.insert(name.to_owned(), n.into());
        group.bench_function(name, |b| b.iter(|| count(black_box(&pattern), &messages)));
    }
    group.finish();
    let summary = serde_json::json!({ "events": messages.len(), "bytes": bytes, "counts": counts });
    std::fs::write(bench_data().join("filter-counts.json"), summary.to_string()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
