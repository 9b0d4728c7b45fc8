//! The direct rendering path: a record whose keys need no renaming, replacing or
//! reordering is written field by field straight into the output line, with no
//! intermediate pieces. Everything static comes pre-rendered: the level piece (one per
//! level), the callsite's `location` and field keys (its template), the timestamp's date
//! part (per second), and the layer's and invocation's keys (one block per invocation).
//!
//! Any record this path cannot reproduce byte for byte (configured key order, text output,
//! persistent or invocation keys, span fields, errors, marker fields, a field order other
//! than the one the `tracing` macros produce, an oversized record) is left to the general
//! path in `render.rs`, which produces the same bytes for the records both can render.

use std::fmt;

use tracing::Event;
use tracing::field::{Field, Visit};

use crate::config::Profile;
use crate::invocation::{self, Invocation};
use crate::json;
use crate::layer::PowertoolsLayer;
use crate::level::Level;
use crate::record::Scratch;
use crate::render::Site;
use crate::template::{Key, Template};
use crate::timestamp;

/// Appends a pre-rendered `"name":` key, as a constant-size copy when it is short.
#[inline]
fn put_key(out: &mut Vec<u8>, (key, k): (&[u8], &Key)) {
    match &k.short {
        Some(padded) => {
            let start = out.len();
            out.extend_from_slice(padded);
            out.truncate(start + key.len());
        }
        None => out.extend_from_slice(key),
    }
}

/// What comes between the message and the user keys: the timestamp (in the profiles that
/// put it after the message), the static block and the correlation id.
struct Middle<'a> {
    micros: i64,
    ts_after_message: bool,
    block: &'a [u8],
    correlation: Option<&'a [u8]>,
}

/// Writes an event's fields into the line; `bail` is set when the event turns out not to
/// be renderable here (the caller then renders it through the general path).
struct DirectVisitor<'a> {
    out: &'a mut Vec<u8>,
    tpl: &'a Template,
    ts_cache: &'a mut timestamp::Cache,
    format: (crate::TimestampFormat, &'a timestamp::Zone),
    middle: Middle<'a>,
    /// Whether the message and the middle part have been written.
    past_message: bool,
    bail: bool,
}

impl DirectVisitor<'_> {
    /// Writes `"message":<value>,` and the middle part.
    #[inline]
    fn message(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.past_message {
            self.bail = true;
            return;
        }
        self.out.extend_from_slice(b"\"message\":");
        write(self.out);
        self.out.push(b',');
        self.finish_head();
    }

    #[inline]
    fn finish_head(&mut self) {
        self.past_message = true;
        let m = &self.middle;
        if m.ts_after_message {
            timestamp::write_piece(self.out, m.micros, self.format, self.ts_cache);
        }
        self.out.extend_from_slice(m.block);
        if let Some(c) = m.correlation {
            self.out.extend_from_slice(b"\"correlation_id\":");
            self.out.extend_from_slice(c);
            self.out.push(b',');
        }
    }

    /// Writes `"name":<value>,` for an ordinary field.
    #[inline]
    fn field(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let Some(key) = self.tpl.key(field.index()).filter(|k| k.1.plain) else {
            // The message field, or a field set the template does not describe.
            self.bail = true;
            return;
        };
        if !self.past_message {
            self.message(|o| o.extend_from_slice(b"\"\""));
        }
        put_key(self.out, key);
        write(self.out);
        self.out.push(b',');
    }
}

impl Visit for DirectVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.index() == 0 && field.name() == "message" {
            self.message(|o| json::string(o, value));
        } else {
            self.field(field, |o| json::string(o, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.index() == 0 && field.name() == "message" {
            self.message(|o| json::fmt_string(o, format_args!("{value:?}")));
        } else {
            self.field(field, |o| json::debug_value(o, value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |o| json::i64(o, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |o| json::u64(o, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, |o| json::int(o, value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, |o| json::int(o, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |o| json::float(o, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |o| json::bool(o, value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.field(field, |o| json::base64(o, value));
    }

    fn record_error(&mut self, _field: &Field, _value: &(dyn std::error::Error + 'static)) {
        // Errors become the structured `error` object: the general path's job.
        self.bail = true;
    }
}

impl PowertoolsLayer {
    /// Renders `event` straight into `s.out` when nothing about it needs the general path.
    /// Returns whether it did; on `false`, `s.out` holds garbage the general path clears.
    #[inline]
    pub(crate) fn render_direct(
        &self,
        s: &mut Scratch,
        level: Level,
        site: Site<'_>,
        inv: Option<&Invocation>,
        event: &Event<'_>,
    ) -> bool {
        let sh = &*self.shared;
        let cfg = &sh.cfg;
        let Some(tpl) = site.tpl else {
            return false;
        };
        if !tpl.direct
            || !cfg.direct
            || site.internal
            || cfg.text_output
            || !cfg.first_keys.is_empty()
            || sh.has_persistent.load(std::sync::atomic::Ordering::Acquire)
        {
            return false;
        }
        s.aux.clear();
        let mut has_corr = false;
        if let Some(inv) = inv {
            let st = inv.lock();
            if !st.keys.is_empty() {
                return false;
            }
            if let Some(c) = &st.correlation {
                s.aux.extend_from_slice(c);
                has_corr = true;
            }
        }
        let micros = cfg.clock.now_micros();
        let block: &[u8] = match inv {
            Some(i) => &i.block,
            None => &sh.base_block,
        };
        let Scratch {
            out,
            aux,
            ts_cache,
            fatal,
            reserved_hits,
            ..
        } = s;
        *fatal = false;
        reserved_hits.clear();
        out.clear();
        out.reserve(block.len() + aux.len() + 256);
        out.push(b'{');
        let level_piece = &sh.level_pieces[level as usize];
        let ts_after_message = match cfg.profile {
            Profile::Lambda => {
                timestamp::write_piece(out, micros, (cfg.timestamp, &cfg.zone), ts_cache);
                out.extend_from_slice(level_piece);
                out.push(b',');
                false
            }
            Profile::PowertoolsTs => {
                out.extend_from_slice(level_piece);
                out.push(b',');
                true
            }
            Profile::Powertools | Profile::PowertoolsPython => {
                out.extend_from_slice(level_piece);
                out.push(b',');
                if cfg.location {
                    out.extend_from_slice(tpl.location());
                }
                true
            }
        };
        let mut v = DirectVisitor {
            out: &mut *out,
            tpl,
            ts_cache: &mut *ts_cache,
            format: (cfg.timestamp, &cfg.zone),
            middle: Middle {
                micros,
                ts_after_message,
                block,
                correlation: has_corr.then_some(&aux[..]),
            },
            past_message: false,
            bail: false,
        };
        event.record(&mut v);
        if v.bail {
            return false;
        }
        if !v.past_message {
            v.message(|o| o.extend_from_slice(b"\"\""));
        }
        if !matches!(cfg.profile, Profile::PowertoolsTs | Profile::Lambda) {
            match inv.and_then(|i| i.xray.as_ref()) {
                Some(x) => {
                    out.extend_from_slice(x);
                    out.push(b',');
                }
                None if inv.is_none() && cfg.env_trace_fallback => {
                    if let Some(root) = std::env::var("_X_AMZN_TRACE_ID")
                        .ok()
                        .as_deref()
                        .and_then(invocation::trace_root)
                    {
                        out.extend_from_slice(b"\"xray_trace_id\":");
                        json::string(out, root);
                        out.push(b',');
                    }
                }
                None => {}
            }
        }
        // The level piece always precedes, so the last byte is a comma.
        out.pop();
        out.extend_from_slice(b"}\n");
        out.len() <= cfg.max_record_bytes
    }
}
