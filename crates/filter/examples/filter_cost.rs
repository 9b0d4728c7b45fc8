//! Matches one pattern over N generator events, P times, and prints the match count and the
//! wall-clock throughput of the last pass. Under `valgrind --tool=callgrind`, the difference
//! of the instruction counts of P = 2 and P = 1 is the cost of one pass, independent of load.
//!
//! `cargo build --release -p lookout-filter --example filter_cost`
//! `target/release/examples/filter_cost '{ $.level = "INFO" }' 100000 2`

// A cost probe that cannot set up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use lookout_filter::Pattern;
use lookout_testkit::{GenConfig, Generator};

fn main() {
    let mut args = std::env::args().skip(1);
    let pattern = args
        .next()
        .unwrap_or_else(|| "{ $.level = \"INFO\" }".to_owned());
    let events = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let passes: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let pattern = Pattern::parse(&pattern).expect("pattern parses");
    let messages: Vec<String> = Generator::new(GenConfig {
        events,
        seed: 7,
        ..GenConfig::default()
    })
    .map(|e| e.message)
    .collect();
    let bytes: usize = messages.iter().map(String::len).sum();
    let mut hits = 0u64;
    let mut secs = 0.0;
    for _ in 0..passes {
        let start = Instant::now();
        hits = 0;
        for m in &messages {
            hits += u64::from(black_box(&pattern).matches(m));
        }
        secs = start.elapsed().as_secs_f64();
    }
    println!(
        "{events} events, {bytes} bytes, {hits} matches, {:.0} MB/s (last pass)",
        bytes as f64 / secs / 1e6
    );
}
