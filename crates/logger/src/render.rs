//! Rendering one record. User keys, the message and error keys are collected into the
//! thread's scratch buffer first; then the line is written straight into the output in
//! profile order (the fast path: the static keys of the layer and of the invocation are one
//! pre-rendered block), or through named entries when keys are reordered, the record must
//! be shrunk or Lambda's text shape is asked for.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use tracing::Metadata;

use crate::config::Profile;
use crate::errors::{self, ErrorInfo};
use crate::invocation::{self, Invocation};
use crate::json;
use crate::layer::{PowertoolsLayer, Shared};
use crate::level::Level;
use crate::record::{self, FieldVisitor, Part, Pieces, Scratch};
use crate::template::Template;
use crate::timestamp;

/// What the built-in keys of a record need besides the scratch contents.
struct Collected<'a> {
    micros: i64,
    /// The callsite's pre-rendered `"location":"file:line",`.
    tpl_location: Option<&'a [u8]>,
    level: Level,
    file: Option<&'static str>,
    line: Option<u32>,
    /// Whether the record carries `location`.
    location: bool,
    has_corr: bool,
}

/// The callsite of the event being rendered.
#[derive(Clone, Copy)]
pub(crate) struct Site<'a> {
    pub(crate) meta: &'static Metadata<'static>,
    /// Whether the event comes from this crate (only then are marker fields honoured).
    pub(crate) internal: bool,
    pub(crate) tpl: Option<&'a Template>,
}

/// The event's callsite; `None` for the library's own records.
pub(crate) type EventMeta<'a> = Option<Site<'a>>;

/// The library's own record: message and string fields.
pub(crate) type InternalRecord<'a> = Option<(&'a str, &'a [(&'a str, &'a str)])>;

impl PowertoolsLayer {
    /// Renders one record into `s.out`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn render(
        &self,
        s: &mut Scratch,
        level: Level,
        meta: EventMeta,
        inv: Option<&Invocation>,
        spans: &[&Pieces],
        visit: impl FnOnce(&mut FieldVisitor<'_>),
        internal: InternalRecord<'_>,
    ) {
        let c = self.collect(s, level, meta, inv, spans, visit, internal);
        let cfg = &self.shared.cfg;
        if cfg.first_keys.is_empty() && !cfg.text_output {
            self.assemble_fast(s, &c, inv);
            if s.out.len() <= cfg.max_record_bytes {
                return;
            }
        }
        self.add_head(s, &c, inv);
        if cfg.text_output {
            self.assemble_text(s, c.level, c.micros, inv);
            return;
        }
        s.assemble(&cfg.first_keys);
        if s.out.len() > cfg.max_record_bytes {
            s.shrink_to(cfg.max_record_bytes, &cfg.first_keys);
        }
    }

    /// Fills the scratch with user keys (persistent, invocation, scoped, per call), the
    /// message and the tail (error keys, trace id).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn collect<'a>(
        &self,
        s: &mut Scratch,
        level: Level,
        meta: EventMeta<'a>,
        inv: Option<&Invocation>,
        spans: &[&Pieces],
        visit: impl FnOnce(&mut FieldVisitor<'_>),
        internal: InternalRecord<'_>,
    ) -> Collected<'a> {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        let profile = cfg.profile;
        let micros = cfg.clock.now_micros();
        s.reset();

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
            Some(site) => (site.meta.file(), site.meta.line()),
            None => (None, None),
        };
        {
            let mut v = FieldVisitor {
                s: &mut *s,
                profile,
                internal: meta.is_some_and(|site| site.internal),
                file,
                line,
                tpl: meta.and_then(|site| site.tpl),
                backtraces: cfg.backtraces,
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
        Collected {
            micros,
            level,
            file,
            line,
            location: cfg.location && meta.is_some(),
            tpl_location: meta.and_then(|site| site.tpl).map(Template::location),
            has_corr,
        }
    }

    /// Writes the record straight into `s.out` in profile order: every piece is followed by
    /// a comma, the last one is replaced by the closing brace.
    #[inline]
    fn assemble_fast(&self, s: &mut Scratch, c: &Collected<'_>, inv: Option<&Invocation>) {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        let block: &[u8] = match inv {
            Some(i) => &i.block,
            None => &sh.base_block,
        };
        let Scratch {
            kv,
            user,
            tail,
            out,
            aux,
            message,
            raw_message,
            location_override,
            ts_cache,
            ..
        } = s;
        out.clear();
        out.reserve(kv.len() + block.len() + aux.len() + 192);
        out.push(b'{');
        let level = &sh.level_pieces[c.level as usize];
        let message = raw_message.or(*message);
        let put_message = |out: &mut Vec<u8>| {
            out.extend_from_slice(b"\"message\":");
            match message.and_then(|(a, b)| kv.get(a as usize..b as usize)) {
                Some(m) => out.extend_from_slice(m),
                None => out.extend_from_slice(b"\"\""),
            }
            out.push(b',');
        };
        let mut put_ts = |out: &mut Vec<u8>| {
            timestamp::write_piece(out, c.micros, (cfg.timestamp, &cfg.zone), ts_cache);
        };
        match cfg.profile {
            Profile::Lambda => {
                put_ts(out);
                out.extend_from_slice(level);
                out.push(b',');
                put_message(out);
            }
            Profile::PowertoolsTs => {
                out.extend_from_slice(level);
                out.push(b',');
                put_message(out);
                put_ts(out);
            }
            Profile::Powertools | Profile::PowertoolsPython => {
                out.extend_from_slice(level);
                out.push(b',');
                if c.location {
                    let over = location_override.and_then(|(a, b)| kv.get(a as usize..b as usize));
                    match (over, c.tpl_location) {
                        (None, Some(piece)) => out.extend_from_slice(piece),
                        (over, _) => {
                            out.extend_from_slice(b"\"location\":\"");
                            match over {
                                Some(text) => {
                                    let text = std::str::from_utf8(text).unwrap_or("");
                                    json::escape_into(out, text);
                                }
                                None => {
                                    json::escape_into(out, c.file.unwrap_or("unknown"));
                                    out.push(b':');
                                    json::int(out, c.line.unwrap_or(0));
                                }
                            }
                            out.extend_from_slice(b"\",");
                        }
                    }
                }
                put_message(out);
                put_ts(out);
            }
        }
        out.extend_from_slice(block);
        if c.has_corr {
            out.extend_from_slice(b"\"correlation_id\":");
            out.extend_from_slice(aux);
            out.push(b',');
        }
        // Pieces that lie one after another in `kv` (each followed by its comma) are copied
        // as one run.
        let mut run: Option<(usize, usize)> = None;
        for e in user.iter().chain(tail.iter()) {
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
        if let Some((ra, rb)) = run {
            out.extend_from_slice(kv.get(ra..rb).unwrap_or(&[]));
        }
        // The level piece always precedes, so the last byte is a comma.
        out.pop();
        out.extend_from_slice(b"}\n");
    }

    /// Adds the built-in keys as named head entries (general path).
    fn add_head(&self, s: &mut Scratch, c: &Collected<'_>, inv: Option<&Invocation>) {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
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
            if !c.location {
                return;
            }
            let over = s.location_override;
            let start = s.kv.len() as u32;
            s.kv.extend_from_slice(b"\"location\":\"");
            match over {
                Some((a, b)) => {
                    let text = s.text((a, b)).to_owned();
                    json::escape_into(&mut s.kv, &text);
                }
                None => {
                    json::escape_into(&mut s.kv, c.file.unwrap_or("unknown"));
                    s.kv.push(b':');
                    json::int(&mut s.kv, c.line.unwrap_or(0));
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
        let level_piece = &sh.level_pieces[c.level as usize];
        let add_ts = |s: &mut Scratch| {
            let mut cache = s.ts_cache;
            s.add(Part::Head, "timestamp", |o| {
                timestamp::write_cached(o, c.micros, (cfg.timestamp, &cfg.zone), &mut cache)
            });
            s.ts_cache = cache;
        };
        match cfg.profile {
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
        if c.has_corr {
            let aux = std::mem::take(&mut s.aux);
            s.add(Part::Head, "correlation_id", |o| o.extend_from_slice(&aux));
            s.aux = aux;
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
        timestamp::write_cached(
            &mut ts,
            micros,
            (crate::TimestampFormat::Rfc3339Millis, &self.shared.cfg.zone),
            &mut s.ts_cache,
        );
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
}

/// The static keys of a record, in profile order and comma-terminated: `service`,
/// `sampling_rate` and the invocation's built-in keys. Rendered once per invocation (and
/// once per layer for records outside any invocation).
pub(crate) fn static_block(sh: &Shared, inv: Option<&Invocation>) -> Vec<u8> {
    let mut b = Vec::new();
    let piece = |b: &mut Vec<u8>, p: &[u8]| {
        b.extend_from_slice(p);
        b.push(b',');
    };
    let builtins: &[u8] = inv.map_or(&[], |i| &i.builtins.buf);
    match sh.cfg.profile {
        Profile::Lambda => b.extend_from_slice(builtins),
        Profile::PowertoolsTs => {
            piece(&mut b, &sh.service_piece);
            b.extend_from_slice(builtins);
            if let Some(p) = &sh.sampling_piece {
                piece(&mut b, p);
            }
            if let Some(x) = inv.and_then(|i| i.xray.as_ref()) {
                piece(&mut b, x);
            }
        }
        Profile::Powertools | Profile::PowertoolsPython => {
            piece(&mut b, &sh.service_piece);
            if let Some(p) = &sh.sampling_piece {
                piece(&mut b, p);
            }
            b.extend_from_slice(builtins);
        }
    }
    b
}
