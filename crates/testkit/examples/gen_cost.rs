//! Generates N events (JSON lines) to a discarding writer and prints the byte count: run
//! under `valgrind --tool=callgrind` at two sizes, the difference of the instruction counts
//! divided by the difference of N is the cost per event, independent of machine load.
//!
//! `cargo build --release -p lookout-testkit --example gen_cost`
//! `target/release/examples/gen_cost 200000`
//!
//! With a second argument `-`, the lines go to standard output instead (buffered as
//! `lookout gen` does) and the manifest to standard error: a file-speed probe without the CLI.

use std::io::{self, Write};

use lookout_testkit::{GenConfig, Generator};

struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() -> io::Result<()> {
    let events = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut g = Generator::new(GenConfig {
        events,
        seed: 7,
        ..GenConfig::default()
    });
    if std::env::args().nth(2).as_deref() == Some("-") {
        let stdout = io::stdout();
        g.write_jsonl(io::BufWriter::with_capacity(1 << 20, stdout.lock()))?;
        let manifest = serde_json::to_string(&g.manifest()).map_err(io::Error::other)?;
        eprintln!("{manifest}");
        return Ok(());
    }
    let mut sink = Count(0);
    g.write_jsonl(&mut sink)?;
    if g.manifest().events != events {
        return Err(io::Error::other("generator stopped early"));
    }
    println!("{} events, {} bytes", events, sink.0);
    Ok(())
}
