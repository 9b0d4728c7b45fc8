//! `lookout tail`: recent events of one or more groups, optionally following new ones.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use lookout_api::shapes::FilteredLogEvent;
use lookout_testkit::parse_span;

use crate::client::{Client, now_ms};
use crate::events::{GroupEvents, Merged, Seen, Selection};
use crate::render::{TailFormat, render_line};
use crate::term::{Style, parse_time, pause};

pub(crate) const EXAMPLES: &str = "Examples:
  lookout tail /aws/lambda/orders                          # the last 10 minutes
  lookout tail /aws/lambda/orders --follow                 # and keep following (Ctrl-C stops)
  lookout tail /aws/lambda/orders /aws/lambda/payments --since 2h --format detailed
  lookout tail /aws/lambda/orders --filter-pattern '{ $.level = \"ERROR\" }'
  lookout tail /aws/lambda/orders --stream-prefix '2026/11/29/' --format json | jq .message";

/// Events older than the newest one shown that a follow poll still looks for: writers on
/// several streams deliver slightly out of order.
const FOLLOW_LOOKBACK_MS: i64 = 5_000;

/// Options of `lookout tail`.
#[derive(Args, Debug)]
pub(crate) struct TailArgs {
    /// Log groups to read.
    #[arg(required = true)]
    groups: Vec<String>,
    /// Keep polling for new events until interrupted.
    #[arg(long, short)]
    follow: bool,
    /// Start this long ago (30s, 10m, 2h, 7d, 1w) or at a time (RFC 3339, epoch ms).
    #[arg(long, default_value = "10m")]
    since: String,
    /// Only events matching this CloudWatch filter pattern.
    #[arg(long)]
    filter_pattern: Option<String>,
    /// Only streams whose name starts with this.
    #[arg(long)]
    stream_prefix: Option<String>,
    /// How events are printed.
    #[arg(long, value_enum, default_value_t = TailFormat::Short)]
    format: TailFormat,
    /// Time between polls with --follow.
    #[arg(long, default_value = "1s", hide = true)]
    poll_interval: String,
}

pub(crate) fn run(client: &Client, args: TailArgs) -> Result<()> {
    let start = parse_time("--since", &args.since, now_ms())?;
    let Some(interval) = parse_span(&args.poll_interval) else {
        bail!(
            "invalid --poll-interval {:?}: expected a duration such as 500ms or 2s",
            args.poll_interval
        );
    };
    let selection = Selection {
        start_ms: Some(start),
        end_ms: None,
        pattern: args.filter_pattern.filter(|p| !p.is_empty()),
        stream_prefix: args.stream_prefix,
    };
    let mut merged = Merged {
        groups: args
            .groups
            .iter()
            .map(|g| GroupEvents::new(g, selection.clone()))
            .collect(),
    };
    let show_group = args.groups.len() > 1;
    let style = Style::for_stdout();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut seen = Seen::default();
    loop {
        let mut printed = 0usize;
        while let Some((i, event)) = merged.next(client)? {
            if args.follow && !seen.insert(&event) {
                continue;
            }
            let group = &merged.groups[i].group;
            print_event(
                &mut out,
                show_group.then_some(group.as_str()),
                group,
                &event,
                args.format,
                style,
            )?;
            printed += 1;
            // Long catch-ups still reach the reader page by page.
            if printed.is_multiple_of(1000) {
                out.flush()?;
            }
        }
        out.flush()?;
        if !args.follow {
            return Ok(());
        }
        pause(Duration::from_millis(interval.unsigned_abs()));
        let from = seen.next_start(FOLLOW_LOOKBACK_MS).unwrap_or(start);
        for g in &mut merged.groups {
            g.restart(from);
        }
    }
}

fn print_event(
    out: &mut impl Write,
    shown_group: Option<&str>,
    group: &str,
    e: &FilteredLogEvent,
    format: TailFormat,
    style: Style,
) -> io::Result<()> {
    if format == TailFormat::Json {
        let mut value = serde_json::to_value(e)?;
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("logGroupName".into(), group.into());
        }
        serde_json::to_writer(&mut *out, &value)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{}",
        render_line(
            shown_group,
            &e.log_stream_name,
            e.timestamp,
            &e.message,
            format,
            style
        )
    )
}
