//! `lookout export`: every event of a group as JSON lines or Parquet.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use lookout_api::shapes::FilteredLogEvent;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde::Serialize;

use crate::client::{Client, now_ms};
use crate::events::{GroupEvents, Selection};
use crate::term::parse_time;

pub(crate) const EXAMPLES: &str = "Examples:
  lookout export /aws/lambda/orders > orders.jsonl            # lines `lookout import` reads back
  lookout export /aws/lambda/orders --format parquet -o orders.parquet
  lookout export /aws/lambda/orders --since 1d --filter-pattern ERROR | wc -l
  duckdb -c \"select count(*) from 'orders.parquet'\"";

/// Rows per Parquet row group: large enough to compress well, small enough to buffer.
const ROW_GROUP_ROWS: usize = 100_000;

const PARQUET_SCHEMA: &str = "message log_event {
  REQUIRED BYTE_ARRAY log_group (UTF8);
  REQUIRED BYTE_ARRAY log_stream (UTF8);
  REQUIRED INT64 timestamp (TIMESTAMP(MILLIS,true));
  REQUIRED BYTE_ARRAY message (UTF8);
  REQUIRED INT64 ingestion_time (TIMESTAMP(MILLIS,true));
  REQUIRED BYTE_ARRAY event_id (UTF8);
}";

/// Output formats of `lookout export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// `{"logGroup","logStream","timestamp","message","ingestionTime","eventId"}` lines.
    Jsonl,
    /// Apache Parquet, Snappy-compressed, one column per member.
    Parquet,
}

/// Options of `lookout export`.
#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// The log group.
    group: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    format: ExportFormat,
    /// Output file; default: standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Only events since this long ago (10m, 2h, 7d) or this time; default: all.
    #[arg(long)]
    since: Option<String>,
    /// Only events up to this time (RFC 3339 or epoch ms).
    #[arg(long)]
    end: Option<String>,
    /// Only events matching this filter pattern.
    #[arg(long)]
    filter_pattern: Option<String>,
    /// Only streams whose name starts with this.
    #[arg(long)]
    stream_prefix: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    log_group: &'a str,
    log_stream: &'a str,
    timestamp: i64,
    message: &'a str,
    ingestion_time: i64,
    event_id: &'a str,
}

pub(crate) fn run(client: &Client, args: ExportArgs) -> Result<()> {
    let now = now_ms();
    let selection = Selection {
        start_ms: args
            .since
            .as_deref()
            .map(|s| parse_time("--since", s, now))
            .transpose()?,
        end_ms: args
            .end
            .as_deref()
            .map(|s| parse_time("--end", s, now))
            .transpose()?,
        pattern: args.filter_pattern.clone().filter(|p| !p.is_empty()),
        stream_prefix: args.stream_prefix.clone(),
    };
    let mut events = GroupEvents::new(&args.group, selection);
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => {
            if args.format == ExportFormat::Parquet && io::stdout().is_terminal() {
                bail!(
                    "refusing to write Parquet to a terminal: use -o FILE or redirect the output"
                );
            }
            Box::new(io::stdout())
        }
    };
    let out = BufWriter::with_capacity(1 << 20, out);
    let written = match args.format {
        ExportFormat::Jsonl => write_jsonl(client, &mut events, out)?,
        ExportFormat::Parquet => write_parquet(client, &mut events, out)?,
    };
    if let Some(path) = &args.output {
        eprintln!("lookout: exported {written} events to {}", path.display());
    }
    Ok(())
}

fn write_jsonl(client: &Client, events: &mut GroupEvents, mut out: impl Write) -> Result<u64> {
    let mut n = 0;
    while events.peek(client)?.is_some() {
        let Some(e) = events.pop() else { break };
        let group = events.group.as_str();
        serde_json::to_writer(
            &mut out,
            &Line {
                log_group: group,
                log_stream: &e.log_stream_name,
                timestamp: e.timestamp,
                message: &e.message,
                ingestion_time: e.ingestion_time,
                event_id: &e.event_id,
            },
        )?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

fn write_parquet(client: &Client, events: &mut GroupEvents, out: impl Write + Send) -> Result<u64> {
    let schema = Arc::new(parse_message_type(PARQUET_SCHEMA)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, props)?;
    let mut rows: Vec<FilteredLogEvent> = Vec::with_capacity(ROW_GROUP_ROWS);
    let mut n = 0;
    while events.peek(client)?.is_some() {
        rows.extend(events.pop());
        if rows.len() >= ROW_GROUP_ROWS {
            n += rows.len() as u64;
            write_row_group(&mut writer, &events.group, &rows)?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        n += rows.len() as u64;
        write_row_group(&mut writer, &events.group, &rows)?;
    }
    writer.close()?;
    Ok(n)
}

fn write_row_group<W: Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    group: &str,
    rows: &[FilteredLogEvent],
) -> Result<()> {
    fn text<'a>(
        rows: &'a [FilteredLogEvent],
        f: impl Fn(&'a FilteredLogEvent) -> &'a str,
    ) -> Vec<ByteArray> {
        rows.iter()
            .map(|e| ByteArray::from(f(e).as_bytes().to_vec()))
            .collect()
    }
    let mut rg = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut col) = rg.next_column()? {
        match index {
            0 => {
                let v = text(rows, |_| group);
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
            1 => {
                let v = text(rows, |e| e.log_stream_name.as_str());
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
            2 => {
                let v: Vec<i64> = rows.iter().map(|e| e.timestamp).collect();
                col.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            3 => {
                let v = text(rows, |e| e.message.as_str());
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
            4 => {
                let v: Vec<i64> = rows.iter().map(|e| e.ingestion_time).collect();
                col.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            _ => {
                let v = text(rows, |e| e.event_id.as_str());
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
        }
        col.close()?;
        index += 1;
    }
    rg.close()?;
    Ok(())
}
