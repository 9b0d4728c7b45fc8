//! The invocation scope: one span per invocation (or unit of work) whose extensions hold
//! everything records need — request id, trace id, cold start, sampling decision,
//! correlation id, invocation keys and the debug buffer. No process-wide "current
//! invocation" exists, so concurrent invocations in one process never see each other.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::config::Profile;
use crate::json;
use crate::record::Pieces;

/// Target of the invocation span; the layer only treats spans with this target and name as
/// invocation scopes, so user spans can never be mistaken for one.
pub(crate) const TARGET: &str = "lookout_logger::invocation";
pub(crate) const SPAN_NAME: &str = "lambda_invocation";
/// The span `lambda_runtime` opens around each invocation when its own tracing is used.
pub(crate) const RUNTIME_SPAN_NAME: &str = "Lambda runtime invoke";

/// Describes one invocation (or unit of work outside Lambda) and opens its scope.
///
/// The Lambda integration builds this from the runtime's context; use it directly to give
/// non-Lambda work (an HTTP request, a queue message) its own correlation id, sampling
/// decision and debug buffer.
#[derive(Clone, Debug, Default)]
pub struct InvocationContext {
    request_id: Option<String>,
    function_name: Option<String>,
    function_arn: Option<String>,
    memory_mb: Option<i64>,
    function_version: Option<String>,
    tenant_id: Option<String>,
    trace_header: Option<String>,
    correlation_id: Option<String>,
}

impl InvocationContext {
    /// A scope for the request with this id.
    pub fn new(request_id: impl Into<String>) -> Self {
        Self {
            request_id: Some(request_id.into()),
            ..Self::default()
        }
    }

    /// A scope with no Lambda identity (a unit of work outside Lambda).
    pub fn unit_of_work() -> Self {
        Self::default()
    }

    /// `function_name`.
    pub fn function_name(mut self, v: impl Into<String>) -> Self {
        self.function_name = Some(v.into());
        self
    }

    /// `function_arn` (the invoked ARN, possibly qualified).
    pub fn function_arn(mut self, v: impl Into<String>) -> Self {
        self.function_arn = Some(v.into());
        self
    }

    /// `function_memory_size` in MB.
    pub fn memory_mb(mut self, v: i64) -> Self {
        self.memory_mb = Some(v);
        self
    }

    /// `function_version`, printed when the layer enables it.
    pub fn function_version(mut self, v: impl Into<String>) -> Self {
        self.function_version = Some(v.into());
        self
    }

    /// `tenant_id`.
    pub fn tenant_id(mut self, v: impl Into<String>) -> Self {
        self.tenant_id = Some(v.into());
        self
    }

    /// The X-Ray header (`Root=1-…;Parent=…;Sampled=…`) or a bare trace id.
    pub fn trace_header(mut self, v: impl Into<String>) -> Self {
        self.trace_header = Some(v.into());
        self
    }

    /// The correlation id resolved for this invocation.
    pub fn correlation_id(mut self, v: impl Into<String>) -> Self {
        self.correlation_id = Some(v.into());
        self
    }

    /// Opens the scope. Enter it (or `.instrument()` a future with it) for the duration of
    /// the invocation; everything logged inside gets the invocation's keys.
    pub fn span(&self) -> tracing::Span {
        // ERROR so that no level filter (ALC WARN/ERROR) can disable the scope.
        tracing::error_span!(
            target: "lookout_logger::invocation",
            "lambda_invocation",
            request_id = self.request_id.as_deref(),
            function_name = self.function_name.as_deref(),
            function_arn = self.function_arn.as_deref(),
            function_memory_size = self.memory_mb,
            function_version = self.function_version.as_deref(),
            tenant_id = self.tenant_id.as_deref(),
            xray_trace_id = self.trace_header.as_deref(),
            correlation_id = self.correlation_id.as_deref(),
        )
    }
}

/// Values read from the invocation span's fields.
#[derive(Default)]
pub(crate) struct InvocationInit {
    pub(crate) request_id: Option<String>,
    pub(crate) function_name: Option<String>,
    pub(crate) function_arn: Option<String>,
    pub(crate) memory_mb: Option<i64>,
    pub(crate) function_version: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) trace_header: Option<String>,
    pub(crate) correlation_id: Option<String>,
}

impl tracing::field::Visit for InvocationInit {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        let v = Some(value.to_owned());
        match field.name() {
            "request_id" | "requestId" => self.request_id = v,
            "function_name" => self.function_name = v,
            "function_arn" => self.function_arn = v,
            "function_version" => self.function_version = v,
            "tenant_id" => self.tenant_id = v,
            "xray_trace_id" | "xrayTraceId" => self.trace_header = v,
            "correlation_id" => self.correlation_id = v,
            "function_memory_size" => self.memory_mb = value.trim().parse().ok(),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        if field.name() == "function_memory_size" {
            self.memory_mb = Some(value);
        }
    }

    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "function_memory_size" {
            self.memory_mb = i64::try_from(value).ok();
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here; Debug of a DisplayValue is the Display text.
        self.record_str(field, &format!("{value:?}"));
    }
}

/// Extracts the `Root=` part of an X-Ray header; a bare id is returned as is.
pub(crate) fn trace_root(header: &str) -> Option<&str> {
    let header = header.trim();
    if header.is_empty() {
        return None;
    }
    if !header.contains('=') {
        return Some(header);
    }
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .filter(|r| !r.is_empty())
}

/// Per-invocation debug buffer.
#[derive(Default)]
pub(crate) struct Buffer {
    pub(crate) records: VecDeque<Vec<u8>>,
    pub(crate) bytes: usize,
    pub(crate) evicted_records: u64,
    pub(crate) evicted_bytes: u64,
}

impl Buffer {
    /// Appends a serialized record, evicting the oldest ones beyond `max`. Returns the
    /// record back when it alone is larger than `max` (it is then written immediately).
    pub(crate) fn push(&mut self, record: Vec<u8>, max: usize) -> Option<Vec<u8>> {
        if record.len() > max {
            return Some(record);
        }
        while self.bytes + record.len() > max {
            let Some(old) = self.records.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            self.evicted_records += 1;
            self.evicted_bytes += old.len() as u64;
        }
        self.bytes += record.len();
        self.records.push_back(record);
        None
    }

    pub(crate) fn take(&mut self) -> (Vec<Vec<u8>>, u64, u64) {
        let records = self.records.drain(..).collect();
        let ev = (self.evicted_records, self.evicted_bytes);
        *self = Buffer::default();
        (records, ev.0, ev.1)
    }

    pub(crate) fn clear(&mut self) {
        *self = Buffer::default();
    }
}

/// Mutable part of an invocation.
#[derive(Default)]
pub(crate) struct InvState {
    /// Rendered JSON value of `correlation_id`.
    pub(crate) correlation: Option<Vec<u8>>,
    pub(crate) correlation_raw: Option<String>,
    /// Invocation keys: name and rendered JSON value, in insertion order.
    pub(crate) keys: Vec<(String, Vec<u8>)>,
    /// Bumped on every change of `keys`, so a rendering of them can be cached.
    pub(crate) keys_gen: u64,
    pub(crate) buffer: Buffer,
}

/// Everything a record needs from its invocation.
pub(crate) struct Invocation {
    /// Built-in keys rendered once per invocation, in profile order (`cold_start` …
    /// `tenant_id`).
    pub(crate) builtins: Pieces,
    /// `service`, `sampling_rate` and `builtins` pre-joined in profile order (see
    /// `render::static_block`); what most records copy in one go.
    pub(crate) block: Vec<u8>,
    /// `"xray_trace_id":"…"` when a trace id is known.
    pub(crate) xray: Option<Vec<u8>>,
    /// [`xray`](Self::xray) followed by the record's closing `}` and newline: how the
    /// direct path ends a record in one copy.
    pub(crate) xray_end: Option<Vec<u8>>,
    pub(crate) request_id: Option<String>,
    pub(crate) trace_root: Option<String>,
    pub(crate) sampled: bool,
    /// Unique per invocation in the process (never reused, unlike an address).
    pub(crate) uid: u64,
    /// Whether `state` has ever held invocation keys or a correlation id: until then a
    /// record need not lock it.
    extras: AtomicBool,
    pub(crate) state: Mutex<InvState>,
}

impl Invocation {
    pub(crate) fn lock(&self) -> MutexGuard<'_, InvState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the state may hold keys or a correlation id (see `extras`).
    #[inline]
    pub(crate) fn has_extras(&self) -> bool {
        self.extras.load(Ordering::Acquire)
    }

    /// Locks the state for adding keys or a correlation id.
    fn lock_for_extras(&self) -> MutexGuard<'_, InvState> {
        let st = self.lock();
        self.extras.store(true, Ordering::Release);
        st
    }

    pub(crate) fn new(
        init: InvocationInit,
        profile: Profile,
        cold_start: bool,
        sampled: bool,
        memory_as_string: bool,
        function_version: bool,
    ) -> Self {
        let mut b = Pieces::default();
        let lambda = init.function_name.is_some() || init.function_arn.is_some();
        let root = init
            .trace_header
            .as_deref()
            .and_then(trace_root)
            .map(str::to_owned);
        let s = |b: &mut Pieces, name: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                b.push(name, |o| json::string(o, v));
            }
        };
        let mem = |b: &mut Pieces| {
            if let Some(m) = init.memory_mb {
                b.push("function_memory_size", |o| {
                    if memory_as_string {
                        o.push(b'"');
                        json::int(o, m);
                        o.push(b'"');
                    } else {
                        json::int(o, m);
                    }
                });
            }
        };
        match profile {
            Profile::Lambda => s(&mut b, "requestId", &init.request_id),
            Profile::PowertoolsTs => {
                if lambda {
                    b.push("cold_start", |o| json::bool(o, cold_start));
                }
                s(&mut b, "function_arn", &init.function_arn);
                mem(&mut b);
                s(&mut b, "function_name", &init.function_name);
                s(&mut b, "function_request_id", &init.request_id);
            }
            Profile::Powertools | Profile::PowertoolsPython => {
                if lambda {
                    b.push("cold_start", |o| json::bool(o, cold_start));
                }
                s(&mut b, "function_name", &init.function_name);
                mem(&mut b);
                s(&mut b, "function_arn", &init.function_arn);
                s(&mut b, "function_request_id", &init.request_id);
                if function_version {
                    s(&mut b, "function_version", &init.function_version);
                }
                if profile == Profile::Powertools {
                    s(&mut b, "tenant_id", &init.tenant_id);
                }
            }
        }
        let xray = root.as_ref().map(|r| {
            let mut v = Vec::with_capacity(r.len() + 20);
            v.extend_from_slice(b"\"xray_trace_id\":");
            json::string(&mut v, r);
            v
        });
        let xray_end = xray.as_ref().map(|x| [x.as_slice(), b"}\n"].concat());
        let mut state = InvState::default();
        if let Some(c) = init.correlation_id {
            let mut v = Vec::new();
            json::string(&mut v, &c);
            state.correlation = Some(v);
            state.correlation_raw = Some(c);
        }
        Self {
            builtins: b,
            block: Vec::new(),
            xray,
            xray_end,
            request_id: init.request_id,
            trace_root: root,
            sampled,
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            extras: AtomicBool::new(state.correlation.is_some()),
            state: Mutex::new(state),
        }
    }
}

static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// Runs `f` with the invocation the current span belongs to, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Invocation>) -> R) -> Option<R> {
    let span = tracing::Span::current();
    let inv = span
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            let span = registry.span(id)?;
            span.scope()
                .find_map(|s| s.extensions().get::<Arc<Invocation>>().cloned())
        })
        .flatten()?;
    Some(f(&inv))
}

fn render_value(v: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    json::value(&mut out, v);
    out
}

/// Adds (or replaces) a key on every record of the current invocation. Returns `false`
/// outside an invocation scope. The key disappears when the invocation ends.
pub fn append_key(name: impl Into<String>, value: impl Into<serde_json::Value>) -> bool {
    let name = name.into();
    let rendered = render_value(&value.into());
    with_current(|inv| {
        let mut st = inv.lock_for_extras();
        st.keys_gen += 1;
        match st.keys.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = rendered,
            None => st.keys.push((name, rendered)),
        }
    })
    .is_some()
}

/// Removes an invocation key added with [`append_key`]. Returns whether it existed.
pub fn remove_key(name: &str) -> bool {
    with_current(|inv| {
        let mut st = inv.lock();
        st.keys_gen += 1;
        let before = st.keys.len();
        st.keys.retain(|(k, _)| k != name);
        before != st.keys.len()
    })
    .unwrap_or(false)
}

/// Overrides the correlation id for the rest of the current invocation. Returns `false`
/// outside an invocation scope.
pub fn set_correlation_id(id: impl Into<String>) -> bool {
    let id = id.into();
    with_current(|inv| {
        let mut v = Vec::with_capacity(id.len() + 2);
        json::string(&mut v, &id);
        let mut st = inv.lock_for_extras();
        st.correlation = Some(v);
        st.correlation_raw = Some(id);
    })
    .is_some()
}

/// The current invocation's correlation id, for propagating it to the next hop.
pub fn correlation_id() -> Option<String> {
    with_current(|inv| inv.lock().correlation_raw.clone()).flatten()
}

/// The current invocation's AWS request id.
pub fn request_id() -> Option<String> {
    with_current(|inv| inv.request_id.clone()).flatten()
}

/// The current invocation's X-Ray trace id (`Root=` value).
pub fn trace_id() -> Option<String> {
    with_current(|inv| inv.trace_root.clone()).flatten()
}

/// Logs the incoming event as an INFO record `Lambda invocation event` with the event under
/// `event` (the Python profile puts the event in `message`, as Powertools Python does).
/// Call it after the correlation id is known so the record carries it.
#[track_caller]
pub fn log_event(event: &serde_json::Value) {
    let text = event.to_string();
    let caller = std::panic::Location::caller();
    let location = format!("{}:{}", caller.file(), caller.line());
    tracing::info!(
        target: "lookout_logger::event",
        __lookout_location = location.as_str(),
        __lookout_raw_event = text.as_str(),
        "Lambda invocation event"
    );
}

/// Discards the current invocation's debug buffer without writing it.
pub fn clear_buffer() {
    with_current(|inv| inv.lock().buffer.clear());
}

/// Writes out the current invocation's debug buffer (in creation order) and flushes the
/// writer.
pub fn flush_buffer() {
    // Looked up first: tracing hands nested `get_default` calls a no-op dispatcher.
    let inv = with_current(Arc::clone);
    crate::layer::with_layer(|layer| {
        if let Some(inv) = &inv {
            layer.flush_invocation(inv);
        }
        layer.flush_writer();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_root_takes_root_part() {
        assert_eq!(
            trace_root(
                "Root=1-6743a1b0-000000000000000000000001;Parent=0000000000000001;Sampled=1"
            ),
            Some("1-6743a1b0-000000000000000000000001")
        );
        assert_eq!(trace_root("Parent=1;Root=1-a-b"), Some("1-a-b"));
        assert_eq!(trace_root("1-a-b"), Some("1-a-b"));
        assert_eq!(trace_root("Parent=1"), None);
        assert_eq!(trace_root(""), None);
    }

    #[test]
    fn buffer_evicts_oldest_and_passes_oversize_records_back() {
        let mut b = Buffer::default();
        assert!(b.push(vec![b'a'; 40], 100).is_none());
        assert!(b.push(vec![b'b'; 40], 100).is_none());
        assert!(b.push(vec![b'c'; 40], 100).is_none());
        assert_eq!((b.evicted_records, b.evicted_bytes, b.bytes), (1, 40, 80));
        assert_eq!(b.push(vec![b'x'; 101], 100), Some(vec![b'x'; 101]));
        let (recs, n, bytes) = b.take();
        assert_eq!(recs, vec![vec![b'b'; 40], vec![b'c'; 40]]);
        assert_eq!((n, bytes), (1, 40));
        assert_eq!(b.bytes, 0);
    }
}
