//! Generator throughput: one million events as JSON lines, to a discarding writer (the cost of
//! generating and encoding) and to a file (what `lookout gen --out` does).
//!
//! Run: `cargo bench -p lookout-testkit --bench gen`

// A benchmark that cannot set up should stop loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::{BufWriter, Write};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_testkit::{GenConfig, Generator};

const EVENTS: u64 = 1_000_000;

/// Counts bytes so the benchmark can check that the whole corpus was written.
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn config() -> GenConfig {
    GenConfig {
        events: EVENTS,
        seed: 7,
        ..GenConfig::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gen");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("1m_events_to_sink", |b| {
        b.iter(|| {
            let mut g = Generator::new(config());
            let mut sink = CountingSink(0);
            g.write_jsonl(&mut sink).unwrap();
            assert_eq!(g.manifest().events, EVENTS);
            assert!(sink.0 > 300 * EVENTS, "{}", sink.0);
            black_box(sink.0)
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    group.bench_function("1m_events_to_file", |b| {
        b.iter(|| {
            let mut g = Generator::new(config());
            let f = std::fs::File::create(&path).unwrap();
            g.write_jsonl(BufWriter::with_capacity(1 << 20, f)).unwrap();
            let len = std::fs::metadata(&path).unwrap().len();
            assert!(len > 300 * EVENTS, "{len}");
            black_box(len)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
