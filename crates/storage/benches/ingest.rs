//! Durable ingest alone (BENCHMARKS.md, "Storage engine"): generator batches appended by
//! concurrent writers through `Store::append`, each call returning after its group commit's
//! fsync, with background flushes running. Reports acknowledged events/s, append latency
//! percentiles, the final flush and the segments written.
//!
//! `LOOKOUT_BENCH_EVENTS` (default 1,000,000), `LOOKOUT_BENCH_WRITERS` (default 8),
//! `LOOKOUT_BENCH_FLUSH_MB` (default 256, the storage bench's setting). Data goes to
//! `bench-data/ingest` at the repository root and is removed afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lookout_model::{InputEvent, LogGroupName, LogStreamName};
use lookout_storage::{Store, StoreConfig};
use lookout_testkit::{GenConfig, Generator};

/// One PutLogEvents-shaped batch: group, stream, events.
type Batch = (String, String, Vec<InputEvent>);

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn count_files(p: &Path) -> usize {
    std::fs::read_dir(p).map_or(0, |rd| rd.flatten().count())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

/// Batches per stream of up to 500 events, in time order: the storage bench's shape.
fn batches(events: u64) -> Vec<Batch> {
    let cfg = GenConfig {
        events,
        seed: 42,
        ..GenConfig::default()
    };
    let mut open: HashMap<(String, String), Vec<InputEvent>> = HashMap::new();
    let mut out = Vec::new();
    for e in Generator::new(cfg) {
        let key = (e.log_group, e.log_stream);
        let buf = open.entry(key.clone()).or_default();
        buf.push(InputEvent {
            timestamp: e.timestamp,
            message: e.message,
        });
        if buf.len() >= 500 {
            out.push((key.0, key.1, std::mem::take(buf)));
        }
    }
    out.extend(
        open.into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|((g, s), v)| (g, s, v)),
    );
    out
}

fn main() {
    let events = env("LOOKOUT_BENCH_EVENTS", 1_000_000);
    let writers = env("LOOKOUT_BENCH_WRITERS", 8) as usize;
    let flush_mb = env("LOOKOUT_BENCH_FLUSH_MB", 256) as usize;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data/ingest");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let t = Instant::now();
    let batches = batches(events);
    println!(
        "generated {events} events in {} batches in {:.1}s",
        batches.len(),
        t.elapsed().as_secs_f64()
    );

    let mut cfg = StoreConfig::new(&dir);
    cfg.flush_bytes = flush_mb << 20;
    let store = Store::open(cfg).unwrap();
    let mut groups = HashSet::new();
    let mut streams = HashSet::new();
    for (g, s, _) in &batches {
        if groups.insert(g.clone()) {
            let name = LogGroupName::new(g.clone()).unwrap();
            store.create_group(&name, Default::default(), 0).unwrap();
        }
        if streams.insert((g.clone(), s.clone())) {
            let name = LogStreamName::new(s.clone()).unwrap();
            store.create_stream(g, &name, 0).unwrap();
        }
    }

    let next = AtomicUsize::new(0);
    let slots: Vec<parking_lot::Mutex<Option<Batch>>> = batches
        .into_iter()
        .map(|b| parking_lot::Mutex::new(Some(b)))
        .collect();
    let load_before = load_average();
    let t = Instant::now();
    let mut latencies: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|_| {
                scope.spawn(|| {
                    let mut lat = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else { break };
                        let (g, s, evs) = slot.lock().take().unwrap();
                        let started = Instant::now();
                        store.append(&g, &s, evs).unwrap();
                        lat.push(started.elapsed().as_micros() as u64);
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let ingest_s = t.elapsed().as_secs_f64();
    let load_after = load_average();
    latencies.sort_unstable();
    let t = Instant::now();
    store.flush().unwrap();
    let flush_s = t.elapsed().as_secs_f64();
    let segments = count_files(&dir.join("objects/segments"));
    println!(
        "ingest: {:.0} events/s acknowledged ({ingest_s:.1}s, {writers} writers, flush_bytes {flush_mb} MiB)",
        events as f64 / ingest_s
    );
    println!(
        "append latency ms: p50 {:.1} p90 {:.1} p99 {:.1} max {:.1} ({} appends)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        latencies.len()
    );
    println!(
        "final flush {flush_s:.1}s; end to end {:.0} events/s; {segments} segments before compaction",
        events as f64 / (ingest_s + flush_s)
    );
    println!("load average before {load_before}, after ingest {load_after}");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
