//! The realistic Lambda log generator.
//!
//! It simulates a fleet of functions over a time range: a fixed pool of invocations is in
//! flight at once, and each step emits the next line of one of them, so lines of different
//! requests interleave the way a shipper sees them while every stream stays in time order.
//! An invocation is what Lambda writes: `INIT_START` on a cold start, `START`, the function's
//! own lines, an error, panic or timeout for some, `END` and `REPORT`.

use std::io::{self, Write};

use crate::clock::push_stream_date;
use crate::jsonl::{lit, push_json_str};
use crate::manifest::{Manifest, Needle, Needles};
use crate::rng::Rng;
use crate::vocab::*;

mod msg;
mod render;
use msg::Msg;
use render::push_hex_u32;

/// Template index per roll: the weights of the application line templates in `render_app`.
const TEMPLATE_BY_ROLL: [u8; 40] = [
    1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 6, 7, 7, 7, 7, 8, 8, 8, 9, 9, 10, 10, 10, 11, 11, 11,
    12, 12, 13, 13, 13, 14, 15, 15, 15, 15,
];
/// How many invocations are in flight at once.
const IN_FLIGHT: usize = 32;
/// Probability that an app line carries the rare term.
const RARE_TERM_RATE: f64 = 0.000_1;

/// What to generate. `Default` gives 100 000 events over one day from 2026-11-01T00:00:00Z.
#[derive(Clone, Debug)]
pub struct GenConfig {
    /// Number of events to emit.
    pub events: u64,
    /// Seed: the same configuration always gives the same bytes.
    pub seed: u64,
    /// Timestamp of the first event, epoch milliseconds.
    pub start_ms: i64,
    /// Time range the events spread over, milliseconds (at least 1).
    pub span_ms: i64,
    /// 0.0–1.0: how much of each line is unpredictable (ids, values, optional keys).
    /// Higher entropy compresses worse; the default lands near the 6–8× zstd ratio of real
    /// Lambda logs.
    pub entropy: f64,
    /// Number of functions, hence log groups (1–1000).
    pub functions: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            events: 100_000,
            seed: 1,
            start_ms: 1_793_491_200_000, // 2026-11-01T00:00:00Z
            span_ms: 86_400_000,
            entropy: 0.5,
            functions: 50,
        }
    }
}

/// One generated event, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `/aws/lambda/<function>`.
    pub log_group: String,
    /// `YYYY/MM/DD/[$LATEST]<32 hex>`, one per execution environment.
    pub log_stream: String,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The raw log line.
    pub message: String,
}

/// One generated event, borrowed from the generator's buffers (no allocation).
#[derive(Clone, Copy, Debug)]
pub struct EventRef<'a> {
    /// `/aws/lambda/<function>`.
    pub log_group: &'a str,
    /// `YYYY/MM/DD/[$LATEST]<32 hex>`.
    pub log_stream: &'a str,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The raw log line.
    pub message: &'a str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Powertools for Python JSON records; Lambda text format for platform lines.
    PythonPowertools,
    /// Powertools for TypeScript JSON records.
    NodePowertools,
    /// A Rust function with a Powertools-shaped logger; panics as plain text.
    Rust,
    /// Python with the standard library logger: `[LEVEL]\t<time>\t<request id>\t<message>`.
    PythonText,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self, kind: Kind) -> &'static str {
        match (self, kind) {
            (Level::Debug, _) => "DEBUG",
            (Level::Info, _) => "INFO",
            (Level::Warn, Kind::NodePowertools | Kind::Rust) => "WARN",
            (Level::Warn, _) => "WARNING",
            (Level::Error, _) => "ERROR",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    None,
    Error,
    Panic,
    Timeout,
}

struct Env {
    id: u64,
    stream: String,
    busy: bool,
    expires_ms: i64,
}

struct Function {
    name: String,
    group: String,
    /// `{"logGroup":"<group>","logStream":`, the start of each of its output lines.
    line_head: String,
    service: &'static str,
    kind: Kind,
    memory_mb: u32,
    arn: String,
    runtime: &'static str,
    runtime_arn: String,
    behind_api: bool,
    traced: bool,
    error_rate: f64,
    logs_debug: bool,
    envs: Vec<Env>,
}

#[derive(Default)]
struct Invocation {
    func: usize,
    env_id: u64,
    stream: String,
    /// `stream` as a JSON string, for the output lines.
    stream_json: String,
    request_id: String,
    trace_id: String,
    correlation_id: String,
    cold: bool,
    init_log: bool,
    app_lines: u8,
    failure: Option<Failure>,
    step: u8,
    user: u64,
    order: u64,
    duration_ms_x100: u64,
    init_ms_x100: u64,
    needle: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    InitStart,
    InitLog,
    Start,
    App(u8),
    Failure,
    End,
    Report,
    Done,
}

/// The generator. Iterate it for owned [`Event`]s, call [`Generator::next_ref`] for borrowed
/// ones, or [`Generator::write_jsonl`] for the fastest path to a file.
pub struct Generator {
    cfg: GenConfig,
    rng: Rng,
    funcs: Vec<Function>,
    cumulative_weight: Vec<f64>,
    slots: Vec<Invocation>,
    emitted: u64,
    next_env_id: u64,
    msg: Msg,
    extra: Msg,
    text: String,
    // manifest counters
    levels: [u64; 4],
    platform_lines: u64,
    report_lines: u64,
    cold_starts: u64,
    invocations: u64,
    failed_invocations: u64,
    streams: u64,
    message_bytes: u64,
    last_ts: i64,
    needle_started: bool,
    needle_request: Needle,
    needle_trace: Needle,
    rare_hits: u64,
}

impl Generator {
    /// A generator for `cfg`. Out-of-range settings are clamped (entropy to 0–1, span to at
    /// least 1 ms, functions to 1–1000); the CLI validates them before they get here.
    pub fn new(mut cfg: GenConfig) -> Self {
        cfg.entropy = if cfg.entropy.is_finite() {
            cfg.entropy.clamp(0.0, 1.0)
        } else {
            0.5
        };
        cfg.span_ms = cfg.span_ms.max(1);
        cfg.functions = cfg.functions.clamp(1, 1000);
        let mut rng = Rng::new(cfg.seed);
        let mut funcs = Vec::with_capacity(cfg.functions);
        let mut cumulative_weight = Vec::with_capacity(cfg.functions);
        let mut total = 0.0;
        for i in 0..cfg.functions {
            let f = make_function(i, &mut rng);
            // Zipf-like traffic: a few hot functions, a long tail.
            total += 1.0 / ((i + 1) as f64).powf(0.8);
            cumulative_weight.push(total);
            funcs.push(f);
        }
        let mut g = Self {
            cfg,
            rng,
            funcs,
            cumulative_weight,
            slots: Vec::with_capacity(IN_FLIGHT),
            emitted: 0,
            next_env_id: 0,
            msg: Msg::with_capacity(4096),
            extra: Msg::with_capacity(1024),
            text: String::with_capacity(256),
            levels: [0; 4],
            platform_lines: 0,
            report_lines: 0,
            cold_starts: 0,
            invocations: 0,
            failed_invocations: 0,
            streams: 0,
            message_bytes: 0,
            last_ts: 0,
            needle_started: false,
            needle_request: Needle::default(),
            needle_trace: Needle::default(),
            rare_hits: 0,
        };
        let start = g.cfg.start_ms;
        for _ in 0..IN_FLIGHT {
            let inv = g.start_invocation(start, Invocation::default());
            g.slots.push(inv);
        }
        g
    }

    /// The next event, borrowed from the generator; `None` after `events` events.
    pub fn next_ref(&mut self) -> Option<EventRef<'_>> {
        let slot = self.advance()?;
        let inv = &self.slots[slot];
        Some(EventRef {
            log_group: &self.funcs[inv.func].group,
            log_stream: &inv.stream,
            timestamp: self.last_ts,
            message: self.msg.as_str(),
        })
    }

    /// Renders the next event into `self.msg` (in its current form) and returns its slot;
    /// the timestamp is `self.last_ts`.
    fn advance(&mut self) -> Option<usize> {
        if self.emitted >= self.cfg.events {
            return None;
        }
        let ts = self.cfg.start_ms
            + (i128::from(self.emitted) * i128::from(self.cfg.span_ms)
                / i128::from(self.cfg.events.max(1))) as i64;
        let slot = self.rng.below(IN_FLIGHT as u64) as usize;
        loop {
            let step = self.step_of(&self.slots[slot]);
            if step == Step::Done {
                self.finish_invocation(slot, ts);
                continue;
            }
            self.msg.clear();
            self.render(slot, step, ts);
            self.slots[slot].step += 1;
            break;
        }
        self.emitted += 1;
        self.last_ts = ts;
        self.message_bytes += self.msg.raw_len() as u64;
        let inv = &self.slots[slot];
        if inv.needle {
            // Ids are hex and dashes, which escaping leaves alone: the escaped form holds
            // them exactly where the written form does.
            let text = self.msg.as_str();
            if text.contains(&inv.request_id) {
                self.needle_request.count += 1;
            }
            if text.contains(&inv.trace_id) {
                self.needle_trace.count += 1;
            }
        }
        Some(slot)
    }

    /// Writes every remaining event as a JSON line `{"logGroup","logStream","timestamp",
    /// "message"}` to `w`, in writes of at least 1 MiB (a `BufWriter` of up to 1 MiB passes
    /// them straight through instead of copying them).
    ///
    /// Messages are rendered directly in their escaped form, so the bytes are the same as
    /// escaping each [`EventRef::message`] but the message is never scanned a second time.
    pub fn write_jsonl<W: Write>(&mut self, w: W) -> io::Result<()> {
        self.msg.set_escaped(true);
        self.extra.set_escaped(true);
        let result = self.write_escaped(w);
        self.msg.set_escaped(false);
        self.extra.set_escaped(false);
        result
    }

    fn write_escaped<W: Write>(&mut self, mut w: W) -> io::Result<()> {
        const CHUNK: usize = 1 << 20;
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
        let mut ts_text = itoa::Buffer::new();
        while let Some(slot) = self.advance() {
            let inv = &self.slots[slot];
            buf.extend_from_slice(self.funcs[inv.func].line_head.as_bytes());
            buf.extend_from_slice(inv.stream_json.as_bytes());
            buf.extend_from_slice(b",\"timestamp\":");
            buf.extend_from_slice(ts_text.format(self.last_ts).as_bytes());
            buf.extend_from_slice(b",\"message\":\"");
            buf.extend_from_slice(self.msg.as_str().as_bytes());
            buf.extend_from_slice(b"\"}\n");
            if buf.len() >= CHUNK {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// What has been generated so far, with the planted needles and their exact counts.
    pub fn manifest(&self) -> Manifest {
        let mut rare = Needle {
            value: RARE_TERM.to_string(),
            count: self.rare_hits,
            log_group: None,
        };
        if self.rare_hits == 0 {
            rare.count = 0;
        }
        Manifest {
            generator: format!("lookout-testkit {}", env!("CARGO_PKG_VERSION")),
            seed: self.cfg.seed,
            events: self.emitted,
            entropy: self.cfg.entropy,
            start_ms: self.cfg.start_ms,
            span_ms: self.cfg.span_ms,
            last_timestamp_ms: self.last_ts,
            log_groups: self.funcs.len() as u64,
            log_streams: self.streams,
            invocations: self.invocations,
            failed_invocations: self.failed_invocations,
            cold_starts: self.cold_starts,
            platform_lines: self.platform_lines,
            report_lines: self.report_lines,
            levels: [
                ("DEBUG".to_string(), self.levels[0]),
                ("INFO".to_string(), self.levels[1]),
                ("WARN".to_string(), self.levels[2]),
                ("ERROR".to_string(), self.levels[3]),
            ]
            .into_iter()
            .collect(),
            message_bytes: self.message_bytes,
            needles: Needles {
                request_id: self.needle_request.clone(),
                trace_id: self.needle_trace.clone(),
                rare_term: rare,
            },
        }
    }

    fn pick_function(&mut self) -> usize {
        let total = self.cumulative_weight.last().copied().unwrap_or(1.0);
        let x = self.rng.unit() * total;
        self.cumulative_weight
            .partition_point(|w| *w <= x)
            .min(self.funcs.len() - 1)
    }

    /// A new invocation; `old` lends its string buffers.
    fn start_invocation(&mut self, now: i64, old: Invocation) -> Invocation {
        let fi = self.pick_function();
        self.invocations += 1;
        let entropy = self.cfg.entropy;
        let Invocation {
            mut stream,
            mut stream_json,
            mut request_id,
            mut trace_id,
            mut correlation_id,
            ..
        } = old;
        for s in [
            &mut stream,
            &mut stream_json,
            &mut request_id,
            &mut trace_id,
            &mut correlation_id,
        ] {
            s.clear();
        }
        let mut inv = Invocation {
            func: fi,
            stream,
            stream_json,
            request_id,
            trace_id,
            correlation_id,
            ..Invocation::default()
        };
        // Reuse an idle, unexpired environment unless Lambda decides to scale out.
        let f = &mut self.funcs[fi];
        f.envs.retain(|e| e.busy || e.expires_ms > now);
        let idle = f.envs.iter().filter(|e| !e.busy).count() as u64;
        let reuse = idle > 0 && !self.rng.chance(0.004);
        if reuse {
            let k = self.rng.below(idle) as usize;
            let mut seen = 0;
            for e in f.envs.iter_mut() {
                if !e.busy {
                    if seen == k {
                        e.busy = true;
                        inv.env_id = e.id;
                        inv.stream.push_str(&e.stream);
                        break;
                    }
                    seen += 1;
                }
            }
        } else {
            let id = self.next_env_id;
            self.next_env_id += 1;
            let mut stream = String::with_capacity(52);
            push_stream_date(&mut stream, now);
            stream.push_str("/[$LATEST]");
            self.rng.push_hex(&mut stream, 32);
            let lifetime = self.rng.range(15 * 60_000, 3 * 3_600_000) as i64;
            inv.stream.push_str(&stream);
            f.envs.push(Env {
                id,
                stream,
                busy: true,
                expires_ms: now + lifetime,
            });
            inv.env_id = id;
            inv.cold = true;
            inv.init_log = self.rng.chance(0.5);
            inv.init_ms_x100 =
                self.rng.range(8_000, 90_000) + if f.kind == Kind::Rust { 0 } else { 60_000 };
            self.cold_starts += 1;
            self.streams += 1;
        }
        push_json_str(&mut inv.stream_json, &inv.stream);
        let f = &self.funcs[fi];
        self.rng.push_uuid(&mut inv.request_id);
        // X-Ray trace id: 1-<epoch seconds, 8 hex>-<24 hex>
        inv.trace_id.push_str("1-");
        push_hex_u32(&mut inv.trace_id, (now / 1000) as u32);
        inv.trace_id.push('-');
        self.rng.push_hex(&mut inv.trace_id, 24);
        if f.behind_api {
            self.rng.push_uuid(&mut inv.correlation_id);
        }
        let user_space = 2_000 + (entropy * 200_000.0) as u64;
        inv.user = 1 + self.rng.skewed(user_space);
        inv.order = self.rng.range(10_000_000, 99_999_999);
        inv.app_lines = self.rng.range(4, 9) as u8;
        let failure_roll = self.rng.unit();
        inv.failure = Some(if failure_roll < f.error_rate {
            if f.kind == Kind::Rust && self.rng.chance(0.3) {
                Failure::Panic
            } else {
                Failure::Error
            }
        } else if failure_roll < f.error_rate + 0.002 {
            Failure::Timeout
        } else {
            Failure::None
        });
        if !matches!(inv.failure, Some(Failure::None)) {
            self.failed_invocations += 1;
        }
        // Log-normal-ish durations: most calls are fast, a tail is slow.
        let u = self.rng.unit();
        inv.duration_ms_x100 = 150 + (u * u * u * u * 250_000.0) as u64 + self.rng.below(2_000);
        // The needle invocation logs JSON records, so its trace id is findable too (a
        // plain-text function without X-Ray would leave that needle with no hits).
        if !self.needle_started && self.emitted >= self.cfg.events / 3 && f.kind != Kind::PythonText
        {
            self.needle_started = true;
            inv.needle = true;
            self.needle_request = Needle {
                value: inv.request_id.clone(),
                count: 0,
                log_group: Some(f.group.clone()),
            };
            self.needle_trace = Needle {
                value: inv.trace_id.clone(),
                count: 0,
                log_group: Some(f.group.clone()),
            };
        }
        inv
    }

    fn finish_invocation(&mut self, slot: usize, now: i64) {
        let (fi, env_id) = (self.slots[slot].func, self.slots[slot].env_id);
        if let Some(e) = self.funcs[fi].envs.iter_mut().find(|e| e.id == env_id) {
            e.busy = false;
        }
        let old = std::mem::take(&mut self.slots[slot]);
        self.slots[slot] = self.start_invocation(now, old);
    }

    fn step_of(&self, inv: &Invocation) -> Step {
        let mut i = inv.step;
        if inv.cold {
            if i == 0 {
                return Step::InitStart;
            }
            i -= 1;
            if inv.init_log {
                if i == 0 {
                    return Step::InitLog;
                }
                i -= 1;
            }
        }
        if i == 0 {
            return Step::Start;
        }
        i -= 1;
        let failure = inv.failure.unwrap_or(Failure::None);
        // A timeout cuts the function's own output short.
        let app = if failure == Failure::Timeout {
            inv.app_lines / 2
        } else {
            inv.app_lines
        };
        if i < app {
            return Step::App(i);
        }
        i -= app;
        if failure != Failure::None {
            if i == 0 {
                return Step::Failure;
            }
            i -= 1;
        }
        match i {
            0 => Step::End,
            1 => Step::Report,
            _ => Step::Done,
        }
    }

    fn render(&mut self, slot: usize, step: Step, ts: i64) {
        let fi = self.slots[slot].func;
        match step {
            Step::InitStart => {
                self.platform_lines += 1;
                let f = &self.funcs[fi];
                self.msg.lit(lit!("INIT_START Runtime Version: "));
                self.msg.text(f.runtime);
                self.msg.lit(lit!("\tRuntime Version ARN: "));
                self.msg.text(&f.runtime_arn);
                self.msg.lit(lit!("\n"));
            }
            Step::InitLog => {
                let line = *self.rng.pick(&INIT_LINES);
                self.msg.text(line);
                self.msg.lit(lit!("\n"));
            }
            Step::Start => {
                self.platform_lines += 1;
                self.msg.lit(lit!("START RequestId: "));
                self.msg.plain(&self.slots[slot].request_id);
                self.msg.lit(lit!(" Version: $LATEST\n"));
            }
            Step::End => {
                self.platform_lines += 1;
                self.msg.lit(lit!("END RequestId: "));
                self.msg.plain(&self.slots[slot].request_id);
                self.msg.lit(lit!("\n"));
            }
            Step::Report => self.render_report(slot),
            Step::App(i) => self.render_app(slot, i, ts),
            Step::Failure => self.render_failure(slot, ts),
            Step::Done => {}
        }
    }
}

impl Iterator for Generator {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.next_ref().map(|e| Event {
            log_group: e.log_group.to_string(),
            log_stream: e.log_stream.to_string(),
            timestamp: e.timestamp,
            message: e.message.to_string(),
        })
    }
}

fn make_function(i: usize, rng: &mut Rng) -> Function {
    let domain = DOMAINS[i % DOMAINS.len()];
    let role = ROLES[(i / DOMAINS.len()) % ROLES.len()];
    let name = if i < DOMAINS.len() * ROLES.len() {
        format!("{domain}-{role}")
    } else {
        format!("{domain}-{role}-{}", i / (DOMAINS.len() * ROLES.len()) + 1)
    };
    let kind = match i % 10 {
        0..=5 => Kind::PythonPowertools,
        6 | 7 => Kind::NodePowertools,
        8 => Kind::Rust,
        _ => Kind::PythonText,
    };
    let region = if i % 4 == 3 { "eu-west-1" } else { "us-east-1" };
    let runtime = match kind {
        Kind::PythonPowertools | Kind::PythonText => "python:3.12.v38",
        Kind::NodePowertools => "nodejs:20.v41",
        Kind::Rust => "provided:al2023.v71",
    };
    // The runtime ARN's hash is fixed per function, independent of the seed.
    let mut arn_rng = Rng::new(0x5eed_0000 + i as u64);
    let mut runtime_arn = format!("arn:aws:lambda:{region}::runtime:");
    arn_rng.push_hex(&mut runtime_arn, 64);
    let group = format!("/aws/lambda/{name}");
    let mut line_head = String::from("{\"logGroup\":");
    push_json_str(&mut line_head, &group);
    line_head.push_str(",\"logStream\":");
    Function {
        group,
        line_head,
        arn: format!("arn:aws:lambda:{region}:123456789012:function:{name}"),
        service: domain,
        kind,
        memory_mb: MEMORY_MB[(i * 7 + 3) % MEMORY_MB.len()],
        runtime,
        runtime_arn,
        behind_api: matches!(role, "api" | "webhook"),
        traced: i.is_multiple_of(3),
        error_rate: 0.004 + (i % 7) as f64 * 0.005,
        logs_debug: rng.chance(0.3),
        envs: Vec::new(),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64, events: u64) -> Generator {
        Generator::new(GenConfig {
            events,
            seed,
            ..GenConfig::default()
        })
    }

    #[test]
    fn emits_exactly_the_requested_number_in_time_order() {
        let mut g = small(3, 5_000);
        let mut n = 0;
        let mut last = i64::MIN;
        while let Some(e) = g.next_ref() {
            assert!(e.timestamp >= last);
            last = e.timestamp;
            n += 1;
        }
        assert_eq!(n, 5_000);
        assert_eq!(g.manifest().events, 5_000);
        assert!(last < GenConfig::default().start_ms + GenConfig::default().span_ms);
    }

    #[test]
    fn json_records_are_valid_json_and_carry_context() {
        let mut json = 0;
        for e in small(11, 20_000) {
            if e.message.starts_with('{') {
                let v: serde_json::Value = serde_json::from_str(&e.message)
                    .unwrap_or_else(|err| panic!("{err}: {}", e.message));
                assert!(v["level"].is_string());
                assert!(v["function_request_id"].is_string());
                assert!(v["xray_trace_id"].as_str().unwrap().starts_with("1-"));
                json += 1;
            }
        }
        assert!(json > 10_000, "{json}");
    }

    #[test]
    fn invocation_lines_share_request_ids_and_streams_look_like_lambda() {
        let mut per_request: std::collections::HashMap<String, u32> = Default::default();
        let mut streams = std::collections::HashSet::new();
        for e in small(5, 50_000) {
            assert!(e.log_group.starts_with("/aws/lambda/"));
            let s = &e.log_stream;
            assert_eq!(s.len(), "2026/11/01/[$LATEST]".len() + 32, "{s}");
            assert!(s[11..].starts_with("[$LATEST]"));
            streams.insert(e.log_stream.clone());
            if let Some(rest) = e.message.strip_prefix("START RequestId: ") {
                per_request.insert(rest[..36].to_string(), 0);
            }
            for (id, n) in per_request.iter_mut() {
                if e.message.contains(id.as_str()) {
                    *n += 1;
                }
            }
            if let Some(rest) = e.message.strip_prefix("REPORT RequestId: ") {
                assert!(rest.contains("\tBilled Duration: "));
                assert!(rest.contains(" MB\tMax Memory Used: "));
                if let Some(n) = per_request.remove(&rest[..36]) {
                    assert!((4..=14).contains(&n), "{n}");
                }
            }
        }
        assert!(streams.len() > 20, "{}", streams.len());
    }

    fn json(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    /// The JSON lines render messages directly in escaped form; they must be exactly the
    /// events of the iterator, escaped field by field, with the same manifest.
    #[test]
    fn jsonl_lines_are_the_events_escaped() {
        for (seed, entropy) in [(9, 0.5), (10, 1.0), (11, 0.0)] {
            let cfg = GenConfig {
                events: 20_000,
                seed,
                entropy,
                ..GenConfig::default()
            };
            let mut written = Generator::new(cfg.clone());
            let mut out = Vec::new();
            written.write_jsonl(&mut out).unwrap();
            let mut iterated = Generator::new(cfg);
            let mut expect = Vec::with_capacity(out.len());
            for e in iterated.by_ref() {
                expect.extend_from_slice(b"{\"logGroup\":");
                expect.extend_from_slice(json(&e.log_group).as_bytes());
                expect.extend_from_slice(b",\"logStream\":");
                expect.extend_from_slice(json(&e.log_stream).as_bytes());
                expect.extend_from_slice(format!(",\"timestamp\":{}", e.timestamp).as_bytes());
                expect.extend_from_slice(b",\"message\":");
                expect.extend_from_slice(json(&e.message).as_bytes());
                expect.extend_from_slice(b"}\n");
            }
            assert!(out == expect, "seed {seed}: escaped rendering differs");
            assert_eq!(
                serde_json::to_string(&written.manifest()).unwrap(),
                serde_json::to_string(&iterated.manifest()).unwrap()
            );
            // The generator is back in the written form afterwards.
            assert!(written.next_ref().is_none());
        }
    }

    #[test]
    fn literals_are_escaped_at_compile_time_like_at_run_time() {
        let l = lit!("q\"b\\n\nt\tc\u{1}é");
        let mut run = String::new();
        crate::jsonl::push_escaped(&mut run, l.raw);
        assert_eq!(l.esc, run);
        assert_eq!(l.raw, "q\"b\\n\nt\tc\u{1}é");
    }

    #[test]
    fn different_seeds_differ_and_same_seed_repeats() {
        let a: Vec<Event> = small(1, 2_000).collect();
        let b: Vec<Event> = small(1, 2_000).collect();
        let c: Vec<Event> = small(2, 2_000).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn needles_always_have_hits() {
        for seed in 0..40 {
            let needle = g_needle(seed);
            let mut g = small(seed, 5_000);
            let hits = g.by_ref().filter(|e| e.message.contains(&needle)).count();
            let m = g.manifest();
            assert!(
                m.needles.request_id.count >= 3,
                "seed {seed}: {:?}",
                m.needles
            );
            assert!(
                m.needles.trace_id.count >= 1,
                "seed {seed}: {:?}",
                m.needles
            );
            assert_eq!(hits as u64, m.needles.request_id.count, "seed {seed}");
        }
    }

    /// The request-id needle of a 5,000-event corpus, from a first pass.
    fn g_needle(seed: u64) -> String {
        let mut g = small(seed, 5_000);
        g.by_ref().for_each(drop);
        g.manifest().needles.request_id.value
    }

    #[test]
    fn degenerate_configs_do_not_panic() {
        for cfg in [
            GenConfig {
                events: 0,
                ..GenConfig::default()
            },
            GenConfig {
                events: 10,
                span_ms: 0,
                ..GenConfig::default()
            },
            GenConfig {
                events: 10,
                functions: 0,
                entropy: f64::NAN,
                ..GenConfig::default()
            },
            GenConfig {
                events: 10,
                start_ms: -5_000,
                entropy: 7.0,
                ..GenConfig::default()
            },
        ] {
            let n = Generator::new(cfg.clone()).count() as u64;
            assert_eq!(n, cfg.events);
        }
    }
}
