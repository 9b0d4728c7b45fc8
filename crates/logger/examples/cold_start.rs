//! Cold-start cost of the logger: time from process start to the first record on stdout,
//! with the logger (`init()` from the environment, then one Powertools-shaped record) and
//! without it (the same line printed with `println!`). The parent spawns each child `N`
//! times, alternating, and times spawn → first line read from the child's stdout pipe; the
//! difference of the medians is what the logger adds. Children also report the time from
//! `main` to the record written.
//!
//! `cargo run --release -p lookout-logger --example cold_start -- 200`

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

fn child(mode: &str) -> ExitCode {
    let start = Instant::now();
    if mode == "logger" {
        if lookout_logger::init().is_err() {
            return ExitCode::from(2);
        }
        tracing::info!(
            order_id = "ord-1001",
            amount = 42.5,
            currency = "EUR",
            customer_tier = "gold",
            attempt = 3,
            "Collecting payment"
        );
    } else {
        println!(
            "{{\"level\":\"INFO\",\"message\":\"Collecting payment\",\"order_id\":\"ord-1001\"}}"
        );
    }
    let _ = std::io::stdout().flush();
    let in_process = start.elapsed();
    eprintln!("{}", in_process.as_nanos());
    ExitCode::SUCCESS
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn run_once(exe: &std::path::Path, mode: &str) -> Option<(Duration, Duration)> {
    let t = Instant::now();
    let mut c = Command::new(exe)
        .args(["child", mode])
        .env("POWERTOOLS_SERVICE_NAME", "cold-start-probe")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(c.stdout.take()?).read_line(&mut line).ok()?;
    let to_first_line = t.elapsed();
    let out = c.wait_with_output().ok()?;
    let ns: u64 = String::from_utf8_lossy(&out.stderr).trim().parse().ok()?;
    (!line.is_empty()).then_some((to_first_line, Duration::from_nanos(ns)))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next().unwrap_or_default();
    if first == "child" {
        return child(&args.next().unwrap_or_default());
    }
    let n: usize = first.parse().unwrap_or(100);
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot locate the example binary");
        return ExitCode::FAILURE;
    };
    let (mut with, mut without, mut inproc_with, mut inproc_without) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        if let Some((a, b)) = run_once(&exe, "logger") {
            with.push(a);
            inproc_with.push(b);
        }
        if let Some((a, b)) = run_once(&exe, "plain") {
            without.push(a);
            inproc_without.push(b);
        }
    }
    let (w, wo) = (median(&mut with), median(&mut without));
    let (iw, iwo) = (median(&mut inproc_with), median(&mut inproc_without));
    println!(
        "runs: {} with logger, {} without",
        with.len(),
        without.len()
    );
    println!("process start -> first line read, median: with logger {w:?}, plain println {wo:?}");
    println!("added by the logger: {:?}", w.saturating_sub(wo));
    println!(
        "main -> first record written (in process), median: with logger {iw:?}, plain {iwo:?}"
    );
    ExitCode::SUCCESS
}
