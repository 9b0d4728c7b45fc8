//! `lookout run`: run a command, echo its output, and ship every line to a log stream.

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use lookout_api::shapes::{
    CreateLogGroupRequest, InputLogEvent, LogStreamRequest, PutLogEventsRequest,
    PutLogEventsResponse,
};
use lookout_model::Limits;

use crate::client::{Client, is_api_error, now_ms};
use crate::term::iso_millis;

pub(crate) const EXAMPLES: &str = "Examples:
  lookout run --group /jobs/nightly -- ./backup.sh --full
  lookout run --group /dev/api -- cargo run --release
  lookout run --group /jobs/etl --stream etl-2026-11-29 -- python etl.py; echo \"exit $?\"

The command's exit code is lookout's exit code; its output is still printed here.";

/// How long a line may wait before it is shipped.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Options of `lookout run`.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// Log group to ship to (created if missing).
    #[arg(long, short)]
    group: String,
    /// Stream name; default: a new one named like Lambda's (`2026/11/29/[$LATEST]<32 hex>`).
    #[arg(long, short)]
    stream: Option<String>,
    /// The command and its arguments.
    #[arg(required = true, last = true)]
    command: Vec<String>,
}

/// A Lambda-style stream name for today: `YYYY/MM/DD/[$LATEST]<32 hex digits>`.
pub(crate) fn lambda_stream_name(now_ms: i64) -> String {
    let date = iso_millis(now_ms);
    let day = date.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    format!("{day}/[$LATEST]{}", uuid::Uuid::new_v4().simple())
}

pub(crate) fn run(client: Client, args: RunArgs) -> Result<ExitCode> {
    let stream = args
        .stream
        .clone()
        .unwrap_or_else(|| lambda_stream_name(now_ms()));
    ensure_stream(&client, &args.group, &stream)?;
    if io::stderr().is_terminal() {
        eprintln!("lookout: shipping output to {} {stream}", args.group);
    }
    outlive_interrupts();
    let (program, rest) = args
        .command
        .split_first()
        .context("no command given after --")?;
    let mut child = Command::new(program)
        .args(rest)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {program}"))?;
    let (tx, rx) = mpsc::channel::<(i64, String)>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || pump(out, io::stdout(), &tx)));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || pump(err, io::stderr(), &tx)));
    }
    drop(tx);
    let group = args.group.clone();
    let shipper = std::thread::spawn(move || ship(&client, &group, &stream, &rx));
    let status = child.wait().context("waiting for the command")?;
    for r in readers {
        // A reader only fails when echoing fails; the lines were still shipped.
        let _ = r.join();
    }
    let shipped = shipper
        .join()
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the shipping thread panicked")));
    if let Err(e) = shipped {
        eprintln!("lookout: some output was not shipped: {e:#}");
    }
    Ok(exit_code(status))
}

/// Ctrl-C reaches the whole foreground process group: the command decides whether to stop,
/// and `lookout` stays to ship its last lines and pass its exit code on.
fn outlive_interrupts() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    });
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        // The shell's convention for a command killed by a signal.
        if let Some(sig) = status.signal() {
            return ExitCode::from(u8::try_from(128 + sig).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}

fn ensure_stream(client: &Client, group: &str, stream: &str) -> Result<()> {
    let created = client.call::<_, serde_json::Value>(
        "CreateLogGroup",
        &CreateLogGroupRequest {
            log_group_name: Some(group.to_string()),
            ..Default::default()
        },
    );
    match created {
        Err(e) if !is_api_error(&e, "ResourceAlreadyExistsException") => return Err(e),
        _ => {}
    }
    let created = client.call::<_, serde_json::Value>(
        "CreateLogStream",
        &LogStreamRequest {
            log_group_name: Some(group.to_string()),
            log_stream_name: Some(stream.to_string()),
        },
    );
    match created {
        Err(e) if !is_api_error(&e, "ResourceAlreadyExistsException") => Err(e),
        _ => Ok(()),
    }
}

/// Copies `from` to `echo` line by line and sends each line, stamped, to `tx`.
fn pump(from: impl Read, mut echo: impl Write, tx: &mpsc::Sender<(i64, String)>) -> io::Result<()> {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let stamp = now_ms();
        // Keep echoing even if the terminal went away: shipping is the point.
        let _ = echo.write_all(&line).and_then(|()| echo.flush());
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if !text.is_empty() {
            let _ = tx.send((stamp, text.to_string()));
        }
    }
}

/// Ships lines in batches until every sender is gone.
fn ship(
    client: &Client,
    group: &str,
    stream: &str,
    rx: &mpsc::Receiver<(i64, String)>,
) -> Result<()> {
    let limits = Limits::default();
    let mut batch: Vec<(i64, String)> = Vec::new();
    let mut bytes = 0;
    let mut first_error = None;
    let mut deadline = Instant::now() + FLUSH_EVERY;
    loop {
        let received = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let closed = matches!(received, Err(mpsc::RecvTimeoutError::Disconnected));
        if let Ok((ts, mut text)) = received {
            truncate(&mut text, limits.max_event_bytes);
            let size = text.len() + Limits::EVENT_OVERHEAD;
            if batch.len() >= limits.max_batch_events || bytes + size > limits.max_batch_bytes {
                send(client, group, stream, &mut batch, &mut first_error);
                bytes = 0;
            }
            bytes += size;
            batch.push((ts, text));
        }
        if closed || Instant::now() >= deadline {
            send(client, group, stream, &mut batch, &mut first_error);
            bytes = 0;
            deadline = Instant::now() + FLUSH_EVERY;
        }
        if closed {
            return first_error.map_or(Ok(()), Err);
        }
    }
}

fn send(
    client: &Client,
    group: &str,
    stream: &str,
    batch: &mut Vec<(i64, String)>,
    first_error: &mut Option<anyhow::Error>,
) {
    if batch.is_empty() {
        return;
    }
    // Lines of stdout and stderr race to the channel: order by time as the API requires.
    batch.sort_by_key(|e| e.0);
    let req = PutLogEventsRequest {
        log_group_name: Some(group.to_string()),
        log_stream_name: Some(stream.to_string()),
        log_events: Some(
            batch
                .drain(..)
                .map(|(t, m)| InputLogEvent {
                    timestamp: Some(t),
                    message: Some(m),
                })
                .collect(),
        ),
        sequence_token: None,
    };
    if let Err(e) = client.call::<_, PutLogEventsResponse>("PutLogEvents", &req)
        && first_error.is_none()
    {
        *first_error = Some(e);
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_look_like_lambdas() {
        let name = lambda_stream_name(86_400_000 * 365);
        let (day, id) = name.split_at(11);
        assert_eq!(day, "1971/01/01/");
        let hex = id.strip_prefix("[$LATEST]").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn truncation_respects_characters() {
        let mut s = "aé".to_string();
        truncate(&mut s, 2);
        assert_eq!(s, "a");
    }
}
