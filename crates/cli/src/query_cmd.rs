//! `lookout query`: run a Logs Insights query, show progress, print the rows.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use lookout_api::queries::{
    GetQueryResultsResponse, QueryIdRequest, ResultField, StartQueryRequest, StartQueryResponse,
};
use lookout_testkit::parse_span;

use crate::chart::bar_chart;
use crate::client::{Client, now_ms};
use crate::term::{Style, parse_time, pause, write_table};

pub(crate) const EXAMPLES: &str = "Examples:
  lookout query 'fields @timestamp, @message | filter level = \"ERROR\" | limit 20' -g /aws/lambda/orders
  lookout query 'stats count(*) by bin(5m)' -g /aws/lambda/orders --since 2h     # table and bar chart
  lookout query 'filter @type = \"REPORT\" | stats avg(@duration), max(@maxMemoryUsed) by bin(1h)' \\
      -g /aws/lambda/orders -g /aws/lambda/payments --start 2026-11-29T00:00:00Z --end 2026-11-30T00:00:00Z
  lookout query 'stats count(*) by level' -g /aws/lambda/orders --format csv > levels.csv";

/// Output formats of `lookout query`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum QueryFormat {
    /// Aligned columns (and a bar chart for `stats … by bin()`).
    Table,
    /// One JSON array of row objects.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// Options of `lookout query`.
#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    /// The Logs Insights query.
    query: String,
    /// Log group to query (repeat for several).
    #[arg(long = "group", short = 'g', required = true)]
    groups: Vec<String>,
    /// Start this long ago (30s, 10m, 2h, 7d, 1w) or at a time; ignored with --start.
    #[arg(long, default_value = "1h")]
    since: String,
    /// Start time (RFC 3339 or epoch ms).
    #[arg(long)]
    start: Option<String>,
    /// End time (RFC 3339 or epoch ms); default: now.
    #[arg(long)]
    end: Option<String>,
    /// Most rows returned.
    #[arg(long)]
    limit: Option<i64>,
    /// How rows are printed.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    format: QueryFormat,
    /// Time between GetQueryResults polls.
    #[arg(long, default_value = "250ms", hide = true)]
    poll_interval: String,
}

pub(crate) fn run(client: &Client, args: QueryArgs) -> Result<()> {
    let now = now_ms();
    let start = match &args.start {
        Some(s) => parse_time("--start", s, now)?,
        None => parse_time("--since", &args.since, now)?,
    };
    let end = match &args.end {
        Some(e) => parse_time("--end", e, now)?,
        None => now,
    };
    if end < start {
        bail!("the end of the time range is before its start");
    }
    let Some(interval) = parse_span(&args.poll_interval) else {
        bail!(
            "invalid --poll-interval {:?}: expected a duration such as 250ms",
            args.poll_interval
        );
    };
    let started = Instant::now();
    // StartQuery takes seconds; round outwards so the range covers what was asked.
    let StartQueryResponse { query_id } = client.call(
        "StartQuery",
        &StartQueryRequest {
            log_group_names: Some(args.groups.clone()),
            start_time: Some(start.div_euclid(1000)),
            end_time: Some((end + 999).div_euclid(1000)),
            query_string: Some(args.query.clone()),
            limit: args.limit,
            ..Default::default()
        },
    )?;
    let progress = io::stderr().is_terminal();
    let result = loop {
        let page: GetQueryResultsResponse = client.call(
            "GetQueryResults",
            &QueryIdRequest {
                query_id: Some(query_id.clone()),
                ..Default::default()
            },
        )?;
        match page.status.as_str() {
            "Complete" => break page,
            "Scheduled" | "Running" => {
                if progress {
                    eprint!(
                        "\r\x1b[2K{} {:.0} records scanned, {:.0} matched ({:.1}s)",
                        page.status,
                        page.statistics.records_scanned,
                        page.statistics.records_matched,
                        started.elapsed().as_secs_f64()
                    );
                }
                pause(Duration::from_millis(interval.unsigned_abs()));
            }
            other => {
                if progress {
                    eprint!("\r\x1b[2K");
                }
                bail!("query {query_id} ended with status {other}");
            }
        }
    };
    let stats = result.statistics;
    let rows = collect_rest(client, &query_id, result)?;
    if progress {
        eprint!("\r\x1b[2K");
    }
    let mut out = io::stdout().lock();
    match args.format {
        QueryFormat::Json => write_json(&mut out, &rows)?,
        QueryFormat::Csv => write_csv(&mut out, &rows)?,
        QueryFormat::Table => {
            let style = Style::for_stdout();
            let (columns, cells) = tabulate(&rows, false);
            let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
            write_table(&mut out, style, &headers, &cells)?;
            if let Some(chart) = bar_chart(&columns, &cells, chart_width()) {
                writeln!(out)?;
                out.write_all(chart.as_bytes())?;
            }
        }
    }
    out.flush()?;
    if progress {
        eprintln!(
            "{} rows, {:.0} records scanned, {:.0} matched in {:.1}s",
            rows.len(),
            stats.records_scanned,
            stats.records_matched,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The remaining pages of a completed query.
fn collect_rest(
    client: &Client,
    query_id: &str,
    mut page: GetQueryResultsResponse,
) -> Result<Vec<Vec<ResultField>>> {
    let mut rows = std::mem::take(&mut page.results);
    while let Some(token) = page.next_token.take() {
        page = client.call(
            "GetQueryResults",
            &QueryIdRequest {
                query_id: Some(query_id.to_string()),
                next_token: Some(token),
                ..Default::default()
            },
        )?;
        rows.append(&mut page.results);
    }
    Ok(rows)
}

/// Columns in order of first appearance and the rows as cells (`@ptr` only if asked).
fn tabulate(rows: &[Vec<ResultField>], with_ptr: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        for f in row {
            if (with_ptr || f.field != "@ptr") && !columns.contains(&f.field) {
                columns.push(f.field.clone());
            }
        }
    }
    let cells = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.iter()
                        .find(|f| &f.field == c)
                        .map(|f| f.value.clone())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    (columns, cells)
}

/// A JSON array of row objects with the fields in the query's order (a JSON map type would
/// sort them).
fn write_json(out: &mut impl Write, rows: &[Vec<ResultField>]) -> Result<()> {
    writeln!(out, "[")?;
    for (i, row) in rows.iter().enumerate() {
        write!(out, "  {{")?;
        for (j, f) in row.iter().enumerate() {
            let sep = if j == 0 { "" } else { ", " };
            write!(
                out,
                "{sep}{}: {}",
                serde_json::to_string(&f.field)?,
                serde_json::to_string(&f.value)?
            )?;
        }
        writeln!(out, "}}{}", if i + 1 < rows.len() { "," } else { "" })?;
    }
    writeln!(out, "]")?;
    Ok(())
}

fn write_csv(out: &mut impl Write, rows: &[Vec<ResultField>]) -> Result<()> {
    let (columns, cells) = tabulate(rows, false);
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
    };
    writeln!(out, "{}", line(&columns))?;
    for row in &cells {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// RFC 4180 quoting: only when needed, quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn chart_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[(&str, &str)]) -> Vec<ResultField> {
        fields
            .iter()
            .map(|(f, v)| ResultField {
                field: (*f).into(),
                value: (*v).into(),
            })
            .collect()
    }

    #[test]
    fn rows_become_columns_in_first_seen_order() {
        let rows = vec![
            row(&[("@timestamp", "t1"), ("@message", "a,b"), ("@ptr", "p")]),
            row(&[("@timestamp", "t2"), ("level", "ERROR")]),
        ];
        let (cols, cells) = tabulate(&rows, false);
        assert_eq!(cols, ["@timestamp", "@message", "level"]);
        assert_eq!(cells[1], ["t2", "", "ERROR"]);
        let mut out = Vec::new();
        write_csv(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "@timestamp,@message,level\nt1,\"a,b\",\nt2,,ERROR\n"
        );
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        let mut out = Vec::new();
        write_json(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "[\n  {\"@timestamp\": \"t1\", \"@message\": \"a,b\", \"@ptr\": \"p\"},\n"
            ),
            "{text}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed[1]["level"], "ERROR");
        let mut empty = Vec::new();
        write_json(&mut empty, &[]).unwrap();
        assert_eq!(String::from_utf8(empty).unwrap(), "[\n]\n");
    }
}
