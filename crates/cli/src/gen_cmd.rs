//! `lookout gen`: write a generated corpus and its manifest.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use lookout_testkit::{GenConfig, Generator, parse_span, parse_start};

pub(crate) const EXAMPLES: &str = "Examples:
  lookout gen --events 1000000 --seed 7 --out events.jsonl     # also writes events.jsonl.manifest.json
  lookout gen --events 1000 | head -3
  lookout gen --start 2026-01-01T00:00:00Z --span 7d --entropy 0.8 --out week.jsonl";

/// Options of `lookout gen`.
#[derive(Args, Debug)]
pub(crate) struct GenArgs {
    /// Number of events to generate.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Seed; the same options always produce the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Time of the first event: RFC 3339 UTC (2026-11-01T00:00:00Z) or epoch milliseconds.
    #[arg(long, default_value = "2026-11-01T00:00:00Z")]
    start: String,
    /// Time range the events spread over: 30m, 24h, 7d, 90s, or milliseconds.
    #[arg(long, default_value = "24h")]
    span: String,
    /// 0.0–1.0: how unpredictable lines are (higher compresses worse).
    #[arg(long, default_value_t = 0.5)]
    entropy: f64,
    /// Number of functions (log groups), 1–1000.
    #[arg(long, default_value_t = 50)]
    functions: usize,
    /// Output file; `-` is standard output.
    #[arg(long, short, default_value = "-")]
    out: PathBuf,
    /// Where to write the manifest (JSON). Default: `<out>.manifest.json` when writing to a
    /// file, none when writing to standard output.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

pub(crate) fn run(args: GenArgs) -> Result<()> {
    let Some(start_ms) = parse_start(&args.start) else {
        bail!(
            "invalid --start {:?}: expected RFC 3339 UTC such as 2026-11-01T00:00:00Z or epoch milliseconds",
            args.start
        );
    };
    let Some(span_ms) = parse_span(&args.span) else {
        bail!(
            "invalid --span {:?}: expected a positive duration such as 90s, 30m, 24h, 7d",
            args.span
        );
    };
    if !(0.0..=1.0).contains(&args.entropy) {
        bail!(
            "invalid --entropy {}: expected a number from 0.0 to 1.0",
            args.entropy
        );
    }
    if !(1..=1000).contains(&args.functions) {
        bail!("invalid --functions {}: expected 1 to 1000", args.functions);
    }
    let mut generator = Generator::new(GenConfig {
        events: args.events,
        seed: args.seed,
        start_ms,
        span_ms,
        entropy: args.entropy,
        functions: args.functions,
    });
    let to_stdout = args.out.as_os_str() == "-";
    if to_stdout {
        let stdout = io::stdout();
        generator.write_jsonl(BufWriter::with_capacity(1 << 20, stdout.lock()))?;
    } else {
        let file = File::create(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        generator
            .write_jsonl(BufWriter::with_capacity(1 << 20, file))
            .with_context(|| format!("cannot write {}", args.out.display()))?;
    }
    let manifest_path = match (&args.manifest, to_stdout) {
        (Some(p), _) => Some(p.clone()),
        (None, false) => {
            let mut p = args.out.clone().into_os_string();
            p.push(".manifest.json");
            Some(PathBuf::from(p))
        }
        (None, true) => None,
    };
    if let Some(path) = manifest_path {
        let mut f =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        serde_json::to_writer_pretty(&mut f, &generator.manifest())?;
        f.write_all(b"\n")?;
    }
    Ok(())
}
