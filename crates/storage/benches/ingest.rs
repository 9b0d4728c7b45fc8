//! Durable ingest alone (BENCHMARKS.md, "Storage engine"): generator batches appended by
//! concurrent writers through `Store::append`, each call returning after its group commit's
//! fsync, with background flushes running. Reports acknowledged events/s, append latency
//! percentiles, the final flush and the segments written.
//!
//! `LOOKOUT_BENCH_EVENTS` (default 1,000,000), `LOOKOUT_BENCH_WRITERS` (default 8),
//! `LOOKOUT_BENCH_FLUSH_MB` (default 256, the storage bench's setting),
//! `LOOKOUT_BENCH_BATCH_SPAN_MS` (default 0: batches only by count, like the storage bench;
//! e.g. 300000 sends a stream's buffer once its first event is five minutes old in event
//! time). Data goes to
//! `bench-data/ingest` at the repository root and is removed afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
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

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU seconds (user, system) the process has used so far, from `/proc/self/stat`: the
/// flush's CPU cost apart from the time it waits on fsync or on other processes.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse::<f64>().unwrap_or(0.0) / 100.0)
        .collect();
    (
        f.first().copied().unwrap_or(0.0),
        f.get(1).copied().unwrap_or(0.0),
    )
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
}

/// Batches per stream of up to 500 events, in time order: the storage bench's shape. With
/// `span_ms > 0` a stream's buffer also goes out once its first event is that old in event
/// time, as a log agent sends what it buffered on a timer; otherwise what streams have
/// left under 500 events arrives only at the end, spread over the whole day.
fn batches(events: u64, span_ms: i64) -> Vec<Batch> {
    let cfg = GenConfig {
        events,
        seed: 42,
        ..GenConfig::default()
    };
    let mut open: HashMap<(String, String), Vec<InputEvent>> = HashMap::new();
    let mut out = Vec::new();
    let mut swept = i64::MIN;
    for e in Generator::new(cfg) {
        if span_ms > 0 && e.timestamp >= swept.saturating_add(span_ms / 10) {
            // An agent sends what it buffered on a timer, not when the next line comes.
            swept = e.timestamp;
            for ((g, s), buf) in open.iter_mut() {
                if buf
                    .first()
                    .is_some_and(|f| f.timestamp <= e.timestamp - span_ms)
                {
                    out.push((g.clone(), s.clone(), std::mem::take(buf)));
                }
            }
        }
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
    let span_ms = env("LOOKOUT_BENCH_BATCH_SPAN_MS", 0) as i64;
    let batches = batches(events, span_ms);
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
    println!("groups and streams created; appending");
    let load_before = load_average();
    let cpu_start = cpu_seconds();
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
    let ws = store.write_stats();
    let cpu_ingest = cpu_seconds();
    latencies.sort_unstable();
    let t = Instant::now();
    let cpu_before = cpu_seconds();
    store.flush().unwrap();
    let flush_s = t.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds();
    let mut segments = 0;
    let mut per_window: HashMap<(u64, i64), usize> = HashMap::new();
    let mut sizes: Vec<u64> = Vec::new();
    let mut after: Option<String> = None;
    while let Some(last) = store
        .list_groups(None, after.as_deref(), 1000)
        .unwrap()
        .into_iter()
        .inspect(|g| {
            let segs = store
                .metastore()
                .segments(g.id, i64::MIN, i64::MAX)
                .unwrap();
            segments += segs.len();
            for s in &segs {
                *per_window
                    .entry((g.id, s.min_ts.div_euclid(3_600_000)))
                    .or_insert(0usize) += 1;
                sizes.push(s.events);
            }
        })
        .last()
    {
        after = Some(last.name);
    }
    println!(
        "ingest: {:.0} events/s acknowledged ({ingest_s:.1}s, {writers} writers, flush_bytes {flush_mb} MiB)",
        events as f64 / ingest_s
    );
    println!(
        "ingest CPU: user {:.2}s system {:.2}s, {:.2} µs per event, {:.2} of 2 cores",
        cpu_ingest.0 - cpu_start.0,
        cpu_ingest.1 - cpu_start.1,
        (cpu_ingest.0 - cpu_start.0 + cpu_ingest.1 - cpu_start.1) * 1e6 / events as f64,
        (cpu_ingest.0 - cpu_start.0 + cpu_ingest.1 - cpu_start.1) / ingest_s
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
        "during ingest: {} flushes ({} unindexed) taking {:.1}s, longest {:.2}s; {} appends held {:.1}s in all; {} unindexed segments indexed",
        ws.flushes,
        ws.unindexed_flushes,
        ws.flush_time.as_secs_f64(),
        ws.longest_flush.as_secs_f64(),
        ws.held_appends,
        ws.held_time.as_secs_f64(),
        ws.indexed_segments
    );
    println!(
        "final flush {flush_s:.1}s; end to end {:.0} events/s; {segments} segments ({:.0} events each) after it",
        events as f64 / (ingest_s + flush_s),
        events as f64 / segments.max(1) as f64
    );
    let mut hist: std::collections::BTreeMap<usize, usize> = Default::default();
    for n in per_window.values() {
        *hist.entry(*n).or_default() += 1;
    }
    sizes.sort_unstable();
    let pct = |p: usize| sizes.get(sizes.len() * p / 100).copied().unwrap_or(0);
    println!(
        "group-hours by segment count {hist:?}; events per segment p10 {} p50 {} p90 {}",
        pct(10),
        pct(50),
        pct(90)
    );
    println!(
        "final flush CPU: user {:.2}s system {:.2}s",
        cpu_after.0 - cpu_before.0,
        cpu_after.1 - cpu_before.1
    );
    // What a flush under load left unindexed, indexed the way the background thread does
    // once ingest calms down (here at once, on the calling thread and its helpers).
    let t = Instant::now();
    let cpu_before = cpu_seconds();
    let replaced = store.compact().unwrap();
    let compact_s = t.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds();
    println!(
        "indexing afterwards (Store::compact): {compact_s:.1}s, CPU user {:.2}s system {:.2}s, {replaced} segments replaced, {} unindexed ones indexed; end to end until indexed {:.0} events/s",
        cpu_after.0 - cpu_before.0,
        cpu_after.1 - cpu_before.1,
        store.write_stats().indexed_segments,
        events as f64 / (ingest_s + flush_s + compact_s)
    );
    println!("load average before {load_before}, after ingest {load_after}");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
