//! The storage benchmark on generator events (BENCHMARKS.md, "Storage engine"): durable
//! ingest, stored size, and three queries through the scan API, each checked against the
//! generator's manifest or DuckDB's answer, with DuckDB timed in the same run.
//!
//! `LOOKOUT_BENCH_EVENTS` (default 10,000,000), `LOOKOUT_BENCH_WRITERS` (default 8),
//! `LOOKOUT_BENCH_DUCKDB=0` to skip the peer. Data goes to `bench-data/storage` at the
//! repository root, the store to `store-<events>` in it or under `LOOKOUT_BENCH_STORE_DIR`
//! (relative to the repository root), so a new format can be measured beside an old store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lookout_model::{InputEvent, LogGroupName, LogStreamName};
use lookout_storage::{Predicate, Scan, Store, StoreConfig};
use lookout_testkit::{GenConfig, Generator};

/// One PutLogEvents-shaped batch: group, stream, events.
type Batch = (String, String, Vec<InputEvent>);

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            // The background thread may delete a replaced segment meanwhile.
            let Ok(m) = e.metadata() else { continue };
            total += if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            };
        }
    }
    total
}

/// Reports an answer check; a mismatch is printed, not fatal, so one run still reports
/// every figure.
fn check(what: &str, ok: bool) {
    println!("check {what}: {}", if ok { "ok" } else { "MISMATCH" });
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` once to warm caches, then `runs` times; returns the median in ms and the last answer.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), out)
}

/// `LOOKOUT_BENCH_BUILD=N`: the segment build alone (`LOOKOUT_BENCH_UNINDEXED=1`: unindexed) on N generator events spread over
/// `LOOKOUT_BENCH_SPAN_MIN` minutes (default 20), one segment per group and hour as a flush
/// writes them, with the store's default block limits. Run it under
/// `valgrind --tool=callgrind --toggle-collect='lookout_storage::segment::build*'` for
/// instructions per event.
fn build_only(events: u64) {
    let cfg = GenConfig {
        events,
        seed: 42,
        span_ms: env("LOOKOUT_BENCH_SPAN_MIN", 20) as i64 * 60_000,
        ..GenConfig::default()
    };
    // (group, hour) -> stream -> (timestamp, message)
    type Streams = BTreeMap<String, Vec<(i64, String)>>;
    let mut segs: BTreeMap<(String, i64), Streams> = BTreeMap::new();
    let mut raw = 0u64;
    for e in Generator::new(cfg) {
        raw += e.message.len() as u64;
        segs.entry((e.log_group, e.timestamp.div_euclid(3_600_000)))
            .or_default()
            .entry(e.log_stream)
            .or_default()
            .push((e.timestamp, e.message));
    }
    let n = segs.len();
    let segments = segs
        .into_values()
        .map(|streams| {
            streams
                .into_values()
                .map(|mut evs| {
                    evs.sort_by_key(|e| e.0);
                    evs
                })
                .collect()
        })
        .collect();
    let segments = lookout_storage::BenchSegments::new(segments);
    let defaults = StoreConfig::new(".");
    // LOOKOUT_BENCH_UNINDEXED=1: the unindexed build a flush under load does.
    let indexed = env("LOOKOUT_BENCH_UNINDEXED", 0) == 0;
    let t = Instant::now();
    let rep = segments
        .build_all(defaults.block_events, defaults.block_bytes, indexed)
        .unwrap();
    let s = t.elapsed().as_secs_f64();
    let kind = if indexed { "indexed" } else { "unindexed" };
    println!(
        "segment build ({kind}): {events} events in {n} segments ({} blocks), {s:.2}s, {:.0} events/s on one thread, {} B for {raw} B (1/{:.2})",
        rep.blocks,
        events as f64 / s,
        rep.total,
        raw as f64 / rep.total as f64
    );
    let fields: u64 = rep.fields.values().sum();
    println!(
        "  messages {} B, fields {fields} B, keys {} B, index {} B (blooms {} B)",
        rep.messages, rep.keys, rep.index, rep.blooms
    );
    let mut by_size: Vec<(&String, &u64)> = rep.fields.iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(a.1));
    for (path, bytes) in by_size.iter().take(12) {
        println!("  field {path}: {bytes} B");
    }
}

/// The top-10 query's scan: ERROR lines, their request ids (no timestamps: the answer
/// needs none).
fn top10_scan() -> Scan {
    Scan {
        predicates: vec![Predicate::FieldEquals {
            path: "level".into(),
            value: "ERROR".into(),
        }],
        fields: vec!["function_request_id".into()],
        keys: false,
        ..Scan::all()
    }
}

/// The top-10 answer another way, for the check: every row's level and request id, with
/// keys, no predicate pushed down.
fn top10_reference(store: &Store, groups: &[String]) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let scan = Scan {
        fields: vec!["level".into(), "function_request_id".into()],
        ..Scan::all()
    };
    for g in groups {
        store
            .scan(g, &scan, &mut |b| {
                assert_eq!(b.timestamps.len(), b.len());
                for i in 0..b.len() {
                    if b.fields[0].get(i) == Some("ERROR")
                        && let Some(id) = b.fields[1].get(i)
                    {
                        *counts.entry(id.to_owned()).or_default() += 1;
                    }
                }
                ControlFlow::Continue(())
            })
            .unwrap();
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(10);
    v
}

/// Top-10 request ids among ERROR lines: (id, count), most frequent first, ties by id.
fn top10(store: &Store, groups: &[String]) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let scan = top10_scan();
    for g in groups {
        store
            .scan(g, &scan, &mut |b| {
                // Count dictionary codes per batch, then look each distinct value up once.
                let col = &b.fields[0];
                let mut per_code = vec![0u64; col.dict.len() + 1];
                for &c in &col.codes {
                    if let Some(n) = per_code.get_mut(c as usize) {
                        *n += 1;
                    }
                }
                for (v, &n) in col.dict.iter().zip(&per_code[1..]) {
                    if n == 0 {
                        continue;
                    }
                    match counts.get_mut(v.as_str()) {
                        Some(c) => *c += n,
                        None => {
                            counts.insert(v.clone(), n);
                        }
                    }
                }
                ControlFlow::Continue(())
            })
            .unwrap();
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(10);
    v
}

fn main() {
    // `cargo bench` passes --bench; nothing else to parse.
    let build = env("LOOKOUT_BENCH_BUILD", 0);
    if build > 0 {
        build_only(build);
        return;
    }
    let events = env("LOOKOUT_BENCH_EVENTS", 10_000_000);
    let writers = env("LOOKOUT_BENCH_WRITERS", 8) as usize;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data/storage");
    let store_dir = match std::env::var_os("LOOKOUT_BENCH_STORE_DIR") {
        Some(d) => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(d)
            .join(format!("store-{events}")),
        None => root.join(format!("store-{events}")),
    };
    // LOOKOUT_BENCH_REUSE=1 reopens the store of an earlier run and only runs the queries.
    let reuse = env("LOOKOUT_BENCH_REUSE", 0) == 1 && store_dir.join("meta.db").exists();
    if !reuse {
        let _ = std::fs::remove_dir_all(&store_dir);
    }
    std::fs::create_dir_all(&root).unwrap();
    if let Some(parent) = store_dir.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let cfg = GenConfig {
        events,
        seed: 42,
        ..GenConfig::default()
    };

    let jsonl = root.join(format!("events-{events}.jsonl"));
    let top_only = env("LOOKOUT_BENCH_TOP10_ONLY", 0) as usize;
    let (store, groups, manifest) = if reuse {
        let mut generator = Generator::new(cfg.clone());
        // The manifest (needle answers) needs every event; a top-10 profile does not.
        if top_only == 0 {
            for _ in generator.by_ref() {}
        }
        let store = Store::open(StoreConfig::new(&store_dir)).unwrap();
        let groups: Vec<String> = store
            .list_groups(None, None, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        println!("reusing the store in {}", store_dir.display());
        (store, groups, generator.manifest())
    } else {
        // 1. Generate every batch up front, so ingest timing excludes generation. Batches are
        //    per stream, up to 500 events, in time order (PutLogEvents' shape).
        let t = Instant::now();
        let mut generator = Generator::new(cfg.clone());
        let mut open: HashMap<(String, String), Vec<InputEvent>> = HashMap::new();
        let mut batches: Vec<Batch> = Vec::new();
        let mut raw_bytes = 0u64;
        for e in generator.by_ref() {
            raw_bytes += e.message.len() as u64;
            let key = (e.log_group, e.log_stream);
            let buf = open.entry(key.clone()).or_default();
            buf.push(InputEvent {
                timestamp: e.timestamp,
                message: e.message,
            });
            if buf.len() >= 500 {
                let evs = std::mem::take(buf);
                batches.push((key.0, key.1, evs));
            }
        }
        for ((g, s), evs) in open {
            if !evs.is_empty() {
                batches.push((g, s, evs));
            }
        }
        let manifest = generator.manifest();
        println!(
            "generated {events} events ({} groups, {} streams) in {} batches in {:.1}s",
            manifest.log_groups,
            manifest.log_streams,
            batches.len(),
            t.elapsed().as_secs_f64()
        );

        // JSON lines for the DuckDB peer (same seed, same bytes).
        if !jsonl.exists() {
            let f = std::io::BufWriter::new(std::fs::File::create(&jsonl).unwrap());
            Generator::new(cfg.clone()).write_jsonl(f).unwrap();
        }

        let mut scfg = StoreConfig::new(&store_dir);
        scfg.flush_bytes = 256 << 20;
        let store = Store::open(scfg).unwrap();
        let mut groups: Vec<String> = Vec::new();
        let mut streams_seen = std::collections::HashSet::new();
        for (g, s, _) in &batches {
            if !groups.contains(g) {
                store
                    .create_group(
                        &LogGroupName::new(g.clone()).unwrap(),
                        Default::default(),
                        0,
                    )
                    .unwrap();
                groups.push(g.clone());
            }
            if streams_seen.insert((g.clone(), s.clone())) {
                store
                    .create_stream(g, &LogStreamName::new(s.clone()).unwrap(), 0)
                    .unwrap();
            }
        }

        // 2. Durable ingest: writers append batches concurrently; each append returns after the
        //    group commit's fsync. Background flushes run during the measurement.
        let next = AtomicUsize::new(0);
        let slots: Vec<parking_lot::Mutex<Option<Batch>>> = batches
            .into_iter()
            .map(|b| parking_lot::Mutex::new(Some(b)))
            .collect();
        let t = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..writers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(slot) = slots.get(i) else { break };
                        let (g, s, evs) = slot.lock().take().unwrap();
                        store.append(&g, &s, evs).unwrap();
                    }
                });
            }
        });
        let ingest_s = t.elapsed().as_secs_f64();
        drop(slots);
        let t = Instant::now();
        store.flush().unwrap();
        let flush_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let replaced = store.compact().unwrap();
        store.collect_garbage(true).unwrap();
        let compact_s = t.elapsed().as_secs_f64();
        let objects = dir_size(&store_dir.join("objects"));
        let meta = dir_size(&store_dir) - objects - dir_size(&store_dir.join("wal"));
        println!(
            "ingest: {:.0} events/s acknowledged ({ingest_s:.1}s, {writers} writers); final flush {flush_s:.1}s; end to end {:.0} events/s; compaction {compact_s:.1}s replaced {replaced}",
            events as f64 / ingest_s,
            events as f64 / (ingest_s + flush_s)
        );
        println!(
            "size: segments {objects} B + metastore {meta} B for {raw_bytes} B of messages: 1/{:.2}",
            raw_bytes as f64 / (objects + meta) as f64
        );

        (store, groups, manifest)
    };

    // 3. Queries through the scan API over every group, warm. `LOOKOUT_BENCH_TOP10_ONLY=N`
    //    runs only the top-10 query, N times (for profiles).
    let needle = manifest.needles.request_id.value.clone();
    if top_only > 0 {
        let t = Instant::now();
        for _ in 0..top_only {
            std::hint::black_box(top10(&store, &groups));
        }
        println!(
            "top-10 only: {:.1} ms per query over {top_only} runs",
            t.elapsed().as_secs_f64() * 1000.0 / top_only as f64
        );
        let mut stats = lookout_storage::ScanStats::default();
        let mut batches = 0u64;
        for g in &groups {
            let s = store
                .scan(g, &top10_scan(), &mut |_| {
                    batches += 1;
                    ControlFlow::Continue(())
                })
                .unwrap();
            stats.blocks += s.blocks;
            stats.pruned_by_time += s.pruned_by_time;
            stats.pruned_by_index += s.pruned_by_index;
            stats.decoded += s.decoded;
            stats.events += s.events;
        }
        println!("top-10 scan: {batches} batches, {stats:?}");
        return;
    }
    let runs = 10;
    let (needle_ms, needle_hits) = timed(runs, || {
        let mut hits = 0u64;
        let scan = Scan {
            predicates: vec![Predicate::Contains(needle.clone())],
            ..Scan::all()
        };
        for g in &groups {
            store
                .scan(g, &scan, &mut |b| {
                    hits += b.len() as u64;
                    ControlFlow::Continue(())
                })
                .unwrap();
        }
        hits
    });
    check(
        "needle vs manifest",
        needle_hits == manifest.needles.request_id.count,
    );
    let (bins_ms, bins) = timed(runs, || {
        let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
        for g in &groups {
            store
                .scan(g, &Scan::all(), &mut |b| {
                    // Rows of a batch are in time order: count runs of one bin, then add
                    // each run once.
                    let mut run: Option<(i64, u64)> = None;
                    for ts in &b.timestamps {
                        let bin = ts.div_euclid(300_000);
                        match &mut run {
                            Some((cur, n)) if *cur == bin => *n += 1,
                            _ => {
                                if let Some((cur, n)) = run.replace((bin, 1)) {
                                    *bins.entry(cur).or_default() += n;
                                }
                            }
                        }
                    }
                    if let Some((cur, n)) = run {
                        *bins.entry(cur).or_default() += n;
                    }
                    ControlFlow::Continue(())
                })
                .unwrap();
        }
        bins
    });
    check(
        "bins cover every event",
        bins.values().sum::<u64>() == events,
    );
    // The same bins through `Store::count_by_bin`, which counts blocks inside the range from
    // their timestamp histograms.
    let (hist_ms, hist_bins) = timed(runs, || {
        let mut out: BTreeMap<i64, u64> = BTreeMap::new();
        for g in &groups {
            for (bin, n) in store.count_by_bin(g, &Scan::all(), 300_000).unwrap() {
                *out.entry(bin.div_euclid(300_000)).or_default() += n;
            }
        }
        out
    });
    check("count_by_bin equals the scanned bins", hist_bins == bins);
    let (top_ms, top) = timed(runs, || top10(&store, &groups));
    check(
        "top-10 equals a scan of every row's level and request id",
        top == top10_reference(&store, &groups),
    );
    println!(
        "lookout: needle {needle_ms:.2} ms ({needle_hits} hits), 5-min bins {bins_ms:.1} ms ({} bins; count_by_bin {hist_ms:.1} ms), top-10 ERROR request ids {top_ms:.1} ms",
        bins.len()
    );

    // 4. DuckDB over the same events, same run.
    if env("LOOKOUT_BENCH_DUCKDB", 1) == 0 {
        return;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench-storage-duckdb.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&jsonl)
        .arg(&needle)
        .args(["--runs", "5", "--jsonl-runs", "1"])
        .output()
        .unwrap();
    std::io::stderr().write_all(&out.stderr).unwrap();
    assert!(out.status.success(), "duckdb peer failed");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for fmt in ["parquet", "jsonl"] {
        let hits = d[format!("{fmt}_needle")][0][0].as_u64().unwrap();
        check(&format!("{fmt} needle"), hits == needle_hits);
        let dbins: BTreeMap<i64, u64> = d[format!("{fmt}_bins")]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_i64().unwrap(), r[1].as_u64().unwrap()))
            .collect();
        check(&format!("{fmt} bins"), dbins == bins);
        let dtop: Vec<(String, u64)> = d[format!("{fmt}_top10")]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_u64().unwrap()))
            .collect();
        check(&format!("{fmt} top-10"), dtop == top);
        if dtop != top {
            println!("  duckdb {dtop:?}\n  lookout {top:?}");
        }
    }
    let ms = |k: &str| d[k].as_f64().unwrap();
    println!(
        "duckdb {} ({} threads): parquet {} B, jsonl {} B",
        d["duckdb"], d["threads"], d["parquet_bytes"], d["jsonl_bytes"]
    );
    println!("| query | lookout ms | duckdb parquet ms | ratio | duckdb jsonl ms | ratio |");
    println!("|---|---|---|---|---|---|");
    for (name, ours) in [("needle", needle_ms), ("bins", bins_ms), ("top10", top_ms)] {
        let p = ms(&format!("parquet_{name}_ms"));
        let j = ms(&format!("jsonl_{name}_ms"));
        println!(
            "| {name} | {ours:.2} | {p:.1} | {:.1}x | {j:.0} | {:.0}x |",
            p / ours,
            j / ours
        );
    }
    let _ = Duration::ZERO;
}
