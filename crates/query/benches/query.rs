//! Logs Insights benchmark on generator events (BENCHMARKS.md, "Insights queries"): five
//! queries through [`lookout_query`] over a flushed store, each answer checked against
//! DuckDB's over the same events (JSON lines and zstd Parquet), DuckDB timed in the same run.
//!
//! `LOOKOUT_BENCH_EVENTS` (default 10,000,000), `LOOKOUT_BENCH_RUNS` (default 5),
//! `LOOKOUT_BENCH_DUCKDB=0` skips the peer. Data goes to `bench-data/query` at the
//! repository root; the JSON lines of the storage benchmark (`bench-data/storage`) are
//! reused when present. Run: `cargo bench -p lookout-query --bench query`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lookout_model::{InputEvent, LogGroupName, LogStreamName};
use lookout_query::{Request, compile};
use lookout_storage::{Store, StoreConfig};
use lookout_testkit::{GenConfig, Generator};

type Batch = (String, String, Vec<InputEvent>);

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check(what: &str, ok: bool) {
    println!("check {what}: {}", if ok { "ok" } else { "MISMATCH" });
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Loads the generator's events into a fresh store (8 writers, 500-event batches), flushed.
fn ingest(cfg: &GenConfig, dir: &std::path::Path) -> (Store, Vec<String>) {
    let mut open: HashMap<(String, String), Vec<InputEvent>> = HashMap::new();
    let mut batches: Vec<Batch> = Vec::new();
    for e in Generator::new(cfg.clone()) {
        let key = (e.log_group, e.log_stream);
        let buf = open.entry(key.clone()).or_default();
        buf.push(InputEvent {
            timestamp: e.timestamp,
            message: e.message,
        });
        if buf.len() >= 500 {
            batches.push((key.0, key.1, std::mem::take(buf)));
        }
    }
    batches.extend(
        open.into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|((g, s), v)| (g, s, v)),
    );
    let mut scfg = StoreConfig::new(dir);
    scfg.flush_bytes = 256 << 20;
    let store = Store::open(scfg).unwrap();
    let mut groups: Vec<String> = Vec::new();
    let mut streams = std::collections::HashSet::new();
    for (g, s, _) in &batches {
        if !groups.contains(g) {
            let name = LogGroupName::new(g.clone()).unwrap();
            store.create_group(&name, Default::default(), 0).unwrap();
            groups.push(g.clone());
        }
        if streams.insert((g.clone(), s.clone())) {
            let name = LogStreamName::new(s.clone()).unwrap();
            store.create_stream(g, &name, 0).unwrap();
        }
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Batch>>> =
        batches.into_iter().map(|b| Mutex::new(Some(b))).collect();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(i) else { break };
                    let (g, s, evs) = slot.lock().unwrap().take().unwrap();
                    store.append(&g, &s, evs).unwrap();
                }
            });
        }
    });
    store.flush().unwrap();
    store.compact().unwrap();
    (store, groups)
}

fn main() {
    let events = env("LOOKOUT_BENCH_EVENTS", 10_000_000);
    let runs = env("LOOKOUT_BENCH_RUNS", 5) as usize;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = repo.join("bench-data/query");
    std::fs::create_dir_all(&root).unwrap();
    let cfg = GenConfig {
        events,
        seed: 42,
        ..GenConfig::default()
    };
    let store_dir = root.join(format!("store-{events}"));
    let mut generator = Generator::new(cfg.clone());
    for _ in generator.by_ref() {}
    let manifest = generator.manifest();
    let (store, groups) = if store_dir.join("meta.db").exists() {
        let store = Store::open(StoreConfig::new(&store_dir)).unwrap();
        let groups = store
            .list_groups(None, None, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        println!("reusing the store in {}", store_dir.display());
        (store, groups)
    } else {
        let t = Instant::now();
        let out = ingest(&cfg, &store_dir);
        println!(
            "ingested {events} events in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        out
    };
    let needle = manifest.needles.request_id.value.clone();
    let queries: Vec<(&str, String)> = vec![
        ("bins", "stats count(*) as n by bin(5m)".to_owned()),
        ("needle", format!("filter @requestId = \"{needle}\" | stats count(*) as n")),
        ("levels", "stats count(*) as n by level".to_owned()),
        (
            "top_errors",
            "filter level = \"ERROR\" | stats count(*) as n by function_name | sort n desc | limit 10"
                .to_owned(),
        ),
        (
            "p95",
            "filter @type = \"REPORT\" | parse @log \"*:/aws/lambda/*\" as account, function_name \
             | stats pct(@duration, 95) as p95 by function_name"
                .to_owned(),
        ),
    ];
    let req = Request {
        groups: groups.clone(),
        start_ms: i64::MIN / 2,
        end_ms: i64::MAX / 2,
        limit: None,
        account: "123456789012".into(),
        now_secs: 0,
    };
    let mut answers: BTreeMap<&str, Vec<Vec<(String, String)>>> = BTreeMap::new();
    let mut figures = Vec::new();
    for (name, text) in &queries {
        let q = compile(text).unwrap();
        let mut out = q.run(&store, &req, &|| false).unwrap();
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            out = q.run(&store, &req, &|| false).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let ms = median(times);
        println!(
            "lookout {name}: {ms:.1} ms ({} rows) — {text}",
            out.rows.len()
        );
        figures.push((*name, ms));
        answers.insert(name, out.rows);
    }
    let num = |rows: &[Vec<(String, String)>], key: &str, val: &str| -> BTreeMap<String, f64> {
        rows.iter()
            .map(|r| {
                let get = |f: &str| {
                    r.iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                (get(key), get(val).parse().unwrap_or(f64::NAN))
            })
            .collect()
    };
    let bins = num(&answers["bins"], "bin(5m)", "n");
    check(
        "bins cover every event",
        bins.values().sum::<f64>() == events as f64,
    );

    if env("LOOKOUT_BENCH_DUCKDB", 1) == 0 {
        return;
    }
    let jsonl = {
        let shared = repo.join(format!("bench-data/storage/events-{events}.jsonl"));
        if shared.exists() {
            shared
        } else {
            let own = root.join(format!("events-{events}.jsonl"));
            if !own.exists() {
                let f = std::io::BufWriter::new(std::fs::File::create(&own).unwrap());
                Generator::new(cfg.clone()).write_jsonl(f).unwrap();
            }
            own
        }
    };
    let script = repo.join("scripts/bench-query-duckdb.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&jsonl)
        .arg(&needle)
        .args(["--runs", &runs.to_string(), "--jsonl-runs", "1"])
        .output()
        .unwrap();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "duckdb peer failed");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs = |v: &serde_json::Value| -> BTreeMap<String, f64> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let k = match &r[0] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k, r[1].as_f64().unwrap_or(f64::NAN))
            })
            .collect()
    };
    for fmt in ["parquet", "jsonl"] {
        if d.get(format!("{fmt}_bins")).is_none() {
            continue;
        }
        let dbins: Vec<f64> = pairs(&d[format!("{fmt}_bins")]).into_values().collect();
        let ours: Vec<f64> = bins.values().copied().collect();
        check(&format!("{fmt} bins"), dbins == ours);
        let needle_hits = num(&answers["needle"], "n", "n").values().copied().next();
        check(
            &format!("{fmt} needle"),
            needle_hits == d[format!("{fmt}_needle")][0][0].as_f64(),
        );
        // Events without a level form a group of their own here; DuckDB's query drops it.
        let mut levels = num(&answers["levels"], "level", "n");
        levels.remove("");
        check(
            &format!("{fmt} levels"),
            pairs(&d[format!("{fmt}_levels")]) == levels,
        );
        let mut dtop: Vec<f64> = pairs(&d[format!("{fmt}_top_errors")])
            .into_values()
            .collect();
        let mut ours: Vec<f64> = num(&answers["top_errors"], "function_name", "n")
            .into_values()
            .collect();
        dtop.sort_by(f64::total_cmp);
        ours.sort_by(f64::total_cmp);
        check(
            &format!("{fmt} top-10 functions among errors (counts)"),
            dtop == ours,
        );
        let dp: BTreeMap<String, f64> = pairs(&d[format!("{fmt}_p95")]);
        let ours = num(&answers["p95"], "function_name", "p95");
        check(&format!("{fmt} p95"), dp == ours);
        for (name, ms) in &figures {
            let peer = d[format!("{fmt}_{name}_ms")].as_f64().unwrap_or(f64::NAN);
            println!(
                "{fmt} {name}: duckdb {peer:.1} ms, lookout {ms:.1} ms ({:.2}x)",
                peer / ms
            );
        }
    }
}
