//! `lookout import`: files of log lines into a group, batched to PutLogEvents, resumable.

mod batch;
mod checkpoint;
mod parse;

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lookout_api::shapes::{
    CreateLogGroupRequest, FilterLogEventsRequest, FilterLogEventsResponse, InputLogEvent,
    LogStreamRequest, PutLogEventsRequest, PutLogEventsResponse, RejectedLogEventsInfo,
};
use lookout_model::Limits;

use crate::client::{Client, is_api_error};
use batch::{Batch, Batcher};
use checkpoint::{Identity, Journal, Progress};
use parse::{InputFormat, Reader};

pub(crate) const EXAMPLES: &str = "Examples:
  lookout gen --events 1000000 > events.jsonl
  lookout import events.jsonl --group /aws/lambda/orders          # streams from each line
  lookout import app.log --group /app/web --stream web-1 --format text
  lookout import exports/*/000000.gz --group /aws/lambda/orders --stream restored --format cloudwatch-export

An interrupted import resumes where it stopped when run again with the same arguments: a
checkpoint (FILE.lookout-import by default) records what the server accepted. The server's
--max-event-age refuses old events unless it is `none`; refused events are reported.";

/// Events buffered across streams before the quietest streams are sent.
const MAX_BUFFERED_BYTES: usize = 64 << 20;
/// PutLogEvents calls in flight: they overlap round trips and the server's per-request work.
const SENDERS: usize = 4;
/// Stream of events whose line and options name none.
const DEFAULT_STREAM: &str = "lookout-import";

/// Options of `lookout import`.
#[derive(Args, Debug)]
pub(crate) struct ImportArgs {
    /// Files to import (gzip is detected).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Log group to import into (created if missing).
    #[arg(long, short)]
    group: String,
    /// Stream for every event (created if missing); default: the line's `logStream` (jsonl),
    /// else `lookout-import`.
    #[arg(long, short)]
    stream: Option<String>,
    /// Input format.
    #[arg(long, value_enum, default_value_t = InputFormat::Jsonl)]
    format: InputFormat,
    /// Checkpoint file; default: the first FILE with `.lookout-import` appended.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Ignore an existing checkpoint and import everything again.
    #[arg(long)]
    restart: bool,
}

#[derive(Default)]
struct Rejected {
    too_old: u64,
    too_new: u64,
    expired: u64,
    too_large: u64,
    empty: u64,
}

impl Rejected {
    fn total(&self) -> u64 {
        self.too_old + self.too_new + self.expired + self.too_large + self.empty
    }

    fn add_info(&mut self, info: &RejectedLogEventsInfo, n: usize) {
        let index = |i: Option<i64>| i.and_then(|i| u64::try_from(i).ok());
        let too_old = index(info.too_old_log_event_end_index).map(|i| i + 1);
        let expired = index(info.expired_log_event_end_index).map(|i| i + 1);
        // Both describe a prefix of the batch: count the longer one once.
        match (too_old, expired) {
            (Some(o), Some(e)) if e > o => self.expired += e,
            (Some(o), _) => self.too_old += o,
            (None, Some(e)) => self.expired += e,
            (None, None) => {}
        }
        if let Some(start) = index(info.too_new_log_event_start_index) {
            self.too_new += (n as u64).saturating_sub(start);
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (
                self.too_old,
                "too old for the server (see `lookout serve --max-event-age`)",
            ),
            (self.expired, "older than the group's retention"),
            (self.too_new, "more than 2 hours in the future"),
            (self.too_large, "larger than 1 MB"),
            (self.empty, "empty"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        parts.join(", ")
    }
}

pub(crate) fn run(client: Client, args: ImportArgs) -> Result<()> {
    let started = Instant::now();
    let mut files = Vec::new();
    let mut total_bytes = 0;
    for f in &args.files {
        let len = std::fs::metadata(f)
            .with_context(|| format!("cannot open {}", f.display()))?
            .len();
        total_bytes += len;
        files.push((f.display().to_string(), len));
    }
    let identity = Identity {
        group: args.group.clone(),
        stream: args.stream.clone(),
        format: format!("{:?}", args.format),
        files,
        endpoint: client.endpoint().to_string(),
    };
    let checkpoint_path = args.checkpoint.clone().unwrap_or_else(|| {
        let mut p = args.files[0].clone().into_os_string();
        p.push(".lookout-import");
        PathBuf::from(p)
    });
    let (journal, progress) = Journal::open(&checkpoint_path, &identity, args.restart)?;
    if progress.complete {
        eprintln!(
            "lookout: nothing to do: already imported ({} events; checkpoint {}); pass --restart to import again",
            progress.events,
            checkpoint_path.display()
        );
        return Ok(());
    }
    if progress.events > 0 || !progress.uncertain.is_empty() {
        eprintln!(
            "lookout: resuming: {} events were already imported, {} batches in flight are checked with the server (checkpoint {})",
            progress.events,
            progress.uncertain.len(),
            checkpoint_path.display()
        );
    }
    match client.call::<_, serde_json::Value>(
        "CreateLogGroup",
        &CreateLogGroupRequest {
            log_group_name: Some(args.group.clone()),
            ..Default::default()
        },
    ) {
        Err(e) if !is_api_error(&e, "ResourceAlreadyExistsException") => return Err(e),
        _ => {}
    }

    let bar = progress_bar(total_bytes);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel::<Batch>(2 * SENDERS);
    let shared = Arc::new(Shared {
        client,
        group: args.group.clone(),
        rx: Mutex::new(rx),
        journal: Mutex::new(journal),
        created: Mutex::new(HashSet::new()),
        failed: AtomicBool::new(false),
        events: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        rejected: Mutex::new(Rejected::default()),
        started: Instant::now(),
        previous: progress.events,
        bar: bar.clone(),
    });
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let result = send_batches(&shared);
                if result.is_err() {
                    shared.failed.store(true, Ordering::Relaxed);
                }
                result
            })
        })
        .collect();

    let read_result = read_all(&args, &progress, &shared.client, &bytes_read, &bar, &tx);
    drop(tx);
    let mut send_result = Ok(());
    for s in senders {
        let r = s
            .join()
            .unwrap_or_else(|_| Err(anyhow!("a sending thread panicked")));
        if send_result.is_ok() {
            send_result = r;
        }
    }
    let skipped = read_result?;
    send_result?;
    lock(&shared.journal).complete()?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let events = shared.events.load(Ordering::Relaxed);
    let mut rejected = std::mem::take(&mut *lock(&shared.rejected));
    rejected.too_old += skipped.too_old;
    rejected.too_large += skipped.too_large;
    rejected.empty += skipped.empty;
    eprintln!(
        "lookout: imported {events} events into {} in {elapsed:.1}s ({:.0} events/s, {} requests)",
        args.group,
        events as f64 / elapsed.max(1e-9),
        shared.requests.load(Ordering::Relaxed)
    );
    if rejected.total() > 0 {
        bail!(
            "{} events were not imported: {}",
            rejected.total(),
            rejected.describe()
        );
    }
    Ok(())
}

/// Reads every file and hands complete batches to the senders; returns what it skipped.
fn read_all(
    args: &ImportArgs,
    progress: &Progress,
    client: &Client,
    bytes_read: &Arc<AtomicU64>,
    bar: &ProgressBar,
    tx: &mpsc::SyncSender<Batch>,
) -> Result<Rejected> {
    let mut batcher = Batcher::new(Limits::default(), MAX_BUFFERED_BYTES);
    let mut skipped = Rejected::default();
    let mut out = Vec::new();
    // Events of batches that were in flight when an earlier run stopped.
    let mut recheck: Vec<Vec<(i64, String)>> = vec![Vec::new(); progress.uncertain.len()];
    let mut first_line = 0;
    let default_stream = args
        .stream
        .clone()
        .unwrap_or_else(|| DEFAULT_STREAM.to_string());
    for path in &args.files {
        let mut reader = Reader::open(path, args.format, first_line, bytes_read.clone())?;
        while let Some(record) = reader.next_record()? {
            let stream = match (&args.stream, record.stream) {
                (None, Some(s)) => s,
                _ => default_stream.clone(),
            };
            // A batch in flight when an earlier run stopped is checked with the server; a
            // later batch's range may span its lines, so this comes first.
            let uncertain = progress.uncertain_batch(record.line, &stream);
            if uncertain.is_none() && progress.already_sent(record.line, &stream) {
                continue;
            }
            if record.message.is_empty() {
                skipped.empty += 1;
                continue;
            }
            if record.timestamp < 0 {
                skipped.too_old += 1;
                continue;
            }
            if batcher.too_large(&record.message) {
                skipped.too_large += 1;
                continue;
            }
            if let Some(i) = uncertain {
                recheck[i].push((record.timestamp, record.message));
                if record.line == progress.uncertain[i].2 {
                    let (s, from, through) = &progress.uncertain[i];
                    let mut events = std::mem::take(&mut recheck[i]);
                    if !stored_already(client, &args.group, s, &events)? {
                        events.sort_by_key(|e| e.0);
                        let batch = Batch {
                            stream: s.clone(),
                            events,
                            from: *from,
                            through: *through,
                        };
                        if tx.send(batch).is_err() {
                            return Ok(skipped);
                        }
                    }
                }
                continue;
            }
            batcher.add(
                &stream,
                record.line,
                record.timestamp,
                record.message,
                &mut out,
            );
            for b in out.drain(..) {
                if tx.send(b).is_err() {
                    // The senders stopped on an error, which the caller reports.
                    return Ok(skipped);
                }
            }
            bar.set_position(bytes_read.load(Ordering::Relaxed));
        }
        first_line = reader.end_line();
    }
    batcher.finish(&mut out);
    for b in out {
        if tx.send(b).is_err() {
            break;
        }
    }
    Ok(skipped)
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner:.green} [{elapsed_precise}] [{wide_bar:.cyan/blue}] {percent:>3}% {msg} (ETA {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// State the sending threads share.
struct Shared {
    client: Client,
    group: String,
    rx: Mutex<mpsc::Receiver<Batch>>,
    journal: Mutex<Journal>,
    created: Mutex<HashSet<String>>,
    failed: AtomicBool,
    events: AtomicU64,
    requests: AtomicU64,
    rejected: Mutex<Rejected>,
    started: Instant,
    previous: u64,
    bar: ProgressBar,
}

/// A poisoned lock only means another sender panicked, which `join` reports.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends batches until the input ends or a sender fails, creating streams on first use and
/// journalling each accepted batch.
fn send_batches(shared: &Shared) -> Result<()> {
    loop {
        if shared.failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Ok(batch) = lock(&shared.rx).recv() else {
            return Ok(());
        };
        if !lock(&shared.created).contains(&batch.stream) {
            create_stream(&shared.client, &shared.group, &batch.stream)?;
            lock(&shared.created).insert(batch.stream.clone());
        }
        let n = batch.events.len();
        lock(&shared.journal).sending(&batch.stream, batch.from, batch.through)?;
        let resp: PutLogEventsResponse = shared
            .client
            .call(
                "PutLogEvents",
                &PutLogEventsRequest {
                    log_group_name: Some(shared.group.clone()),
                    log_stream_name: Some(batch.stream.clone()),
                    log_events: Some(
                        batch
                            .events
                            .into_iter()
                            .map(|(t, m)| InputLogEvent {
                                timestamp: Some(t),
                                message: Some(m),
                            })
                            .collect(),
                    ),
                    sequence_token: None,
                },
            )
            .with_context(|| format!("PutLogEvents to stream {}", batch.stream))?;
        let mut accepted = n as u64;
        if let Some(info) = &resp.rejected_log_events_info {
            let mut rejected = lock(&shared.rejected);
            let before = rejected.total();
            rejected.add_info(info, n);
            accepted -= (rejected.total() - before).min(accepted);
        }
        lock(&shared.journal).batch_sent(&batch.stream, batch.from, batch.through, accepted)?;
        let events = shared.events.fetch_add(accepted, Ordering::Relaxed) + accepted;
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let rate = events as f64 / shared.started.elapsed().as_secs_f64().max(1e-3);
        shared.bar.set_message(format!(
            "{} events, {rate:.0} events/s",
            shared.previous + events
        ));
    }
}

/// Whether the server already holds every event of a batch that was in flight when an
/// earlier run stopped (PutLogEvents stores a batch whole or not at all).
fn stored_already(
    client: &Client,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
) -> Result<bool> {
    let (Some(min), Some(max)) = (
        events.iter().map(|e| e.0).min(),
        events.iter().map(|e| e.0).max(),
    ) else {
        return Ok(true);
    };
    let mut stored: HashMap<(i64, &str), usize> = HashMap::new();
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let page: FilterLogEventsResponse = match client.call(
            "FilterLogEvents",
            &FilterLogEventsRequest {
                log_group_name: Some(group.to_string()),
                log_stream_names: Some(vec![stream.to_string()]),
                start_time: Some(min),
                end_time: Some(max),
                next_token: token.take(),
                ..Default::default()
            },
        ) {
            Ok(p) => p,
            Err(e) if is_api_error(&e, "ResourceNotFoundException") => return Ok(false),
            Err(e) => return Err(e),
        };
        token = page.next_token.clone();
        pages.push(page);
        if token.is_none() {
            break;
        }
    }
    for e in pages.iter().flat_map(|p| &p.events) {
        *stored.entry((e.timestamp, e.message.as_str())).or_default() += 1;
    }
    for (ts, message) in events {
        match stored.get_mut(&(*ts, message.as_str())) {
            Some(n) if *n > 0 => *n -= 1,
            _ => return Ok(false),
        }
    }
    Ok(true)
}

fn create_stream(client: &Client, group: &str, stream: &str) -> Result<()> {
    let req = LogStreamRequest {
        log_group_name: Some(group.to_string()),
        log_stream_name: Some(stream.to_string()),
    };
    match client.call::<_, serde_json::Value>("CreateLogStream", &req) {
        Err(e) if !is_api_error(&e, "ResourceAlreadyExistsException") => {
            Err(e.context(format!("CreateLogStream {stream}")))
        }
        _ => Ok(()),
    }
}
