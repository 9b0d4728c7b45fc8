//! The `tracing` layer: level decisions, invocation scope lookup, record rendering,
//! buffering and writing.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::subscriber::Interest;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{Profile, Resolved, SamplerKind};
use crate::errors::{self, ErrorInfo};
use crate::invocation::{self, Invocation, InvocationInit};
use crate::json;
use crate::level::{Level, OFF};
use crate::record::{self, FieldVisitor, Part, Pieces, Scratch};
use crate::timestamp;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Set by the Lambda integration: its own records replace `lambda_runtime`'s duplicate
/// "user handler panicked" / Debug-formatted handler-error lines.
pub(crate) static SUPPRESS_RUNTIME_ERRORS: AtomicBool = AtomicBool::new(false);

/// Fields of an ordinary span, flattened into records logged inside it (scoped keys).
struct SpanFields(Pieces);

struct Sampler {
    kind: SamplerKind,
    state: u64,
    index: usize,
}

impl Sampler {
    fn next_unit(&mut self) -> f64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn decide(&mut self, rate: f64, trace_root: Option<&str>) -> bool {
        if rate <= 0.0 {
            return false;
        }
        match &self.kind {
            SamplerKind::Sequence(seq) => {
                let d = seq
                    .get(self.index % seq.len().max(1))
                    .copied()
                    .unwrap_or(false);
                self.index += 1;
                d
            }
            _ if rate >= 1.0 => true,
            SamplerKind::Coherent(_) if trace_root.is_some() => {
                // FNV-1a of the trace root: every function on the trace draws the same value.
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for b in trace_root.unwrap_or("").bytes() {
                    h ^= u64::from(b);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
                ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
            }
            _ => self.next_unit() < rate,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) cfg: Resolved,
    level_pieces: [Vec<u8>; 6],
    service_piece: Vec<u8>,
    sampling_piece: Option<Vec<u8>>,
    persistent: RwLock<Vec<(String, Vec<u8>)>>,
    has_persistent: AtomicBool,
    /// Request id of the first invocation (the cold start). Keyed by request id because
    /// the runtime's own span and ours may both describe that invocation.
    cold_owner: Mutex<Option<String>>,
    sampler: Mutex<Sampler>,
    warned: Mutex<Vec<String>>,
    /// Lowest level rank any event could be emitted (or buffered) at.
    min_rank: u8,
}

/// The Powertools-compatible `tracing` layer. Build it with
/// [`PowertoolsLayer::builder`](crate::PowertoolsLayer::builder) and add it to a registry:
/// `tracing_subscriber::registry().with(layer)`. It never installs itself globally
/// (see [`init`](crate::init) for that).
#[derive(Clone)]
pub struct PowertoolsLayer {
    shared: Arc<Shared>,
}

/// A handle to a built layer for changing persistent keys and flushing at run time.
#[derive(Clone)]
pub struct LoggerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PowertoolsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowertoolsLayer")
            .field("service", &self.shared.cfg.service)
            .field("profile", &self.shared.cfg.profile)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LoggerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggerHandle").finish_non_exhaustive()
    }
}

fn piece(name: &str, value: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    json::string(&mut v, name);
    v.push(b':');
    value(&mut v);
    v
}

/// Runs `f` with the layer of the current default subscriber, if it has one.
pub(crate) fn with_layer<R>(f: impl FnOnce(&PowertoolsLayer) -> R) -> Option<R> {
    let mut f = Some(f);
    tracing::dispatcher::get_default(|d| {
        let layer = d.downcast_ref::<PowertoolsLayer>()?;
        f.take().map(|f| f(layer))
    })
}

impl LoggerHandle {
    /// Adds or replaces a key printed on every record of every invocation.
    pub fn append_key(&self, name: impl Into<String>, value: impl Into<serde_json::Value>) {
        let name = name.into();
        let mut rendered = Vec::new();
        json::value(&mut rendered, &value.into());
        let mut keys = self
            .shared
            .persistent
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match keys.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = rendered,
            None => keys.push((name, rendered)),
        }
        self.shared.has_persistent.store(true, Ordering::Release);
    }

    /// Removes a persistent key. Returns whether it existed.
    pub fn remove_key(&self, name: &str) -> bool {
        let mut keys = self
            .shared
            .persistent
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let before = keys.len();
        keys.retain(|(k, _)| k != name);
        self.shared
            .has_persistent
            .store(!keys.is_empty(), Ordering::Release);
        before != keys.len()
    }

    /// Flushes the writer.
    pub fn flush(&self) {
        self.shared.cfg.writer.flush();
    }
}

impl PowertoolsLayer {
    /// A builder; unset settings come from the environment.
    pub fn builder() -> crate::LoggerBuilder {
        crate::LoggerBuilder::default()
    }

    /// A handle for persistent keys and flushing.
    pub fn handle(&self) -> LoggerHandle {
        LoggerHandle {
            shared: self.shared.clone(),
        }
    }

    pub(crate) fn from_config(cfg: Resolved) -> Self {
        let profile = cfg.profile;
        let level_pieces = Level::ALL.map(|l| piece("level", |o| json::string(o, l.name(profile))));
        let service_piece = piece("service", |o| json::string(o, &cfg.service));
        let sampling_piece = cfg
            .sampling_rate_json
            .as_ref()
            .map(|v| piece("sampling_rate", |o| o.extend_from_slice(v)));
        let persistent: Vec<(String, Vec<u8>)> = cfg
            .persistent
            .iter()
            .map(|(k, v)| {
                let mut r = Vec::new();
                json::value(&mut r, v);
                (k.clone(), r)
            })
            .collect();
        let mut min_rank = cfg.level;
        if cfg.sample_rate > 0.0 {
            min_rank = min_rank.min(cfg.sample_level);
        }
        if let Some(b) = &cfg.buffer {
            min_rank = min_rank.min(b.buffer_at.rank());
            // Buffering holds everything at or below `buffer_at`, down to the floor.
            min_rank = min_rank.min(cfg.floor);
        }
        let min_rank = min_rank.max(cfg.floor);
        let seed = match cfg.sampler {
            SamplerKind::Random(s) | SamplerKind::Coherent(s) => s,
            SamplerKind::Sequence(_) => 0,
        };
        let shared = Shared {
            has_persistent: AtomicBool::new(!persistent.is_empty()),
            persistent: RwLock::new(persistent),
            cold_owner: Mutex::new(None),
            sampler: Mutex::new(Sampler {
                kind: cfg.sampler.clone(),
                state: seed,
                index: 0,
            }),
            warned: Mutex::new(Vec::new()),
            min_rank,
            level_pieces,
            service_piece,
            sampling_piece,
            cfg,
        };
        let layer = Self {
            shared: Arc::new(shared),
        };
        if layer.shared.cfg.level < OFF {
            for (msg, var, value) in layer.shared.cfg.warnings.clone() {
                layer.emit_internal(
                    Level::Warn,
                    None,
                    &msg,
                    &[("variable", &var), ("value", &value)],
                );
            }
        }
        layer
    }

    pub(crate) fn target_capped(&self, target: &str) -> bool {
        self.shared.cfg.third_party.iter().any(|p| {
            target.starts_with(p.as_str())
                && matches!(target.as_bytes().get(p.len()), None | Some(b':'))
        })
    }

    fn callsite_enabled(&self, meta: &Metadata<'_>) -> bool {
        if meta.is_span() {
            return self.shared.cfg.level < OFF || self.shared.cfg.floor < OFF;
        }
        let mut lvl = Level::from_tracing(meta.level()).rank();
        if lvl == Level::Error.rank() && meta.fields().field(record::FATAL_FIELD).is_some() {
            lvl = Level::Fatal.rank();
        }
        let cfg = &self.shared.cfg;
        if lvl < cfg.floor || lvl < self.shared.min_rank || lvl >= OFF {
            return false;
        }
        if lvl < Level::Warn.rank() && self.target_capped(meta.target()) {
            return false;
        }
        true
    }

    pub(crate) fn flush_writer(&self) {
        self.shared.cfg.writer.flush();
    }

    fn write(&self, rec: &[u8]) {
        if self.shared.cfg.pretty {
            let mut p = Vec::with_capacity(rec.len() * 2);
            json::pretty(rec, &mut p);
            self.shared.cfg.writer.write_record(&p);
        } else {
            self.shared.cfg.writer.write_record(rec);
        }
    }

    /// Writes out an invocation's buffered records, preceded by the eviction notice.
    pub(crate) fn flush_invocation(&self, inv: &Invocation) {
        let (records, evicted, evicted_bytes) = inv.lock().buffer.take();
        if evicted > 0 {
            let n = evicted.to_string();
            let b = evicted_bytes.to_string();
            self.emit_internal(
                Level::Warn,
                Some(inv),
                "some buffered log records were evicted before the flush because the buffer was full",
                &[("evicted_records", &n), ("evicted_bytes", &b)],
            );
        }
        for r in records {
            self.write(&r);
        }
    }

    /// A record produced by the library itself (warnings): no `location`.
    fn emit_internal(
        &self,
        level: Level,
        inv: Option<&Invocation>,
        message: &str,
        fields: &[(&str, &str)],
    ) {
        let mut s = Scratch::default();
        self.render(
            &mut s,
            level,
            None,
            inv,
            &[],
            |_| {},
            Some((message, fields)),
        );
        self.write(&s.out);
    }

    fn warn_reserved(&self, s: &Scratch, inv: Option<&Invocation>) {
        for name in &s.reserved_hits {
            let first = {
                let mut w = self
                    .shared
                    .warned
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if w.iter().any(|n| n == name) {
                    false
                } else {
                    w.push(name.clone());
                    true
                }
            };
            if first {
                let renamed = format!("field_{name}");
                self.emit_internal(
                    Level::Warn,
                    inv,
                    "a log key used a reserved name and was renamed",
                    &[("key", name), ("renamed_to", &renamed)],
                );
            }
        }
    }

    /// Renders one record into `s.out`.
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        s: &mut Scratch,
        level: Level,
        meta: Option<(&'static Metadata<'static>, bool)>,
        inv: Option<&Invocation>,
        spans: &[&Pieces],
        visit: impl FnOnce(&mut FieldVisitor<'_>),
        internal: Option<(&str, &[(&str, &str)])>,
    ) {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        let profile = cfg.profile;
        let micros = cfg.clock.now_micros();
        s.reset();

        // User keys, in group order: persistent, invocation, scoped, per call.
        if sh.has_persistent.load(Ordering::Acquire) {
            let keys = sh.persistent.read().unwrap_or_else(PoisonError::into_inner);
            for (k, v) in keys.iter() {
                s.add_user_rendered(k, v);
            }
        }
        s.aux.clear();
        let mut has_corr = false;
        if let Some(inv) = inv {
            let st = inv.lock();
            for (k, v) in &st.keys {
                s.add_user_rendered(k, v);
            }
            if let Some(c) = &st.correlation {
                s.aux.extend_from_slice(c);
                has_corr = true;
            }
        }
        for p in spans {
            for e in &p.entries {
                let name = p
                    .buf
                    .get(e.name.0 as usize..e.name.1 as usize)
                    .unwrap_or(&[]);
                let value_start = e.name.1 as usize + 2;
                let value = p.buf.get(value_start..e.piece.1 as usize).unwrap_or(&[]);
                let name = std::str::from_utf8(name).unwrap_or("");
                s.add_user_rendered(name, value);
            }
        }
        let (file, line) = match meta {
            Some((m, _)) => (m.file(), m.line()),
            None => (None, None),
        };
        {
            let mut v = FieldVisitor {
                s: &mut *s,
                profile,
                internal: meta.is_some_and(|(_, internal)| internal),
                file,
                line,
            };
            visit(&mut v);
        }
        if let Some((message, fields)) = internal {
            let start = s.kv.len() as u32;
            json::string(&mut s.kv, message);
            s.message = Some((start, s.kv.len() as u32));
            for (k, v) in fields {
                s.add_user(k, |o| json::string(o, v));
            }
        }
        let level = if s.fatal { Level::Fatal } else { level };

        // Built-in keys.
        let message = s.raw_message.or(s.message);
        let add_message = |s: &mut Scratch| {
            let start = s.kv.len() as u32;
            s.kv.extend_from_slice(b"\"message\":");
            match message {
                Some((a, b)) => s.kv.extend_from_within(a as usize..b as usize),
                None => s.kv.extend_from_slice(b"\"\""),
            }
            let end = s.kv.len() as u32;
            s.kv.push(b',');
            s.head.push(record::Entry {
                name: (start + 1, start + 8),
                piece: (start, end),
            });
        };
        let add_location = |s: &mut Scratch| {
            if !cfg.location || meta.is_none() {
                return;
            }
            let over = s.location_override;
            let start = s.kv.len() as u32;
            s.kv.extend_from_slice(b"\"location\":\"");
            match over {
                Some((a, b)) => {
                    let v = s.kv[a as usize..b as usize].to_vec();
                    let text = String::from_utf8_lossy(&v).into_owned();
                    json::escape_into(&mut s.kv, &text);
                }
                None => {
                    json::escape_into(&mut s.kv, file.unwrap_or("unknown"));
                    s.kv.push(b':');
                    json::int(&mut s.kv, line.unwrap_or(0));
                }
            }
            s.kv.push(b'"');
            let end = s.kv.len() as u32;
            s.kv.push(b',');
            s.head.push(record::Entry {
                name: (start + 1, start + 9),
                piece: (start, end),
            });
        };
        let level_piece = &sh.level_pieces[level as usize];
        let add_ts = |s: &mut Scratch| {
            s.add(Part::Head, "timestamp", |o| {
                timestamp::write(o, micros, cfg.timestamp)
            })
        };
        match profile {
            Profile::Lambda => {
                add_ts(s);
                s.add_raw(Part::Head, level_piece, 5);
                add_message(s);
                if let Some(inv) = inv {
                    s.add_pieces(Part::Head, &inv.builtins);
                }
            }
            Profile::PowertoolsTs => {
                s.add_raw(Part::Head, level_piece, 5);
                add_message(s);
                add_ts(s);
                s.add_raw(Part::Head, &sh.service_piece, 7);
                if let Some(inv) = inv {
                    s.add_pieces(Part::Head, &inv.builtins);
                }
                if let Some(p) = &sh.sampling_piece {
                    s.add_raw(Part::Head, p, 13);
                }
                if let Some(x) = inv.and_then(|i| i.xray.as_ref()) {
                    s.add_raw(Part::Head, x, 13);
                }
            }
            Profile::Powertools | Profile::PowertoolsPython => {
                s.add_raw(Part::Head, level_piece, 5);
                add_location(s);
                add_message(s);
                add_ts(s);
                s.add_raw(Part::Head, &sh.service_piece, 7);
                if let Some(p) = &sh.sampling_piece {
                    s.add_raw(Part::Head, p, 13);
                }
                if let Some(inv) = inv {
                    s.add_pieces(Part::Head, &inv.builtins);
                }
            }
        }
        if has_corr {
            let aux = std::mem::take(&mut s.aux);
            s.add(Part::Head, "correlation_id", |o| o.extend_from_slice(&aux));
            s.aux = aux;
        }

        // Tail: panic error object, then the trace id.
        if s.panic && !s.has_error {
            let msg = match s.message {
                Some(r) => serde_json::from_slice::<String>(&s.kv[r.0 as usize..r.1 as usize])
                    .unwrap_or_default(),
                None => String::new(),
            };
            let mut info = ErrorInfo::from_text("Panic", &msg);
            if let Some(bt) = s.backtrace {
                info.frames = errors::parse_backtrace(s.text(bt));
            }
            let (pf, pl) = match s.location_override.map(|r| s.text(r).to_owned()) {
                Some(loc) => match loc.rsplit_once(':') {
                    Some((f, l)) => (Some(f.to_owned()), l.parse().ok()),
                    None => (Some(loc), None),
                },
                None => (file.map(str::to_owned), line),
            };
            errors::render(s, profile, &info, pf.as_deref(), pl);
        }
        if !matches!(profile, Profile::PowertoolsTs | Profile::Lambda) {
            match inv.and_then(|i| i.xray.as_ref()) {
                Some(x) => s.add_raw(Part::Tail, x, 13),
                None if inv.is_none() && cfg.env_trace_fallback => {
                    if let Some(root) = std::env::var("_X_AMZN_TRACE_ID")
                        .ok()
                        .as_deref()
                        .and_then(invocation::trace_root)
                    {
                        s.add(Part::Tail, "xray_trace_id", |o| json::string(o, root));
                    }
                }
                None => {}
            }
        }

        if cfg.text_output {
            self.assemble_text(s, level, micros, inv);
            return;
        }
        s.assemble(&cfg.first_keys);
        if s.out.len() > cfg.max_record_bytes {
            s.shrink_to(cfg.max_record_bytes, &cfg.first_keys);
        }
    }

    /// Lambda's text shape: `[LEVEL]\t<timestamp>\t<request id>\t<message> k=v…`.
    fn assemble_text(&self, s: &mut Scratch, level: Level, micros: i64, inv: Option<&Invocation>) {
        let mut out = std::mem::take(&mut s.out);
        out.clear();
        out.push(b'[');
        out.extend_from_slice(level.name(Profile::Powertools).as_bytes());
        out.extend_from_slice(b"]\t");
        let mut ts = Vec::new();
        timestamp::write(&mut ts, micros, crate::TimestampFormat::Rfc3339Millis);
        out.extend_from_slice(ts.get(1..ts.len().saturating_sub(1)).unwrap_or(&[]));
        out.push(b'\t');
        out.extend_from_slice(
            inv.and_then(|i| i.request_id.as_deref())
                .unwrap_or("")
                .as_bytes(),
        );
        out.push(b'\t');
        if let Some((a, b)) = s.message {
            // The escaped form keeps one record on one line.
            out.extend_from_slice(
                s.kv.get(a as usize + 1..(b as usize).saturating_sub(1))
                    .unwrap_or(&[]),
            );
        }
        for e in s.user.iter().chain(s.tail.iter()) {
            out.push(b' ');
            out.extend_from_slice(s.entry_name(e));
            out.push(b'=');
            let value_start = e.name.1 as usize + 2;
            out.extend_from_slice(s.kv.get(value_start..e.piece.1 as usize).unwrap_or(&[]));
        }
        out.push(b'\n');
        s.out = out;
    }

    fn handle_event<S>(&self, s: &mut Scratch, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        let target = meta.target();
        if SUPPRESS_RUNTIME_ERRORS.load(Ordering::Relaxed)
            && target.starts_with("lambda_runtime::layers::panic")
        {
            return;
        }
        let mut level = Level::from_tracing(meta.level());
        if level == Level::Error && meta.fields().field(record::FATAL_FIELD).is_some() {
            level = Level::Fatal;
        }
        if level.rank() < cfg.floor {
            return;
        }

        // Scope: scoped spans (leaf first) up to the invocation span.
        const MAX_SPANS: usize = 8;
        let mut scoped: [Option<tracing_subscriber::registry::SpanRef<'_, S>>; MAX_SPANS] =
            [const { None }; MAX_SPANS];
        let mut n_scoped = 0;
        let mut inv_span = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                // Decided from metadata so each span's extensions are locked only once.
                let m = span.metadata();
                if is_invocation_span(m) {
                    inv_span = Some(span);
                    break;
                }
                if !m.fields().is_empty() && n_scoped < MAX_SPANS {
                    scoped[n_scoped] = Some(span);
                    n_scoped += 1;
                }
            }
        }
        let inv_ext = inv_span.as_ref().map(|s| s.extensions());
        let inv: Option<&Invocation> = inv_ext
            .as_ref()
            .and_then(|e| e.get::<Arc<Invocation>>())
            .map(|a| &**a);

        let sampled = inv.is_some_and(|i| i.sampled);
        let effective = if sampled { cfg.sample_level } else { cfg.level };
        let buffering = match (&cfg.buffer, inv) {
            (Some(b), Some(_)) => level <= b.buffer_at && !sampled,
            _ => false,
        };
        if !buffering && level.rank() < effective {
            return;
        }

        let mut guards = [const { None }; MAX_SPANS];
        for i in 0..n_scoped {
            if let Some(span) = &scoped[n_scoped - 1 - i] {
                guards[i] = Some(span.extensions());
            }
        }
        let mut pieces: [Option<&Pieces>; MAX_SPANS] = [None; MAX_SPANS];
        for i in 0..n_scoped {
            pieces[i] = guards[i]
                .as_ref()
                .and_then(|g| g.get::<SpanFields>())
                .map(|f| &f.0);
        }
        let mut span_list: [&Pieces; MAX_SPANS] = [EMPTY_PIECES; MAX_SPANS];
        let mut n = 0;
        for p in pieces.iter().take(n_scoped).flatten() {
            span_list[n] = p;
            n += 1;
        }

        let internal = target.starts_with("lookout_logger");
        self.render(
            s,
            level,
            Some((meta, internal)),
            inv,
            &span_list[..n],
            |v| event.record(v),
            None,
        );
        let level = if s.fatal { Level::Fatal } else { level };

        match (inv, &cfg.buffer) {
            (Some(inv), Some(b)) if buffering => {
                let rec = s.out.clone();
                let overflow = inv.lock().buffer.push(rec, b.max_bytes);
                if let Some(rec) = overflow {
                    self.write(&rec);
                }
            }
            (Some(inv), Some(b)) if level >= Level::Error && b.flush_on_error_log => {
                self.flush_invocation(inv);
                self.write(&s.out);
            }
            _ => self.write(&s.out),
        }
        if !s.reserved_hits.is_empty() {
            self.warn_reserved(s, inv);
        }
    }

    fn new_invocation(&self, init: InvocationInit) -> Invocation {
        let sh = &*self.shared;
        let lambda = init.function_name.is_some() || init.function_arn.is_some();
        let cold = lambda && !sh.cfg.no_cold_start && {
            let mut owner = sh.cold_owner.lock().unwrap_or_else(PoisonError::into_inner);
            match (&*owner, &init.request_id) {
                (None, id) => {
                    *owner = Some(id.clone().unwrap_or_default());
                    true
                }
                (Some(first), Some(id)) => first == id,
                (Some(_), None) => false,
            }
        };
        let root = init
            .trace_header
            .as_deref()
            .and_then(invocation::trace_root)
            .map(str::to_owned);
        let sampled = sh
            .sampler
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .decide(sh.cfg.sample_rate, root.as_deref());
        Invocation::new(
            init,
            sh.cfg.profile,
            cold,
            sampled,
            sh.cfg.memory_as_string,
            sh.cfg.function_version,
        )
    }
}

fn is_invocation_span(m: &Metadata<'_>) -> bool {
    (m.name() == invocation::SPAN_NAME && m.target() == invocation::TARGET)
        || (m.name() == invocation::RUNTIME_SPAN_NAME && m.target().starts_with("lambda_runtime"))
}

static EMPTY_PIECES: &Pieces = &Pieces {
    buf: Vec::new(),
    entries: Vec::new(),
};

impl<S> Layer<S> for PowertoolsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.callsite_enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.callsite_enabled(meta)
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        let sh = &*self.shared;
        // Spans of the invocation scope are ERROR spans, so this never hides them.
        Some(Level::to_tracing_filter(sh.min_rank))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let meta = attrs.metadata();
        let is_runtime = meta.name() == invocation::RUNTIME_SPAN_NAME;
        if is_invocation_span(meta) {
            let mut init = InvocationInit::default();
            attrs.record(&mut init);
            if is_runtime {
                let env = &self.shared.cfg.env;
                init.function_name = env.var("AWS_LAMBDA_FUNCTION_NAME");
                init.memory_mb = env
                    .var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                    .and_then(|m| m.trim().parse().ok());
                init.function_version = env.var("AWS_LAMBDA_FUNCTION_VERSION");
            }
            let inv = self.new_invocation(init);
            span.extensions_mut().insert(Arc::new(inv));
            return;
        }
        if meta.fields().is_empty() {
            return;
        }
        let mut s = Scratch::default();
        {
            let mut v = FieldVisitor {
                s: &mut s,
                profile: self.shared.cfg.profile,
                internal: false,
                file: meta.file(),
                line: meta.line(),
            };
            attrs.record(&mut v);
        }
        span.extensions_mut().insert(SpanFields(Pieces {
            buf: s.kv,
            entries: s.user,
        }));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if ext.get_mut::<Arc<Invocation>>().is_some() {
            return;
        }
        let Some(fields) = ext.get_mut::<SpanFields>() else {
            return;
        };
        let mut s = Scratch {
            kv: std::mem::take(&mut fields.0.buf),
            user: std::mem::take(&mut fields.0.entries),
            ..Scratch::default()
        };
        {
            let mut v = FieldVisitor {
                s: &mut s,
                profile: self.shared.cfg.profile,
                internal: false,
                file: None,
                line: None,
            };
            values.record(&mut v);
        }
        fields.0 = Pieces {
            buf: s.kv,
            entries: s.user,
        };
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let done = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => {
                self.handle_event(&mut s, event, &ctx);
                true
            }
            Err(_) => false,
        });
        if done != Ok(true) {
            // Re-entered from inside a write, or during thread teardown.
            self.handle_event(&mut Scratch::default(), event, &ctx);
        }
    }
}

impl PowertoolsLayer {
    /// The most verbose `log` level this layer can emit.
    #[cfg(feature = "log")]
    pub(crate) fn log_level_filter(&self) -> log::LevelFilter {
        match self.shared.min_rank {
            0 => log::LevelFilter::Trace,
            1 => log::LevelFilter::Debug,
            2 => log::LevelFilter::Info,
            3 => log::LevelFilter::Warn,
            4 | 5 => log::LevelFilter::Error,
            _ => log::LevelFilter::Off,
        }
    }
}

impl PowertoolsLayer {
    /// Whether a handler error should flush the invocation's debug buffer.
    #[cfg(feature = "lambda")]
    pub(crate) fn flush_on_handler_error(&self) -> bool {
        self.shared
            .cfg
            .buffer
            .is_some_and(|b| b.flush_on_handler_error)
    }

    /// `POWERTOOLS_LOGGER_LOG_EVENT` as the layer's environment source sees it.
    #[cfg(feature = "lambda")]
    pub(crate) fn env_log_event(&self) -> Option<bool> {
        let mut ignored = Vec::new();
        crate::config::env_flag(
            &self.shared.cfg.env,
            "POWERTOOLS_LOGGER_LOG_EVENT",
            &mut ignored,
        )
    }
}
