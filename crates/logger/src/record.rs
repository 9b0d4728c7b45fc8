//! Building one record: rendered `"key":value` pieces collected in a reusable scratch
//! buffer, then assembled in profile order (or the configured key order) into one line.

use std::fmt;

use tracing::field::{Field, Visit};

use crate::config::Profile;
use crate::errors::{self, ErrorInfo};
use crate::json;
use crate::template::{Key, Template};

/// A rendered piece: byte ranges of the key name (escaped, without quotes) and of the
/// whole `"key":value` text inside a buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) name: (u32, u32),
    pub(crate) piece: (u32, u32),
}

fn r(v: &[u8], range: (u32, u32)) -> &[u8] {
    v.get(range.0 as usize..range.1 as usize).unwrap_or(&[])
}

fn start_piece(buf: &mut Vec<u8>, name: &str, prefix: &str) -> (u32, (u32, u32)) {
    let start = buf.len() as u32;
    buf.push(b'"');
    let ns = buf.len() as u32;
    buf.extend_from_slice(prefix.as_bytes());
    json::escape_into(buf, name);
    let ne = buf.len() as u32;
    buf.extend_from_slice(b"\":");
    (start, (ns, ne))
}

/// Pieces rendered ahead of time (per invocation, per layer).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pieces {
    pub(crate) buf: Vec<u8>,
    pub(crate) entries: Vec<Entry>,
}

impl Pieces {
    pub(crate) fn push(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let (start, name) = start_piece(&mut self.buf, name, "");
        write(&mut self.buf);
        let end = self.buf.len() as u32;
        // Every piece is followed by a comma so that adjacent pieces copy as one run.
        self.buf.push(b',');
        self.entries.push(Entry {
            name,
            piece: (start, end),
        });
    }
}

/// Which part of the record an entry belongs to; parts are emitted in this order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Head,
    User,
    Tail,
}

/// Names a user key may not take; they are emitted with a `field_` prefix instead.
pub(crate) fn is_reserved(name: &str) -> bool {
    // Cheap pre-filter on the first byte: most user keys start elsewhere.
    if !matches!(
        name.as_bytes().first(),
        Some(b'l' | b'm' | b't' | b's' | b'c' | b'f' | b'e' | b'x')
    ) {
        return false;
    }
    matches!(
        name,
        "level"
            | "location"
            | "message"
            | "timestamp"
            | "service"
            | "sampling_rate"
            | "cold_start"
            | "function_name"
            | "function_memory_size"
            | "function_arn"
            | "function_request_id"
            | "function_version"
            | "tenant_id"
            | "correlation_id"
            | "xray_trace_id"
            | "error"
            | "exception"
            | "exception_name"
            | "stack_trace"
            | "truncated"
    )
}

/// Per-thread reusable buffers and per-event visitor state.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) kv: Vec<u8>,
    pub(crate) head: Vec<Entry>,
    pub(crate) user: Vec<Entry>,
    pub(crate) tail: Vec<Entry>,
    pub(crate) out: Vec<u8>,
    pub(crate) aux: Vec<u8>,
    /// Rendered message value (a JSON string) inside `kv`.
    pub(crate) message: Option<(u32, u32)>,
    /// A raw JSON value that replaces the message (Python's event-as-message shape).
    pub(crate) raw_message: Option<(u32, u32)>,
    /// Raw (unescaped) location text inside `kv` that replaces the call site's.
    pub(crate) location_override: Option<(u32, u32)>,
    pub(crate) backtrace: Option<(u32, u32)>,
    pub(crate) error_name: Option<(u32, u32)>,
    pub(crate) fatal: bool,
    pub(crate) panic: bool,
    pub(crate) has_error: bool,
    pub(crate) reserved_hits: Vec<String>,
    /// One bit per user key name hash: a name whose bit is clear cannot be a duplicate, so
    /// the linear duplicate search only runs on a (rare) hash hit.
    pub(crate) user_mask: u64,
    /// The last rendering of persistent and invocation keys (direct path).
    pub(crate) appended: crate::appended::Appended,
    /// Date/time prefix of the last formatted second.
    pub(crate) ts_cache: crate::timestamp::Cache,
}

/// The dedup-mask bit of an (escaped) key name.
#[inline]
pub(crate) fn name_bit(name: &[u8]) -> u64 {
    let first = name.first().copied().unwrap_or(0);
    let last = name.last().copied().unwrap_or(0);
    let h = (name.len() as u64)
        .wrapping_mul(0x9e37)
        .wrapping_add(u64::from(first) * 31)
        .wrapping_add(u64::from(last));
    1u64 << (h & 63)
}

impl Scratch {
    pub(crate) fn reset(&mut self) {
        self.kv.clear();
        self.head.clear();
        self.user.clear();
        self.tail.clear();
        self.out.clear();
        self.message = None;
        self.raw_message = None;
        self.location_override = None;
        self.backtrace = None;
        self.error_name = None;
        self.fatal = false;
        self.panic = false;
        self.has_error = false;
        self.reserved_hits.clear();
        self.user_mask = 0;
    }

    /// A scratch whose user keys are the given pre-rendered pieces (span fields being
    /// updated by `record`).
    pub(crate) fn from_pieces(p: Pieces) -> Self {
        let mut s = Scratch {
            kv: p.buf,
            user: p.entries,
            ..Scratch::default()
        };
        for e in &s.user {
            s.user_mask |= name_bit(r(&s.kv, e.name));
        }
        s
    }

    fn list(&mut self, part: Part) -> &mut Vec<Entry> {
        match part {
            Part::Head => &mut self.head,
            Part::User => &mut self.user,
            Part::Tail => &mut self.tail,
        }
    }

    /// Adds a built-in piece (never renamed, never deduplicated).
    pub(crate) fn add(&mut self, part: Part, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let (start, name) = start_piece(&mut self.kv, name, "");
        write(&mut self.kv);
        let piece = (start, self.kv.len() as u32);
        self.kv.push(b',');
        self.list(part).push(Entry { name, piece });
    }

    /// Adds an already rendered `"key":value` piece.
    pub(crate) fn add_raw(&mut self, part: Part, piece: &[u8], name_len: usize) {
        let start = self.kv.len() as u32;
        self.kv.extend_from_slice(piece);
        let entry = Entry {
            name: (start + 1, start + 1 + name_len as u32),
            piece: (start, self.kv.len() as u32),
        };
        self.kv.push(b',');
        self.list(part).push(entry);
    }

    /// Copies pre-rendered pieces.
    pub(crate) fn add_pieces(&mut self, part: Part, p: &Pieces) {
        let base = self.kv.len() as u32;
        self.kv.extend_from_slice(&p.buf);
        let list = match part {
            Part::Head => &mut self.head,
            Part::User => &mut self.user,
            Part::Tail => &mut self.tail,
        };
        for e in &p.entries {
            list.push(Entry {
                name: (e.name.0 + base, e.name.1 + base),
                piece: (e.piece.0 + base, e.piece.1 + base),
            });
        }
    }

    /// Adds a user key: reserved names get the `field_` prefix; a name already present
    /// takes the new value and keeps its first position.
    #[inline]
    pub(crate) fn add_user(&mut self, name: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let reserved = is_reserved(name);
        let start = self.kv.len() as u32;
        self.kv.push(b'"');
        if reserved {
            self.kv.extend_from_slice(b"field_");
        }
        json::escape_into(&mut self.kv, name);
        let name_range = (start + 1, self.kv.len() as u32);
        let bit = name_bit(r(&self.kv, name_range));
        self.kv.extend_from_slice(b"\":");
        write(&mut self.kv);
        self.finish_user(start, name_range, bit, reserved, name);
    }

    /// [`add_user`](Self::add_user) with the key pre-rendered by the callsite's template.
    #[inline]
    pub(crate) fn add_user_key(
        &mut self,
        (key, k): (&[u8], &Key),
        name: &str,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let start = self.kv.len() as u32;
        match &k.short {
            Some(padded) => {
                self.kv.extend_from_slice(padded);
                self.kv.truncate(start as usize + key.len());
            }
            None => self.kv.extend_from_slice(key),
        }
        let name_range = (start + 1, self.kv.len() as u32 - 2);
        write(&mut self.kv);
        self.finish_user(start, name_range, k.bit, k.reserved, name);
    }

    #[inline]
    fn finish_user(
        &mut self,
        start: u32,
        name_range: (u32, u32),
        bit: u64,
        reserved: bool,
        name: &str,
    ) {
        let piece = (start, self.kv.len() as u32);
        self.kv.push(b',');
        if reserved && !self.reserved_hits.iter().any(|n| n == name) {
            self.reserved_hits.push(name.to_owned());
        }
        if self.user_mask & bit != 0 {
            let new_name = r(&self.kv, name_range);
            for e in self.user.iter_mut() {
                if r(&self.kv, e.name) == new_name {
                    e.piece = piece;
                    return;
                }
            }
        }
        self.user_mask |= bit;
        self.user.push(Entry {
            name: name_range,
            piece,
        });
    }

    /// Adds a user key whose value is already rendered JSON.
    pub(crate) fn add_user_rendered(&mut self, name: &str, value: &[u8]) {
        self.add_user(name, |o| o.extend_from_slice(value));
    }

    /// Stores raw text in `kv` and returns its range (for side values such as locations).
    pub(crate) fn stash(&mut self, text: &str) -> (u32, u32) {
        let s = self.kv.len() as u32;
        self.kv.extend_from_slice(text.as_bytes());
        (s, self.kv.len() as u32)
    }

    pub(crate) fn text(&self, range: (u32, u32)) -> &str {
        std::str::from_utf8(r(&self.kv, range)).unwrap_or("")
    }

    pub(crate) fn entry_name(&self, e: &Entry) -> &[u8] {
        r(&self.kv, e.name)
    }

    /// Writes `{` … `}\n` into `out`: head, user and tail pieces, keys named in `first`
    /// moved to the front in that order.
    pub(crate) fn assemble(&mut self, first: &[String]) {
        let Scratch {
            kv,
            head,
            user,
            tail,
            out,
            ..
        } = self;
        out.clear();
        out.reserve(kv.len() + 2);
        let start = out.len();
        if first.is_empty() {
            // Pieces written one after another are copied as one run (each piece is
            // followed by its comma in `kv`).
            out.push(b',');
            let mut run: Option<(usize, usize)> = None;
            for list in [&*head, &*user, &*tail] {
                for e in list {
                    let (a, b) = (e.piece.0 as usize, e.piece.1 as usize + 1);
                    run = match run {
                        Some((ra, rb)) if rb == a => Some((ra, b)),
                        Some((ra, rb)) => {
                            out.extend_from_slice(kv.get(ra..rb).unwrap_or(&[]));
                            Some((a, b))
                        }
                        None => Some((a, b)),
                    };
                }
            }
            if let Some((ra, rb)) = run {
                out.extend_from_slice(kv.get(ra..rb).unwrap_or(&[]));
            }
            // Drop the trailing comma of the last piece.
            if out.len() > start + 1 {
                out.pop();
            }
        } else {
            let named = |e: &Entry| first.iter().any(|k| k.as_bytes() == r(kv, e.name));
            for k in first {
                if let Some(e) = head
                    .iter()
                    .chain(user.iter())
                    .chain(tail.iter())
                    .find(|e| r(kv, e.name) == k.as_bytes())
                {
                    out.push(b',');
                    out.extend_from_slice(r(kv, e.piece));
                }
            }
            for e in head.iter().chain(user.iter()).chain(tail.iter()) {
                if !named(e) {
                    out.push(b',');
                    out.extend_from_slice(r(kv, e.piece));
                }
            }
        }
        match out.get_mut(start) {
            Some(b) => *b = b'{',
            None => out.push(b'{'),
        }
        out.extend_from_slice(b"}\n");
    }

    /// Shrinks the longest string values until the record fits `max` bytes, then marks it
    /// `"truncated":true`. Non-string values too large to fit are replaced by a truncated
    /// string of their JSON text, so the record stays valid JSON and is never dropped.
    pub(crate) fn shrink_to(&mut self, max: usize, first: &[String]) {
        const MARK: &[u8] = b",\"truncated\":true";
        for _ in 0..64 {
            self.assemble(first);
            if self.out.len() + MARK.len() <= max {
                break;
            }
            let excess = self.out.len() + MARK.len() - max;
            // Longest piece across all parts.
            let Some((part, idx, len)) = [Part::Head, Part::User, Part::Tail]
                .into_iter()
                .flat_map(|p| {
                    let list = match p {
                        Part::Head => &self.head,
                        Part::User => &self.user,
                        Part::Tail => &self.tail,
                    };
                    list.iter()
                        .enumerate()
                        .map(move |(i, e)| (p, i, (e.piece.1 - e.piece.0) as usize))
                        .collect::<Vec<_>>()
                })
                .max_by_key(|&(_, _, len)| len)
            else {
                break;
            };
            let e = self.list(part)[idx];
            let name_len = (e.name.1 - e.name.0) as usize;
            let value_start = e.piece.0 as usize + name_len + 3;
            let value = self.kv[value_start..e.piece.1 as usize].to_vec();
            let keep_target = len.saturating_sub(excess + 8).saturating_sub(name_len + 3);
            let new_value = truncate_json_value(&value, keep_target);
            let name = r(&self.kv, e.name).to_vec();
            let start = self.kv.len() as u32;
            self.kv.push(b'"');
            let ns = self.kv.len() as u32;
            self.kv.extend_from_slice(&name);
            let ne = self.kv.len() as u32;
            self.kv.extend_from_slice(b"\":");
            self.kv.extend_from_slice(&new_value);
            let end = self.kv.len() as u32;
            self.kv.push(b',');
            self.list(part)[idx] = Entry {
                name: (ns, ne),
                piece: (start, end),
            };
        }
        self.add(Part::Tail, "truncated", |o| json::bool(o, true));
        self.assemble(first);
    }
}

/// Returns a JSON string value at most about `keep` bytes long: a string is cut at a char
/// boundary outside any escape; any other value becomes a string of its (cut) JSON text.
fn truncate_json_value(value: &[u8], keep: usize) -> Vec<u8> {
    let text: String = if value.first() == Some(&b'"') {
        serde_json::from_slice::<String>(value).unwrap_or_default()
    } else {
        String::from_utf8_lossy(value).into_owned()
    };
    let mut out = Vec::with_capacity(keep + 2);
    out.push(b'"');
    for ch in text.chars() {
        let before = out.len();
        let mut tmp = [0u8; 4];
        json::escape_into(&mut out, ch.encode_utf8(&mut tmp));
        if out.len() > keep {
            out.truncate(before);
            break;
        }
    }
    out.push(b'"');
    out
}

/// Marker fields the layer's own macros and hooks use. They never reach the output.
pub(crate) const FATAL_FIELD: &str = "__lookout_fatal";
pub(crate) const LOCATION_FIELD: &str = "__lookout_location";
pub(crate) const RAW_EVENT_FIELD: &str = "__lookout_raw_event";
pub(crate) const BACKTRACE_FIELD: &str = "__lookout_backtrace";
pub(crate) const ERROR_NAME_FIELD: &str = "__lookout_error_name";
pub(crate) const PANIC_FIELD: &str = "__lookout_panic";
/// The `log` record's own target, on records of the `log` bridge.
pub(crate) const TARGET_FIELD: &str = "__lookout_target";
/// Target of the events the `log` bridge emits.
pub(crate) const LOG_TARGET: &str = "lookout_logger::log";

/// The `log` target a bridge event carries (empty when it has none).
pub(crate) fn bridged_target(event: &tracing::Event<'_>) -> String {
    struct Target(String);
    impl Visit for Target {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == TARGET_FIELD {
                value.clone_into(&mut self.0);
            }
        }
        fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
    }
    let mut t = Target(String::new());
    event.record(&mut t);
    t.0
}

/// Records one event's (or span's) fields into the scratch buffer.
pub(crate) struct FieldVisitor<'a> {
    pub(crate) s: &'a mut Scratch,
    pub(crate) profile: Profile,
    /// Whether the event comes from this crate (only then are marker fields honoured).
    pub(crate) internal: bool,
    pub(crate) file: Option<&'static str>,
    pub(crate) line: Option<u32>,
    /// The event's callsite template (events only; span fields use plain names).
    pub(crate) tpl: Option<&'a Template>,
    /// Capture a backtrace for every error record (explicit opt-in).
    pub(crate) backtraces: bool,
}

impl FieldVisitor<'_> {
    /// Adds a user key for `field`, with its pre-rendered key when there is a template.
    #[inline]
    fn add(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        match self.tpl.and_then(|t| t.key(field.index())) {
            Some(key) => self.s.add_user_key(key, field.name(), write),
            None => self.s.add_user(field.name(), write),
        }
    }

    fn error_text(&mut self, text: &str) {
        if self.s.has_error {
            self.s.add_user("error", |o| json::string(o, text));
            return;
        }
        self.s.has_error = true;
        let name = self.s.error_name.map(|r| self.s.text(r).to_owned());
        let mut info = ErrorInfo::from_text(name.as_deref().unwrap_or("Error"), text);
        info.frames = self.frames();
        errors::render(self.s, self.profile, &info, self.file, self.line);
    }

    /// Backtrace frames for an error record: the ones handed over by the panic hook or the
    /// Lambda integration (which follow `RUST_BACKTRACE`), else captured here when
    /// explicitly enabled (a stack walk per error record is not paid by surprise).
    fn frames(&self) -> Vec<errors::Frame> {
        match self.s.backtrace {
            Some(bt) => errors::parse_backtrace(self.s.text(bt)),
            None if self.backtraces => errors::parse_backtrace(&errors::capture_text(true)),
            None => Vec::new(),
        }
    }

    fn marker(&self, field: &Field) -> bool {
        self.internal && field.name().starts_with("__lookout_")
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(key) = self.tpl.and_then(|t| t.key(field.index()))
            && key.1.plain
        {
            self.s
                .add_user_key(key, field.name(), |o| json::string(o, value));
            return;
        }
        match field.name() {
            "message" => {
                let s = self.s.kv.len() as u32;
                json::string(&mut self.s.kv, value);
                self.s.message = Some((s, self.s.kv.len() as u32));
            }
            "error" | "err" => self.error_text(value),
            _ if self.marker(field) => match field.name() {
                LOCATION_FIELD => self.s.location_override = Some(self.s.stash(value)),
                BACKTRACE_FIELD => self.s.backtrace = Some(self.s.stash(value)),
                ERROR_NAME_FIELD => self.s.error_name = Some(self.s.stash(value)),
                // Produced by `log_event` from serde_json, so it is valid JSON.
                RAW_EVENT_FIELD if self.profile == Profile::PowertoolsPython => {
                    let s = self.s.kv.len() as u32;
                    self.s.kv.extend_from_slice(value.as_bytes());
                    self.s.raw_message = Some((s, self.s.kv.len() as u32));
                }
                RAW_EVENT_FIELD => {
                    self.s
                        .add_user("event", |o| o.extend_from_slice(value.as_bytes()));
                }
                _ => {}
            },
            _ => self.add(field, |o| json::string(o, value)),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let s = self.s.kv.len() as u32;
                json::fmt_string(&mut self.s.kv, format_args!("{value:?}"));
                self.s.message = Some((s, self.s.kv.len() as u32));
            }
            "error" | "err" => {
                let text = format!("{value:?}");
                self.error_text(&text);
            }
            _ if self.marker(field) => {
                let text = format!("{value:?}");
                self.record_str(field, &text);
            }
            _ => self.add(field, |o| json::debug_value(o, value)),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, |o| json::i64(o, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, |o| json::u64(o, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.add(field, |o| json::int(o, value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.add(field, |o| json::int(o, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.add(field, |o| json::float(o, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.marker(field) {
            match field.name() {
                FATAL_FIELD => self.s.fatal = value,
                PANIC_FIELD => self.s.panic = value,
                _ => {}
            }
            return;
        }
        self.add(field, |o| json::bool(o, value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.add(field, |o| json::base64(o, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.s.has_error {
            self.s.add_user(field.name(), |o| {
                json::fmt_string(o, format_args!("{value}"))
            });
            return;
        }
        self.s.has_error = true;
        let name = self.s.error_name.map(|r| self.s.text(r).to_owned());
        let mut info = ErrorInfo::from_error(value, name.as_deref());
        info.frames = self.frames();
        errors::render(self.s, self.profile, &info, self.file, self.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_value_wins_and_keeps_first_position() {
        let mut s = Scratch::default();
        s.add(Part::Head, "level", |o| json::string(o, "INFO"));
        s.add_user("a", |o| json::int(o, 1));
        s.add_user("b", |o| json::int(o, 2));
        s.add_user("a", |o| json::int(o, 3));
        s.add_user("level", |o| json::string(o, "x"));
        s.assemble(&[]);
        assert_eq!(
            s.out,
            b"{\"level\":\"INFO\",\"a\":3,\"b\":2,\"field_level\":\"x\"}\n"
        );
        assert_eq!(s.reserved_hits, ["level"]);
    }

    #[test]
    fn configured_order_moves_named_keys_first() {
        let mut s = Scratch::default();
        s.add(Part::Head, "level", |o| json::string(o, "INFO"));
        s.add(Part::Head, "message", |o| json::string(o, "m"));
        s.add(Part::Head, "timestamp", |o| json::string(o, "t"));
        s.add_user("k", |o| json::int(o, 1));
        s.assemble(&["timestamp".into(), "k".into(), "missing".into()]);
        assert_eq!(
            s.out,
            b"{\"timestamp\":\"t\",\"k\":1,\"level\":\"INFO\",\"message\":\"m\"}\n"
        );
    }

    #[test]
    fn shrink_truncates_longest_string_and_marks_record() {
        let mut s = Scratch::default();
        s.add(Part::Head, "level", |o| json::string(o, "INFO"));
        let long = "é\"x".repeat(2000);
        s.add(Part::Head, "message", |o| json::string(o, &long));
        s.add_user("n", |o| o.extend_from_slice(br#"{"deep":[1,2,3]}"#));
        s.shrink_to(1000, &[]);
        assert!(s.out.len() <= 1000, "{}", s.out.len());
        let v: serde_json::Value = serde_json::from_slice(&s.out).unwrap();
        assert_eq!(v["truncated"], true);
        assert_eq!(v["n"]["deep"][2], 3);
        assert!(v["message"].as_str().unwrap().starts_with("é\"x"));
    }

    #[test]
    fn shrink_turns_huge_objects_into_cut_strings() {
        let mut s = Scratch::default();
        s.add(Part::Head, "level", |o| json::string(o, "INFO"));
        let big = format!("[{}1]", "1,".repeat(5000));
        s.add_user("event", |o| o.extend_from_slice(big.as_bytes()));
        s.shrink_to(512, &[]);
        assert!(s.out.len() <= 512);
        let v: serde_json::Value = serde_json::from_slice(&s.out).unwrap();
        assert!(v["event"].as_str().unwrap().starts_with("[1,1,"));
    }
}
