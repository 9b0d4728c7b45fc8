//! The `tracing` layer: level decisions, invocation scope lookup, record rendering,
//! buffering and writing.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::subscriber::Interest;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{Resolved, SamplerKind};
use crate::invocation::{self, Invocation, InvocationInit};
use crate::json;
use crate::level::{Level, OFF};
use crate::record::{self, FieldVisitor, Pieces, Scratch};
use crate::render::Site;
use crate::scope;
use crate::template::{self, Templates};

thread_local! {
    /// The thread's scratch, its callsite templates and the invocation of its last record
    /// (released by the thread's next record outside it; until then it only holds memory).
    static SCRATCH: RefCell<(Scratch, Templates, Option<Arc<Invocation>>)> =
        RefCell::new(Default::default());
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
    pub(crate) level_pieces: [Vec<u8>; 6],
    /// Whether the configuration lets records take the direct path (`direct.rs`): it is
    /// on, the output is JSON and no key order is configured.
    pub(crate) direct: bool,
    /// `{` + the level piece + `,`, zero-padded: how the direct path opens a record with
    /// one constant-size copy.
    pub(crate) level_heads: [[u8; 32]; 6],
    pub(crate) level_head_lens: [usize; 6],
    pub(crate) service_piece: Vec<u8>,
    pub(crate) sampling_piece: Option<Vec<u8>>,
    /// The static keys of a record outside any invocation (see `static_block`).
    pub(crate) base_block: Vec<u8>,
    pub(crate) persistent: RwLock<Vec<(String, Vec<u8>)>>,
    pub(crate) has_persistent: AtomicBool,
    /// Bumped on every change of `persistent`, so a rendering of them can be cached.
    pub(crate) persistent_gen: AtomicU64,
    /// Unique per layer in the process (caches keyed by it never see a reused address).
    pub(crate) uid: u64,
    /// Request id of the first invocation (the cold start). Keyed by request id because
    /// the runtime's own span and ours may both describe that invocation.
    cold_owner: Mutex<Option<String>>,
    sampler: Mutex<Sampler>,
    warned: Mutex<Vec<String>>,
    /// Lowest level rank any event could be emitted (or buffered) at.
    min_rank: u8,
    /// Lowest level rank sampling or buffering can emit (OFF when neither is on).
    extra_rank: u8,
}

/// The Powertools-compatible `tracing` layer. Build it with
/// [`PowertoolsLayer::builder`](crate::PowertoolsLayer::builder) and add it to a registry:
/// `tracing_subscriber::registry().with(layer)`. It never installs itself globally
/// (see [`init`](crate::init) for that).
#[derive(Clone)]
pub struct PowertoolsLayer {
    pub(crate) shared: Arc<Shared>,
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
        self.shared.persistent_gen.fetch_add(1, Ordering::AcqRel);
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
        self.shared.persistent_gen.fetch_add(1, Ordering::AcqRel);
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
        let level_head = |p: &Vec<u8>| {
            let mut a = [0u8; 32];
            let n = p.len() + 2;
            if let Some(dst) = a.get_mut(..n) {
                dst[0] = b'{';
                dst[1..n - 1].copy_from_slice(p);
                dst[n - 1] = b',';
            }
            a
        };
        let level_heads = level_pieces.each_ref().map(level_head);
        let level_head_lens = level_pieces.each_ref().map(|p| p.len() + 2);
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
        let mut extra_rank = OFF;
        if cfg.sample_rate > 0.0 {
            extra_rank = extra_rank.min(cfg.sample_level);
        }
        if let Some(b) = &cfg.buffer {
            extra_rank = extra_rank.min(b.buffer_at.rank());
            // Buffering holds everything at or below `buffer_at`, down to the floor.
            extra_rank = extra_rank.min(cfg.floor);
        }
        let extra_rank = extra_rank.max(cfg.floor);
        let directive_min = cfg.directives.iter().map(|d| d.1).min().unwrap_or(OFF);
        let min_rank = cfg.level.min(extra_rank).min(directive_min).max(cfg.floor);
        let seed = match cfg.sampler {
            SamplerKind::Random(s) | SamplerKind::Coherent(s) => s,
            SamplerKind::Sequence(_) => 0,
        };
        let shared = Shared {
            has_persistent: AtomicBool::new(!persistent.is_empty()),
            persistent_gen: AtomicU64::new(0),
            uid: {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Ordering::Relaxed)
            },
            persistent: RwLock::new(persistent),
            cold_owner: Mutex::new(None),
            sampler: Mutex::new(Sampler {
                kind: cfg.sampler.clone(),
                state: seed,
                index: 0,
            }),
            warned: Mutex::new(Vec::new()),
            min_rank,
            extra_rank,
            direct: cfg.direct && !cfg.text_output && cfg.first_keys.is_empty(),
            level_pieces,
            level_heads,
            level_head_lens,
            service_piece,
            sampling_piece,
            base_block: Vec::new(),
            cfg,
        };
        let mut shared = shared;
        shared.base_block = crate::render::static_block(&shared, None);
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

    /// Identity of this layer (shared by its clones) in the thread's scope mirror.
    fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
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
        if meta.target() == record::LOG_TARGET {
            // The `log` bridge's callsites serve every `log` target: the bridge decides per
            // record target (`log_enabled`), so here only the bounds of every target apply.
            let sh = &*self.shared;
            return lvl >= sh.cfg.floor && lvl >= sh.min_rank && lvl < OFF;
        }
        self.level_enabled(lvl, meta.target())
    }

    /// Whether an event at level rank `lvl` from `target` can be emitted or buffered.
    pub(crate) fn level_enabled(&self, lvl: u8, target: &str) -> bool {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        if lvl < cfg.floor || lvl < sh.min_rank || lvl >= OFF {
            return false;
        }
        if let Some(r) = self.directive_rank(target) {
            return lvl >= r.max(cfg.floor) || lvl >= sh.extra_rank;
        }
        if lvl < cfg.level.min(sh.extra_rank) {
            return false;
        }
        if lvl < Level::Warn.rank() && self.target_capped(target) {
            return false;
        }
        true
    }

    /// The level a `RUST_LOG`-style directive sets for `target` (longest match).
    fn directive_rank(&self, target: &str) -> Option<u8> {
        self.shared.cfg.directives.iter().find_map(|(p, r)| {
            (target.starts_with(p.as_str())
                && matches!(target.as_bytes().get(p.len()), None | Some(b':')))
            .then_some(*r)
        })
    }

    /// The level records of `target` are emitted at outside sampling: its directive, if
    /// any (never below the ALC floor), else the configured level.
    #[inline]
    fn level_for(&self, target: &str) -> u8 {
        let cfg = &self.shared.cfg;
        if cfg.directives.is_empty() {
            return cfg.level;
        }
        self.directive_rank(target)
            .map_or(cfg.level, |r| r.max(cfg.floor))
    }

    pub(crate) fn flush_writer(&self) {
        self.shared.cfg.writer.flush();
    }

    /// Hands a finished record to the writer, which may keep `rec`'s buffer (see
    /// [`RecordWriter::write_record_vec`](crate::RecordWriter::write_record_vec)).
    #[inline]
    fn write(&self, rec: &mut Vec<u8>) {
        if self.shared.cfg.pretty {
            self.write_pretty(rec);
        } else {
            self.shared.cfg.writer.write_record_vec(rec);
        }
    }

    /// [`write`](Self::write) in dev mode, kept out of line so the usual path stays small.
    #[cold]
    #[inline(never)]
    fn write_pretty(&self, rec: &[u8]) {
        let mut p = Vec::with_capacity(rec.len() * 2);
        json::pretty(rec, &mut p);
        self.shared.cfg.writer.write_record_vec(&mut p);
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
        for mut r in records {
            self.write(&mut r);
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
        self.write(&mut s.out);
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

    /// Renders and writes one event. `held` is the thread's last invocation (kept beside
    /// the scratch, see [`scope::top`]).
    fn handle_event<S>(
        &self,
        s: &mut Scratch,
        held: &mut Option<Arc<Invocation>>,
        templates: Option<&mut Templates>,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
    ) where
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
        // A `log` record is filtered by its own target, which the bridge passes as a field.
        let bridged = (target == record::LOG_TARGET).then(|| record::bridged_target(event));
        let level_target = bridged.as_deref().unwrap_or(target);

        // Scope: the invocation, and whether spans with fields lie below it. The thread's
        // mirror of entered spans answers for records in the current context; otherwise
        // (explicit parent, scoped spans) the registry is walked.
        let mut n_scoped = 0;
        let mirrored = if event.is_contextual() {
            match scope::top(self.id(), held) {
                Some(scope::Top::Nothing) => {
                    *held = None;
                    true
                }
                Some(scope::Top::Invocation) => true,
                Some(scope::Top::Scoped) | None => false,
            }
        } else {
            false
        };
        if !mirrored {
            let mut found = None;
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope {
                    // Decided from metadata so each span's extensions are locked only once.
                    let m = span.metadata();
                    if is_invocation_span(m) {
                        found = span.extensions().get::<Arc<Invocation>>().cloned();
                        break;
                    }
                    if !m.fields().is_empty() {
                        n_scoped += 1;
                    }
                }
            }
            *held = found;
        }
        let inv: Option<&Invocation> = held.as_deref();

        let sampled = inv.is_some_and(|i| i.sampled);
        let effective = if sampled {
            cfg.sample_level
        } else {
            self.level_for(level_target)
        };
        let buffering = match (&cfg.buffer, inv) {
            (Some(b), Some(_)) => level <= b.buffer_at && !sampled,
            _ => false,
        };
        if !buffering && level.rank() < effective {
            return;
        }

        let tpl = templates.and_then(|t| t.get(meta));
        let site = Site {
            meta,
            internal: tpl.map_or_else(|| template::is_internal(target), |t| t.internal),
            tpl,
        };
        if n_scoped == 0 {
            if !self.render_direct(s, level, site, inv, event) {
                self.render(s, level, Some(site), inv, &[], |v| event.record(v), None);
            }
        } else {
            self.render_scoped(s, level, site, inv, event, ctx);
        }
        let level = if s.fatal { Level::Fatal } else { level };

        match (inv, &cfg.buffer) {
            (Some(inv), Some(b)) if buffering => {
                let rec = s.out.clone();
                let overflow = inv.lock().buffer.push(rec, b.max_bytes);
                if let Some(mut rec) = overflow {
                    self.write(&mut rec);
                }
            }
            (Some(inv), Some(b)) if level >= Level::Error && b.flush_on_error_log => {
                self.flush_invocation(inv);
                self.write(&mut s.out);
            }
            _ => self.write(&mut s.out),
        }
        if !s.reserved_hits.is_empty() {
            self.warn_reserved(s, inv);
        }
    }

    /// [`render`](Self::render) for an event inside spans with fields: their keys are
    /// flattened into the record, outermost first.
    fn render_scoped<S>(
        &self,
        s: &mut Scratch,
        level: Level,
        site: Site<'_>,
        inv: Option<&Invocation>,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        const MAX_SPANS: usize = 8;
        let mut scoped: [Option<tracing_subscriber::registry::SpanRef<'_, S>>; MAX_SPANS] =
            [const { None }; MAX_SPANS];
        let mut n_scoped = 0;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let m = span.metadata();
                if is_invocation_span(m) {
                    break;
                }
                if !m.fields().is_empty() && n_scoped < MAX_SPANS {
                    scoped[n_scoped] = Some(span);
                    n_scoped += 1;
                }
            }
        }
        let mut guards = [const { None }; MAX_SPANS];
        for i in 0..n_scoped {
            if let Some(span) = &scoped[n_scoped - 1 - i] {
                guards[i] = Some(span.extensions());
            }
        }
        let mut span_list: [&Pieces; MAX_SPANS] = [EMPTY_PIECES; MAX_SPANS];
        let mut n = 0;
        for g in guards.iter().take(n_scoped).flatten() {
            if let Some(f) = g.get::<SpanFields>() {
                span_list[n] = &f.0;
                n += 1;
            }
        }
        self.render(
            s,
            level,
            Some(site),
            inv,
            &span_list[..n],
            |v| event.record(v),
            None,
        );
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
        let mut inv = Invocation::new(
            init,
            sh.cfg.profile,
            cold,
            sampled,
            sh.cfg.memory_as_string,
            sh.cfg.function_version,
        );
        inv.block = crate::render::static_block(sh, Some(&inv));
        inv
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
            // Lambda may have frozen or restored the process since the last invocation.
            crate::clock::new_epoch();
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
                tpl: None,
                backtraces: false,
            };
            attrs.record(&mut v);
        }
        span.extensions_mut().insert(SpanFields(Pieces {
            buf: s.kv,
            entries: s.user,
        }));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let meta = span.metadata();
        if is_invocation_span(meta) {
            let inv = span.extensions().get::<Arc<Invocation>>().cloned();
            if inv.is_some() {
                scope::push(self.id(), id.into_u64(), inv);
            }
        } else if !meta.fields().is_empty() {
            scope::push(self.id(), id.into_u64(), None);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let relevant = ctx
            .metadata(id)
            .is_some_and(|m| is_invocation_span(m) || !m.fields().is_empty());
        if relevant {
            scope::pop(self.id(), id.into_u64());
        }
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
        let mut s = Scratch::from_pieces(std::mem::take(&mut fields.0));
        {
            let mut v = FieldVisitor {
                s: &mut s,
                profile: self.shared.cfg.profile,
                internal: false,
                file: None,
                line: None,
                tpl: None,
                backtraces: false,
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
            Ok(mut guard) => {
                let (s, templates, held) = &mut *guard;
                self.handle_event(s, held, Some(templates), event, &ctx);
                true
            }
            Err(_) => false,
        });
        if done != Ok(true) {
            // Re-entered from inside a write, or during thread teardown.
            self.handle_event(&mut Scratch::default(), &mut None, None, event, &ctx);
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
