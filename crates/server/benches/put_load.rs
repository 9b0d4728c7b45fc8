//! Load benchmark: durable PutLogEvents over loopback, then FilterLogEvents with JSON
//! patterns, against Lookout and any peer endpoints, on the same generated events.
//!
//! ```text
//! cargo bench -p lookout-server --bench put_load
//! LOOKOUT_LOAD_PEERS="moto=http://127.0.0.1:5000,fakecloud=http://127.0.0.1:4566" \
//!     cargo bench -p lookout-server --bench put_load          # scripts/bench-server.sh does this
//! ```
//!
//! Environment: `LOOKOUT_LOAD_EVENTS` (default 1,000,000), `LOOKOUT_LOAD_CONNECTIONS`
//! (default 8), `LOOKOUT_LOAD_PEERS` (`name=url,...`), `LOOKOUT_LOAD_RATE` (default 300,000
//! events/s; 0 skips the paced run). Lookout runs in this process on its own runtime with a
//! fresh data directory, acknowledging each batch after fsync.
//!
//! Two loads are measured. The closed loop sends each connection's next batch as soon as
//! the last is answered: the most a server takes, where a request's latency is mostly its
//! wait behind the other connections' (on two cores, 8 connections at ~500k events/s mean
//! ~22 ms by Little's law). The paced run offers the same batches to a second, empty
//! Lookout at `LOOKOUT_LOAD_RATE`, each batch due at a fixed time and its latency counted
//! from then, so stalls count in full: the latency shippers see at that rate.
//!
//! Every answer is checked: after the load, each stream is read back with GetLogEvents and
//! must hold exactly the events sent (count, order, timestamps and messages); each filter's total must equal the count computed here
//! by parsing every message as JSON. The bodies are built before the clock starts, so the
//! figures are the server's, not the client's serialisation. After the table, each target's
//! line gives the CPU of this process's threads during the load, per event and per thread
//! name, so Lookout's own cost splits into HTTP and decoding (`lookout-server`), group commit
//! (`lookout-wal`) and flushing (`lookout-maintenance`); and the load average around it.

use std::collections::BTreeMap;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use lookout_server::AppState;
use lookout_service::{Service, ServiceConfig, WriteStats};
use lookout_testkit::{GenConfig, Generator};
use serde_json::{Value, json};

type BoxError = Box<dyn Error + Send + Sync>;

/// The events of one stream, in the order generated (timestamp order).
struct StreamData {
    group: String,
    stream: String,
    events: Vec<(i64, String)>,
}

/// A JSON filter pattern and the reference predicate that gives its exact answer.
struct FilterCase {
    label: &'static str,
    pattern: String,
    key: &'static str,
    value: String,
    expected: u64,
}

/// One HTTP/1.1 connection, reopened when the server closes it (moto's server answers
/// `Connection: close`).
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    host: String,
    closed: bool,
}

async fn handshake(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Self, BoxError> {
        Ok(Self {
            sender: handshake(addr).await?,
            addr,
            host: addr.to_string(),
            closed: false,
        })
    }

    /// One AWS JSON 1.1 call; the body is returned for 200, an error otherwise.
    async fn call(&mut self, op: &str, body: Bytes) -> Result<Bytes, BoxError> {
        let req = http::Request::post("/")
            .header("host", &self.host)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Logs_20140328.{op}"))
            .header("x-amz-date", "20261129T000000Z")
            // Peers take the region from the credential scope; nobody here checks it.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDLOAD/20261129/us-east-1/logs/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000",
            )
            .body(Full::new(body))?;
        if self.closed || self.sender.is_closed() {
            self.sender = handshake(self.addr).await?;
            self.closed = false;
        }
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        self.closed = resp
            .headers()
            .get(http::header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(format!("{op}: HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok(bytes)
    }

    async fn call_json(&mut self, op: &str, body: &Value) -> Result<Value, BoxError> {
        let bytes = self
            .call(op, Bytes::from(serde_json::to_vec(body)?))
            .await?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// PutLogEvents limits: 10,000 events, 1,048,576 bytes counting 26 bytes per event, 24 h.
fn batches(s: &StreamData) -> Vec<(Bytes, usize)> {
    const MAX_BYTES: usize = 1_048_576;
    let mut out = Vec::new();
    let mut start = 0;
    while start < s.events.len() {
        let mut end = start;
        let mut size = 0;
        while end < s.events.len() {
            let cost = s.events[end].1.len() + 26;
            if end - start == 10_000
                || size + cost > MAX_BYTES
                || s.events[end].0 - s.events[start].0 >= 86_400_000
            {
                break;
            }
            size += cost;
            end += 1;
        }
        let events: Vec<Value> = s.events[start..end]
            .iter()
            .map(|(t, m)| json!({"timestamp": t, "message": m}))
            .collect();
        let body = json!({"logGroupName": s.group, "logStreamName": s.stream, "logEvents": events});
        match serde_json::to_vec(&body) {
            Ok(b) => out.push((Bytes::from(b), end - start)),
            Err(e) => eprintln!("cannot encode a batch: {e}"),
        }
        start = end;
    }
    out
}

/// For each connection, when each of its batches is due after the load starts (`None`
/// throughout when the load is not paced). Each connection carries its share of `rate` in
/// proportion to its events, so all of them finish together, and a batch is due once the
/// connection's events before it would have arrived at that share. The connections start
/// staggered across one batch interval rather than all at once.
fn due_times(
    work: &[Vec<(Bytes, usize)>],
    queues: &[Vec<usize>],
    rate: Option<f64>,
) -> Vec<Vec<Option<Duration>>> {
    let batches: Vec<Vec<usize>> = queues
        .iter()
        .map(|q| {
            q.iter()
                .flat_map(|&i| work[i].iter().map(|(_, n)| *n))
                .collect()
        })
        .collect();
    let Some(rate) = rate.filter(|r| *r > 0.0) else {
        return batches.iter().map(|b| vec![None; b.len()]).collect();
    };
    let total: usize = batches.iter().flatten().sum();
    let connections = batches.len().max(1) as f64;
    batches
        .iter()
        .enumerate()
        .map(|(c, b)| {
            let events: usize = b.iter().sum();
            // The connection's share of the rate, in events per second.
            let share = rate * events as f64 / total.max(1) as f64;
            let interval = events as f64 / b.len().max(1) as f64 / share;
            let mut sent = 0usize;
            b.iter()
                .map(|n| {
                    let at = c as f64 / connections * interval + sent as f64 / share;
                    sent += n;
                    Some(Duration::from_secs_f64(at))
                })
                .collect()
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Starts Lookout on 127.0.0.1:0 in its own runtime thread; returns its address and the
/// service, whose store's write counters explain the slow requests.
fn start_lookout(dir: &std::path::Path) -> Result<(SocketAddr, Service), BoxError> {
    let service = Service::open(dir, ServiceConfig::default())?;
    let handle = service.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        // Named threads let a profiler (`perf report --sort comm`) tell server from client.
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lookout-server")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("lookout runtime: {e}");
                return;
            }
        };
        rt.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            let state = AppState::new(service, None);
            let _ = lookout_server::serve(listener, state, std::future::pending()).await;
        });
    });
    Ok((addr, handle))
}

/// The write path's counters over the load: where a slow PutLogEvents spent its time.
fn write_note(before: &WriteStats, after: &WriteStats) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let commits = after.commits - before.commits;
    let flushes = after.flushes - before.flushes;
    let held = after.held_appends - before.held_appends;
    format!(
        "{commits} group commits ({:.1} ms mean write+fsync), {flushes} flushes ({:.0} ms mean, \
         longest {:.0} ms, {:.1} MB kept in memory and re-logged), {held} appends held back by \
         backpressure ({:.0} ms in all, longest {:.0} ms)",
        ms(after.commit_time - before.commit_time) / commits.max(1) as f64,
        ms(after.flush_time - before.flush_time) / flushes.max(1) as f64,
        ms(after.longest_flush),
        (after.carried_bytes - before.carried_bytes) as f64 / 1e6,
        ms(after.held_time - before.held_time),
        ms(after.longest_hold),
    )
}

/// CPU seconds used so far by this process's threads, summed per thread name (Linux; empty
/// elsewhere). Lookout runs in this process, so the difference over the load phase splits
/// its cost: `lookout-server` (HTTP, decoding, checks, WAL record packing; the runtime's
/// workers and blocking threads), `lookout-wal` (the group commit) and
/// `lookout-maintenance` (flushing to segments), beside the load client's threads.
fn thread_cpu() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ... utime stime: fields 14 and 15, counted after the comm.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
            .sum();
        // USER_HZ is 100 on every Linux this runs on.
        *out.entry(comm).or_default() += ticks / 100.0;
    }
    out
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| {
            let f: Vec<&str> = l.split_whitespace().take(3).collect();
            (f.len() == 3).then(|| f.join(" "))
        })
        .unwrap_or_else(|| "?".into())
}

struct LoadResult {
    seconds: f64,
    p50: Duration,
    p99: Duration,
    /// The slowest requests: (latency, when they started after the load began).
    slowest: Vec<(Duration, Duration)>,
    requests: usize,
    /// CPU seconds per thread name over the load phase.
    cpu: BTreeMap<String, f64>,
    failures: usize,
    first_failure: Option<String>,
}

/// Sends every batch of `work`. Closed loop (`rate` is `None`): each connection sends its
/// next batch as soon as the last one is answered, so the load is as heavy as the
/// connections can make it and a latency includes the queueing of a saturated server.
/// Paced (`rate` in events per second): the batches are due at fixed times, as from shippers
/// whose events arrive at that rate; a connection still waiting on an answer sends its next
/// batch late, and a latency counts from when the batch was due, not from when it was sent,
/// so a stall shows in every batch it delays (no coordinated omission).
async fn load(
    addr: SocketAddr,
    work: Arc<Vec<Vec<(Bytes, usize)>>>,
    connections: usize,
    rate: Option<f64>,
) -> Result<LoadResult, BoxError> {
    // Streams are dealt to connections so each stream's batches go in order on one
    // connection, as a shipper with one sender per stream does.
    let mut queues: Vec<Vec<usize>> = vec![Vec::new(); connections];
    for i in 0..work.len() {
        queues[i % connections].push(i);
    }
    let due = due_times(&work, &queues, rate);
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(Connection::open(addr).await?);
    }
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for ((mut conn, queue), due) in conns.into_iter().zip(queues).zip(due) {
        let work = Arc::clone(&work);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failures = Vec::new();
            let mut due = due.into_iter();
            for i in queue {
                for (body, _) in &work[i] {
                    let t = match due.next().flatten() {
                        Some(offset) => {
                            let at = t0 + offset;
                            tokio::time::sleep_until(at.into()).await;
                            at
                        }
                        None => Instant::now(),
                    };
                    match conn.call("PutLogEvents", body.clone()).await {
                        Ok(resp) => {
                            lat.push((t.elapsed(), t - t0));
                            if resp.windows(21).any(|w| w == b"rejectedLogEventsInfo") {
                                failures.push("rejectedLogEventsInfo in a response".to_string());
                            }
                        }
                        Err(e) => failures.push(e.to_string()),
                    }
                }
            }
            (lat, failures)
        }));
    }
    let mut lat = Vec::new();
    let mut failures = Vec::new();
    for t in tasks {
        let (l, f) = t.await?;
        lat.extend(l);
        failures.extend(f);
    }
    let seconds = t0.elapsed().as_secs_f64();
    let mut cpu = thread_cpu();
    for (name, secs) in &mut cpu {
        *secs -= cpu0.get(name).copied().unwrap_or(0.0);
    }
    cpu.retain(|_, secs| *secs > 0.0);
    lat.sort();
    let slowest = lat.iter().rev().take(8).copied().collect();
    let lat: Vec<Duration> = lat.into_iter().map(|(l, _)| l).collect();
    Ok(LoadResult {
        seconds,
        p50: percentile(&lat, 0.50),
        p99: percentile(&lat, 0.99),
        slowest,
        requests: lat.len(),
        cpu,
        failures: failures.len(),
        first_failure: failures.into_iter().next(),
    })
}

/// Reads every stream back with GetLogEvents; returns the streams whose count differs.
async fn verify(addr: SocketAddr, streams: &[StreamData]) -> Result<Vec<String>, BoxError> {
    let mut conn = Connection::open(addr).await?;
    let mut wrong = Vec::new();
    for s in streams {
        let mut token: Option<String> = None;
        let mut count = 0usize;
        let mut last_ts = i64::MIN;
        let mut ordered = true;
        let mut same = true;
        for _ in 0..10_000 {
            let mut req = json!({"logGroupName": s.group, "logStreamName": s.stream,
                                 "startFromHead": true, "limit": 10_000});
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let resp = conn.call_json("GetLogEvents", &req).await?;
            let events = resp["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for (j, e) in events.iter().enumerate() {
                let ts = e["timestamp"].as_i64().unwrap_or(i64::MIN);
                ordered &= ts >= last_ts;
                last_ts = ts;
                // Events were sent in timestamp order, so the stream reads back as sent.
                let sent = s.events.get(count + j);
                same &= sent.is_some_and(|(t, m)| *t == ts && e["message"].as_str() == Some(m));
            }
            count += events.len();
            let next = resp["nextForwardToken"].as_str().map(str::to_string);
            if events.is_empty() || next.is_none() || next == token {
                break;
            }
            token = next;
        }
        if count != s.events.len() || !ordered || !same {
            wrong.push(format!(
                "{}/{}: {count} of {} events{}{}",
                s.group,
                s.stream,
                s.events.len(),
                if ordered { "" } else { ", out of order" },
                if same { "" } else { ", contents differ" }
            ));
        }
    }
    Ok(wrong)
}

/// FilterLogEvents over every group, following nextToken to the end; returns the total.
async fn filter(addr: SocketAddr, groups: &[String], pattern: &str) -> Result<u64, BoxError> {
    let mut conn = Connection::open(addr).await?;
    let mut total = 0u64;
    for g in groups {
        let mut token: Option<String> = None;
        for _ in 0..100_000 {
            let mut req = json!({"logGroupName": g, "filterPattern": pattern, "limit": 10_000});
            if let Some(t) = &token {
                req["nextToken"] = json!(t);
            }
            let resp = conn.call_json("FilterLogEvents", &req).await?;
            total += resp["events"].as_array().map_or(0, Vec::len) as u64;
            match resp["nextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
    }
    Ok(total)
}

async fn setup(
    addr: SocketAddr,
    streams: &[StreamData],
    groups: &[String],
) -> Result<(), BoxError> {
    let mut conn = Connection::open(addr).await?;
    for g in groups {
        conn.call_json("CreateLogGroup", &json!({"logGroupName": g}))
            .await?;
    }
    for s in streams {
        conn.call_json(
            "CreateLogStream",
            &json!({"logGroupName": s.group, "logStreamName": s.stream}),
        )
        .await?;
    }
    Ok(())
}

fn json_equals(message: &str, key: &str, value: &str) -> bool {
    if !message.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Value>(message) {
        Ok(Value::Object(o)) => o.get(key).and_then(Value::as_str) == Some(value),
        _ => false,
    }
}

async fn run() -> Result<(), BoxError> {
    let n = env_usize("LOOKOUT_LOAD_EVENTS", 1_000_000);
    let connections = env_usize("LOOKOUT_LOAD_CONNECTIONS", 8).max(1);
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    // Recent timestamps (the last hour) so every server accepts them; five functions so
    // most streams fill a 1 MiB batch.
    let cfg = GenConfig {
        events: n as u64,
        seed: 7,
        start_ms: now_ms - 3_600_000,
        span_ms: 3_600_000,
        functions: 5,
        ..GenConfig::default()
    };
    let mut generator = Generator::new(cfg);
    let mut by_stream: BTreeMap<(String, String), Vec<(i64, String)>> = BTreeMap::new();
    for e in generator.by_ref() {
        by_stream
            .entry((e.log_group, e.log_stream))
            .or_default()
            .push((e.timestamp, e.message));
    }
    let manifest = generator.manifest();
    let streams: Vec<StreamData> = by_stream
        .into_iter()
        .map(|((group, stream), events)| StreamData {
            group,
            stream,
            events,
        })
        .collect();
    let mut groups: Vec<String> = streams.iter().map(|s| s.group.clone()).collect();
    groups.dedup();
    let work: Arc<Vec<_>> = Arc::new(streams.iter().map(batches).collect());
    let requests: usize = work.iter().map(Vec::len).sum();
    let body_bytes: usize = work.iter().flatten().map(|(b, _)| b.len()).sum();
    let raw_bytes: u64 = manifest.message_bytes;

    let mut cases = vec![
        FilterCase {
            label: "common value",
            pattern: r#"{ $.level = "ERROR" }"#.into(),
            key: "level",
            value: "ERROR".into(),
            expected: 0,
        },
        FilterCase {
            label: "needle request id",
            pattern: format!(
                r#"{{ $.function_request_id = "{}" }}"#,
                manifest.needles.request_id.value
            ),
            key: "function_request_id",
            value: manifest.needles.request_id.value.clone(),
            expected: 0,
        },
    ];
    for c in &mut cases {
        c.expected = streams
            .iter()
            .flat_map(|s| &s.events)
            .filter(|(_, m)| json_equals(m, c.key, &c.value))
            .count() as u64;
    }

    println!(
        "workload: {n} events ({:.1} MB of messages), {} groups, {} streams, {requests} PutLogEvents \
         requests, mean body {:.0} KiB, {connections} connections",
        raw_bytes as f64 / 1e6,
        groups.len(),
        streams.len(),
        body_bytes as f64 / requests.max(1) as f64 / 1024.0,
    );

    let dir = tempfile::tempdir()?;
    let (lookout_addr, lookout) = start_lookout(dir.path())?;
    let mut targets = vec![("lookout".to_string(), lookout_addr)];
    if let Ok(peers) = std::env::var("LOOKOUT_LOAD_PEERS") {
        for item in peers.split(',').filter(|s| !s.trim().is_empty()) {
            let Some((name, url)) = item.split_once('=') else {
                return Err(format!("LOOKOUT_LOAD_PEERS item {item:?} is not name=url").into());
            };
            let hostport = url
                .trim()
                .trim_start_matches("http://")
                .trim_end_matches('/');
            targets.push((name.trim().to_string(), hostport.parse()?));
        }
    }

    println!(
        "\n| server | events/s | p50 ms | p99 ms | requests | failed | read back | {} |",
        cases
            .iter()
            .map(|c| format!("filter {} s (hits)", c.label))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "|---|---|---|---|---|---|---|{}",
        "---|".repeat(cases.len())
    );
    let mut notes = Vec::new();
    let run = Run {
        streams: &streams,
        groups: &groups,
        work: &work,
        cases: &cases,
        events: n,
        connections,
    };
    for (name, addr) in targets {
        let service = (name == "lookout").then_some(&lookout);
        run.measure(&name, addr, None, service, &mut notes).await;
    }
    // The same events again, offered at a fixed rate to a second, empty Lookout: the
    // latency a shipper sees while the server sustains that rate, where the closed loop
    // above reports the latency of a saturated server.
    let rate = env_usize("LOOKOUT_LOAD_RATE", 300_000);
    if rate > 0 {
        let dir = tempfile::tempdir()?;
        let (addr, paced) = start_lookout(dir.path())?;
        let name = format!("lookout, paced at {rate} events/s");
        run.measure(&name, addr, Some(rate as f64), Some(&paced), &mut notes)
            .await;
    }
    println!();
    for note in notes {
        println!("{note}");
    }
    Ok(())
}

/// What every measured target gets: the same streams, batches and filters.
struct Run<'a> {
    streams: &'a [StreamData],
    groups: &'a [String],
    work: &'a Arc<Vec<Vec<(Bytes, usize)>>>,
    cases: &'a [FilterCase],
    events: usize,
    connections: usize,
}

impl Run<'_> {
    /// Creates the streams on `addr`, sends the load, reads every stream back and runs the
    /// filters; prints the table row and leaves the notes in `notes`. `lookout` is the
    /// in-process server behind `addr`, whose write path is reported and which is left
    /// with everything flushed and indexed, so its background work does not run beside the
    /// next target.
    async fn measure(
        &self,
        name: &str,
        addr: SocketAddr,
        rate: Option<f64>,
        lookout: Option<&Service>,
        notes: &mut Vec<String>,
    ) {
        let (streams, groups, cases, n) = (self.streams, self.groups, self.cases, self.events);
        let load_before = loadavg();
        if let Err(e) = setup(addr, streams, groups).await {
            println!("| {name} | setup failed: {e} |");
            return;
        }
        let stats_before = lookout.map(|l| l.store().write_stats());
        let r = match load(addr, Arc::clone(self.work), self.connections, rate).await {
            Ok(r) => r,
            Err(e) => {
                println!("| {name} | load failed: {e} |");
                return;
            }
        };
        let stats_after = lookout.map(|l| l.store().write_stats());
        let read_back = match verify(addr, streams).await {
            Ok(w) if w.is_empty() => "all events, in order, same contents".to_string(),
            Ok(w) => format!("WRONG in {} streams, e.g. {}", w.len(), w[0]),
            Err(e) => format!("read failed: {e}"),
        };
        let mut filters = Vec::new();
        for c in cases {
            let t = Instant::now();
            let cell = match filter(addr, groups, &c.pattern).await {
                Ok(got) => format!(
                    "{:.2} ({got}{})",
                    t.elapsed().as_secs_f64(),
                    if got == c.expected {
                        ", correct".to_string()
                    } else {
                        format!(", WRONG: expected {}", c.expected)
                    }
                ),
                Err(e) => format!("failed: {e}"),
            };
            filters.push(cell);
        }
        println!(
            "| {name} | {:.0} | {:.1} | {:.1} | {} | {} | {read_back} | {} |",
            n as f64 / r.seconds,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.requests,
            r.failures,
            filters.join(" | ")
        );
        if let Some(f) = r.first_failure {
            notes.push(format!(
                "first failure on {name}: {}",
                f.chars().take(300).collect::<String>()
            ));
        }
        let per_event = |secs: f64| secs * 1e6 / n as f64;
        let parts: Vec<String> = r
            .cpu
            .iter()
            .map(|(thread, secs)| format!("{thread} {:.2}", per_event(*secs)))
            .collect();
        notes.push(format!(
            "{name}: {:.1} s; CPU µs per event in this process during the load: {} (total {:.2}); \
                 load average before {load_before}, after {}",
            r.seconds,
            parts.join(", "),
            per_event(r.cpu.values().sum()),
            loadavg()
        ));
        let slowest: Vec<String> = r
            .slowest
            .iter()
            .map(|(l, at)| format!("{:.1} at {:.2}", l.as_secs_f64() * 1e3, at.as_secs_f64()))
            .collect();
        notes.push(format!(
            "{name}: slowest requests (ms, at s into the load): {}",
            slowest.join(", ")
        ));
        if let (Some(before), Some(after)) = (&stats_before, &stats_after) {
            notes.push(format!(
                "{name} write path during the load: {}",
                write_note(before, after)
            ));
        }
        if let Some(store) = lookout.map(|l| Arc::clone(l.store())) {
            let t = Instant::now();
            let settled =
                tokio::task::spawn_blocking(move || store.flush().and_then(|()| store.compact()))
                    .await;
            let outcome = match settled {
                Ok(Ok(replaced)) => format!("{replaced} segments replaced"),
                Ok(Err(e)) => format!("failed: {e}"),
                Err(e) => format!("failed: {e}"),
            };
            notes.push(format!(
                    "{name}: flushing, indexing and merging after the filters (Store::flush, Store::compact) took {:.1} s, {outcome}",
                    t.elapsed().as_secs_f64()
                ));
        }
    }
}

fn main() -> Result<(), BoxError> {
    // `cargo bench` passes `--bench`; a filter argument would make no sense here.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run())
}
