//! SIGKILL crash test: a child process (this test binary re-executed) ingests from several
//! threads and prints each acknowledged batch; the parent kills it at a random moment, then
//! reopens the store and checks that every acknowledged event is present exactly once and
//! in order. Rounds continue on the same directory, so recovery of a recovered store and
//! kills during recovery, flush and compaction are all exercised.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lookout_model::InputEvent;
use lookout_storage::{Store, StoreConfig};
use rand::RngExt;

use crate::common::{all_of_stream, group, stream};

const G: &str = "crash";
const THREADS: usize = 4;
const ROUNDS: u64 = 60;

/// The store's settings in `round`: odd rounds flush unindexed, even ones indexed.
fn config(dir: &std::path::Path, round: u64) -> StoreConfig {
    let mut cfg = StoreConfig::new(dir);
    // Windows of three batches per writer, so most background flushes keep the newest
    // window back in a carry file and kills land before, during and after its publish.
    cfg.flush_bytes = 32 << 10;
    cfg.flush_age = Duration::from_millis(40);
    cfg.block_events = 64;
    cfg.window_ms = 300;
    cfg.compact_min_segments = 3;
    cfg.delete_grace = Duration::from_millis(20);
    // In odd rounds every background flush writes unindexed segments (keeping no window
    // back), and compaction rebuilds them once a few flushes' worth gathered; in even
    // rounds flushes index at once and keep windows back. Kills land in all of these,
    // and each round's store reopens what the previous round's settings wrote.
    cfg.index_rate = if round % 2 == 1 { 0 } else { u64::MAX };
    cfg.unindexed_max_bytes = 64 << 10;
    cfg
}

/// The message of event `i` of batch `b` of writer `t` in round `r`; parseable back.
fn message(r: u64, t: usize, b: u64, i: usize) -> String {
    format!(
        "r{r} t{t} b{b} e{i} payload={}",
        "x".repeat((b as usize * 7 + i) % 40)
    )
}

fn parse(m: &str) -> Option<(u64, usize, u64, usize)> {
    let mut it = m.split(' ');
    let r = it.next()?.strip_prefix('r')?.parse().ok()?;
    let t = it.next()?.strip_prefix('t')?.parse().ok()?;
    let b = it.next()?.strip_prefix('b')?.parse().ok()?;
    let i = it.next()?.strip_prefix('e')?.parse().ok()?;
    Some((r, t, b, i))
}

#[test]
fn child() {
    let (Ok(dir), Ok(round)) = (
        std::env::var("LOOKOUT_CRASH_DIR"),
        std::env::var("LOOKOUT_CRASH_ROUND"),
    ) else {
        return; // Only runs when re-executed by `sigkill_rounds`.
    };
    let round: u64 = round.parse().unwrap();
    let store = Store::open(config(std::path::Path::new(&dir), round)).unwrap();
    let _ = store.create_group(&group(G), Default::default(), 0);
    for t in 0..THREADS {
        let _ = store.create_stream(G, &stream(&format!("s{t}")), 0);
    }
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let store = &store;
            scope.spawn(move || {
                for b in 0..200u64 {
                    let n = 1 + (b as usize * 5 + t) % 12;
                    // Timestamps grow with round and batch, so stream order is checkable.
                    let ts = (round * 1_000 + b) as i64 * 100;
                    let events = (0..n)
                        .map(|i| InputEvent {
                            timestamp: ts + i as i64,
                            message: message(round, t, b, i),
                        })
                        .collect();
                    store.append(G, &format!("s{t}"), events).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {t} {b} {n}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn sigkill_rounds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    // LOOKOUT_CRASH_KEEP=1 keeps the store of the run for inspection.
    let _cleanup = if std::env::var_os("LOOKOUT_CRASH_KEEP").is_some() {
        eprintln!("crash test store: {}", tmp.keep().display());
        None
    } else {
        Some(tmp)
    };
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let started = Instant::now();
    // (round, thread, batch) -> event count, for every acknowledged batch so far.
    let mut acked: BTreeMap<(u64, usize, u64), usize> = BTreeMap::new();
    let mut checked_events = 0u64;
    let mut torn = 0;
    let mut carried = 0;
    // Unindexed segment objects a kill left, summed over rounds.
    let mut unindexed = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash::child", "--nocapture", "--test-threads=1"])
            .env("LOOKOUT_CRASH_DIR", &dir)
            .env("LOOKOUT_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let p: Vec<&str> = line.split(' ').collect();
                if p.len() == 4 && p[0] == "ack" {
                    acks.push((
                        p[1].parse::<usize>().unwrap(),
                        p[2].parse::<u64>().unwrap(),
                        p[3].parse::<usize>().unwrap(),
                    ));
                }
            }
            acks
        });
        let delay = rng.random_range(10..250u64);
        #[allow(clippy::disallowed_methods)] // a plain thread in a test, no runtime
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        for (t, b, n) in reader.join().unwrap() {
            acked.insert((round, t, b), n);
        }

        unindexed += std::fs::read_dir(dir.join("objects/segments"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().contains("-unindexed"))
                    .count()
            })
            .unwrap_or(0);
        let store = Store::open(config(&dir, round)).unwrap();
        torn += store.recovery_report().problems.len();
        carried += store.recovery_report().carried_events;
        for t in 0..THREADS {
            let name = format!("s{t}");
            let events = match store.stream(G, &name) {
                Ok(_) => all_of_stream(&store, G, &name),
                Err(_) => Vec::new(),
            };
            let mut seen: HashSet<(u64, u64, usize)> = HashSet::new();
            let mut per_batch: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
            let mut last: Option<(u64, u64, usize)> = None;
            for e in &events {
                let (r, tt, b, i) =
                    parse(&e.message).unwrap_or_else(|| panic!("foreign message {:?}", e.message));
                assert_eq!(tt, t, "event in the wrong stream");
                assert!(
                    seen.insert((r, b, i)),
                    "duplicate event r{r} t{t} b{b} e{i} after round {round}"
                );
                let pos = (r, b, i);
                assert!(
                    last.is_none_or(|l| l < pos),
                    "out of order at {pos:?} after round {round}"
                );
                last = Some(pos);
                per_batch.entry((r, b)).or_default().push(i);
            }
            for (&(r, tt, b), &n) in acked.range((0, 0, 0)..) {
                if tt != t {
                    continue;
                }
                let got = per_batch.get(&(r, b)).map(Vec::as_slice).unwrap_or(&[]);
                assert_eq!(
                    got,
                    (0..n).collect::<Vec<_>>(),
                    "acknowledged batch r{r} t{t} b{b} lost after round {round} (read problems: {:?})",
                    &store.problems()[store.recovery_report().problems.len()..]
                );
                checked_events += n as u64;
            }
            // Unacknowledged batches may survive, but only whole.
            for ((r, b), is) in &per_batch {
                let n = 1 + (*b as usize * 5 + t) % 12;
                assert_eq!(is.len(), n, "partial batch r{r} t{t} b{b}");
            }
        }
        let read_problems = store.problems();
        let read_problems = &read_problems[store.recovery_report().problems.len()..];
        assert!(
            read_problems.is_empty(),
            "reads after round {round} met {read_problems:?}"
        );
        drop(store);
    }
    eprintln!(
        "crash test: {ROUNDS} rounds, {} acknowledged batches, {checked_events} event checks, {torn} torn wal tails, {carried} events recovered from carry files, {unindexed} unindexed segments found after kills, {:.1}s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        acked.len() > ROUNDS as usize,
        "children acknowledged too little to test anything"
    );
    assert!(carried > 0, "no kill left rows in a carry file to recover");
    assert!(unindexed > 0, "no kill left an unindexed segment to read");
}
