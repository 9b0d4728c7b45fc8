//! Input formats of `lookout import`: one event per line (or a few lines for exports).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use flate2::read::MultiGzDecoder;
use lookout_testkit::parse_start;
use serde::Deserialize;

use crate::client::now_ms;

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputFormat {
    /// `{"logGroup", "logStream", "timestamp", "message"}` lines, as `lookout gen` writes.
    Jsonl,
    /// One event per line; a leading RFC 3339 timestamp is used, else the current time.
    Text,
    /// CloudWatch's S3 export: `<ISO timestamp> <message>` lines, gzip or plain; lines without
    /// a timestamp continue the previous message.
    CloudwatchExport,
}

/// One parsed event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// Line number across all files (0-based) of the event's first line.
    pub line: u64,
    /// Stream named by the line, if the format carries one.
    pub stream: Option<String>,
    /// Epoch ms.
    pub timestamp: i64,
    /// The message.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonLine {
    log_stream: Option<String>,
    timestamp: i64,
    message: String,
}

/// Reads the records of one file; `line` numbers continue from `first_line`.
pub(crate) struct Reader {
    lines: Box<dyn BufRead>,
    format: InputFormat,
    path: String,
    next_line: u64,
    first_line: u64,
    buf: String,
    /// An export event whose continuation lines are still being read.
    pending: Option<Record>,
}

/// Counts bytes read from the file (compressed bytes for gzip), for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Reader {
    /// Opens `path` (gzip detected by its magic bytes); `bytes_read` counts what is consumed.
    pub(crate) fn open(
        path: &Path,
        format: InputFormat,
        first_line: u64,
        bytes_read: Arc<AtomicU64>,
    ) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut raw = BufReader::with_capacity(
            1 << 20,
            Counting {
                inner: file,
                count: bytes_read,
            },
        );
        let gzip = raw
            .fill_buf()
            .with_context(|| format!("cannot read {}", path.display()))?
            .starts_with(&[0x1f, 0x8b]);
        let lines: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(Self {
            lines,
            format,
            path: path.display().to_string(),
            next_line: first_line,
            first_line,
            buf: String::new(),
            pending: None,
        })
    }

    /// Number of lines read so far (the next file's first line number).
    pub(crate) fn end_line(&self) -> u64 {
        self.next_line
    }

    fn read_line(&mut self) -> Result<Option<u64>> {
        self.buf.clear();
        let n = self
            .lines
            .read_line(&mut self.buf)
            .with_context(|| format!("cannot read {}", self.path))?;
        if n == 0 {
            return Ok(None);
        }
        while self.buf.ends_with(['\n', '\r']) {
            self.buf.pop();
        }
        let line = self.next_line;
        self.next_line += 1;
        Ok(Some(line))
    }

    fn location(&self, line: u64) -> String {
        format!("{}:{}", self.path, line - self.first_line + 1)
    }

    /// The next record, or `None` at the end of the file. Blank lines are skipped.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>> {
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(self.pending.take());
            };
            match self.format {
                InputFormat::Jsonl => {
                    if self.buf.trim().is_empty() {
                        continue;
                    }
                    let parsed: JsonLine = serde_json::from_str(&self.buf).with_context(|| {
                        format!(
                            "{}: not a {{\"timestamp\", \"message\"}} JSON line",
                            self.location(line)
                        )
                    })?;
                    return Ok(Some(Record {
                        line,
                        stream: parsed.log_stream,
                        timestamp: parsed.timestamp,
                        message: parsed.message,
                    }));
                }
                InputFormat::Text => {
                    if self.buf.trim().is_empty() {
                        continue;
                    }
                    let (timestamp, message) = match split_timestamp(&self.buf) {
                        Some((t, m)) => (t, m.to_string()),
                        None => (now_ms(), self.buf.clone()),
                    };
                    return Ok(Some(Record {
                        line,
                        stream: None,
                        timestamp,
                        message,
                    }));
                }
                InputFormat::CloudwatchExport => match split_timestamp(&self.buf) {
                    Some((timestamp, message)) => {
                        let record = Record {
                            line,
                            stream: None,
                            timestamp,
                            message: message.to_string(),
                        };
                        if let Some(done) = self.pending.replace(record) {
                            return Ok(Some(done));
                        }
                    }
                    None => match &mut self.pending {
                        Some(p) => {
                            p.message.push('\n');
                            p.message.push_str(&self.buf);
                        }
                        None if self.buf.trim().is_empty() => {}
                        None => bail!(
                            "{}: expected `<ISO timestamp> <message>` (a CloudWatch export line)",
                            self.location(line)
                        ),
                    },
                },
            }
        }
    }
}

/// `2026-11-29T19:05:41.123Z message` → (ms, "message"); also `2026-11-29 19:05:41.123 message`.
fn split_timestamp(line: &str) -> Option<(i64, &str)> {
    let bytes = line.as_bytes();
    // A date first: four digits and a dash.
    if bytes.len() < 11 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let end = |from: usize| {
        line[from..]
            .find([' ', '\t'])
            .map_or(line.len(), |i| from + i)
    };
    let mut stamp_end = end(0);
    if stamp_end == 10 && bytes.get(11).is_some_and(u8::is_ascii_digit) {
        stamp_end = end(11);
    }
    let ts = parse_start(&line[..stamp_end])?;
    let rest = &line[stamp_end..];
    Some((ts, rest.strip_prefix([' ', '\t']).unwrap_or(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn records(format: InputFormat, text: &[u8]) -> Result<Vec<Record>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("in");
        std::fs::write(&path, text)?;
        let mut r = Reader::open(&path, format, 10, Arc::default())?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    #[test]
    fn timestamps_split_off_the_line() {
        assert_eq!(
            split_timestamp("2026-11-29T19:05:41.123Z hello world"),
            Some((
                parse_start("2026-11-29T19:05:41.123Z").unwrap(),
                "hello world"
            ))
        );
        assert_eq!(
            split_timestamp("2026-11-29 19:05:41.123\tx"),
            Some((parse_start("2026-11-29T19:05:41.123Z").unwrap(), "x"))
        );
        assert_eq!(split_timestamp("hello"), None);
        assert_eq!(split_timestamp("2026-99-99T00:00:00Z x"), None);
    }

    #[test]
    fn exports_join_continuation_lines_and_read_gzip() {
        let text =
            b"2026-11-29T19:05:41.000Z first\n  trace line\n2026-11-29T19:05:42.000Z second\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let got = records(InputFormat::CloudwatchExport, &gz.finish().unwrap()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].message, "first\n  trace line");
        assert_eq!((got[0].line, got[1].line), (10, 12));
        assert!(records(InputFormat::CloudwatchExport, b"no stamp\n").is_err());
    }

    #[test]
    fn jsonl_and_text() {
        let got = records(
            InputFormat::Jsonl,
            b"{\"logGroup\":\"g\",\"logStream\":\"s\",\"timestamp\":5,\"message\":\"m\"}\n\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![Record {
                line: 10,
                stream: Some("s".into()),
                timestamp: 5,
                message: "m".into()
            }]
        );
        let err = records(InputFormat::Jsonl, b"{}\n").unwrap_err();
        assert!(format!("{err:#}").contains(":1: not a"), "{err:#}");
        let got = records(
            InputFormat::Text,
            b"plain\r\n1970-01-01T00:00:01Z stamped\n",
        )
        .unwrap();
        assert_eq!(got[0].message, "plain");
        assert_eq!(
            (got[1].timestamp, got[1].message.as_str()),
            (1000, "stamped")
        );
    }
}
