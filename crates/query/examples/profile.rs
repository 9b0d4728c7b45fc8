//! Runs one Insights query over an existing benchmark store, for profiling (perf, callgrind):
//! `cargo run --release -p lookout-query --example profile -- <store dir> <query> [runs]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use lookout_query::{Request, compile};
use lookout_storage::{Store, StoreConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(text)) = (args.get(1), args.get(2)) else {
        println!("usage: profile <store dir> <query> [runs]");
        return;
    };
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(1);
    let store = Store::open(StoreConfig::new(dir)).unwrap();
    let groups = store
        .list_groups(None, None, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    let req = Request {
        groups,
        start_ms: i64::MIN / 2,
        end_ms: i64::MAX / 2,
        limit: None,
        account: "123456789012".into(),
        now_secs: 0,
    };
    let q = compile(text).unwrap();
    for _ in 0..runs {
        let t = Instant::now();
        let out = q.run(&store, &req, &|| false).unwrap();
        println!(
            "{:.1} ms, {} rows, first {:?}",
            t.elapsed().as_secs_f64() * 1000.0,
            out.rows.len(),
            out.rows.first()
        );
    }
}
