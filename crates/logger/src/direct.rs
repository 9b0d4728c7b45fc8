//! The direct rendering path: a record whose keys need no renaming, replacing or
//! reordering is written field by field straight into the output line, with no
//! intermediate pieces. Everything static comes pre-rendered: the level piece (one per
//! level), the callsite's `location` and field keys (its template), the timestamp's date
//! part (per second), and the layer's and invocation's keys (one block per invocation).
//!
//! Persistent and invocation keys come pre-rendered too (`appended.rs`), as long as none
//! shares a name with a field of the record or has a reserved name.
//!
//! Any record this path cannot reproduce byte for byte (configured key order, text output,
//! appended keys colliding with a field, span fields, errors, marker fields, a field order
//! other than the one the `tracing` macros produce, an oversized record) is left to the
//! general path in `render.rs`, which produces the same bytes for the records both can
//! render.

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

/// `"message":` space-padded, for [`json::keyed_string_comma`].
const MESSAGE_KEY: [u8; json::KEY_PAD] = *b"\"message\":                      ";
const MESSAGE_KEY_LEN: usize = 10;
/// The message of a record that has none.
const NO_MESSAGE: &[u8] = b"\"message\":\"\",";

/// What comes between the message and the user keys: the timestamp (in the profiles that
/// put it after the message), the static block, the correlation id and the appended keys.
struct Middle<'a> {
    micros: i64,
    ts_after_message: bool,
    block: &'a [u8],
    correlation: Option<&'a [u8]>,
    appended: &'a [u8],
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
    /// Writes the message (`write` writes `"message":<value>,`) and the middle part.
    #[inline]
    fn message(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.past_message {
            self.bail = true;
            return;
        }
        write(self.out);
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
        if !m.appended.is_empty() {
            self.out.extend_from_slice(m.appended);
        }
    }

    /// Writes `"name":<value>,` for an ordinary field; `write` writes the value and the comma.
    #[inline]
    fn field(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        // One call of `write` at the end, so it is inlined.
        if self.past_message
            && let Some((padded, len)) = self.tpl.short_key(field.index())
        {
            let start = self.out.len();
            self.out.extend_from_slice(padded);
            self.out.truncate(start + len);
        } else if !self.slow_key(field) {
            return;
        }
        write(self.out);
    }

    /// [`field`](Self::field)'s key when it is long or comes first: writes the missing
    /// message and the key, or returns `false` (setting `bail`) when the field is not an
    /// ordinary one.
    #[inline(never)]
    fn slow_key(&mut self, field: &Field) -> bool {
        let Some(key) = self.tpl.key(field.index()).filter(|k| k.1.plain) else {
            // The message field, or a field set the template does not describe.
            self.bail = true;
            return false;
        };
        if !self.past_message {
            self.message(|o| o.extend_from_slice(NO_MESSAGE));
        }
        put_key(self.out, key);
        true
    }
}

impl Visit for DirectVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.index() == 0 && field.name() == "message" {
            self.message(|o| {
                if !json::keyed_string_comma(o, &MESSAGE_KEY, MESSAGE_KEY_LEN, value) {
                    o.extend_from_slice(&MESSAGE_KEY[..MESSAGE_KEY_LEN]);
                    json::string_comma(o, value);
                }
            });
            return;
        }
        // The common case, key and short value in one copy.
        if self.past_message
            && let Some((padded, len)) = self.tpl.short_key(field.index())
            && json::keyed_string_comma(self.out, padded, len, value)
        {
            return;
        }
        self.field(field, |o| json::string_comma(o, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.index() == 0 && field.name() == "message" {
            self.message(|o| {
                o.extend_from_slice(b"\"message\":");
                json::fmt_string(o, format_args!("{value:?}"));
                o.push(b',');
            });
        } else {
            self.field(field, |o| {
                json::debug_value(o, value);
                o.push(b',');
            });
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |o| json::i64_comma(o, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |o| json::u64_comma(o, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, |o| {
            json::int(o, value);
            o.push(b',');
        });
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, |o| {
            json::int(o, value);
            o.push(b',');
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |o| json::float_comma(o, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |o| {
            json::bool(o, value);
            o.push(b',');
        });
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.field(field, |o| {
            json::base64(o, value);
            o.push(b',');
        });
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
        // (The template of one of this crate's own callsites is never `direct`.)
        if !tpl.direct || !sh.direct {
            return false;
        }
        let has_persistent = sh.has_persistent.load(std::sync::atomic::Ordering::Acquire);
        let mut inv_keys = false;
        s.aux.clear();
        let mut has_corr = false;
        if let Some(inv) = inv.filter(|i| i.has_extras()) {
            let st = inv.lock();
            if let Some(c) = &st.correlation {
                s.aux.extend_from_slice(c);
                has_corr = true;
            }
            if !st.keys.is_empty() {
                s.appended.refresh(sh, Some((inv.uid, &st)));
                inv_keys = true;
            }
        }
        if has_persistent && !inv_keys {
            s.appended.refresh(sh, None);
        }
        let appended_on = has_persistent || inv_keys;
        if appended_on && (!s.appended.plain || s.appended.mask & tpl.mask != 0) {
            // A renamed or colliding key: the general path renames, warns and merges.
            return false;
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
            appended,
            ..
        } = s;
        *fatal = false;
        reserved_hits.clear();
        out.clear();
        out.reserve(block.len() + aux.len() + appended.block.len() + 256);
        let level_piece = &sh.level_pieces[level as usize];
        let ts_after_message = match cfg.profile {
            Profile::Lambda => {
                out.push(b'{');
                timestamp::write_piece(out, micros, (cfg.timestamp, &cfg.zone), ts_cache);
                out.extend_from_slice(level_piece);
                out.push(b',');
                false
            }
            Profile::PowertoolsTs | Profile::Powertools | Profile::PowertoolsPython => {
                // `{"level":"…",` in one constant-size copy (`out` is empty here).
                let head_len = sh.level_head_lens[level as usize];
                if head_len > 32 {
                    return false;
                }
                out.extend_from_slice(&sh.level_heads[level as usize]);
                out.truncate(head_len);
                if cfg.profile != Profile::PowertoolsTs && cfg.location {
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
                appended: if appended_on { &appended.block } else { &[] },
            },
            past_message: false,
            bail: false,
        };
        event.record(&mut v);
        if v.bail {
            return false;
        }
        if !v.past_message {
            v.message(|o| o.extend_from_slice(NO_MESSAGE));
        }
        let mut closed = false;
        if !matches!(cfg.profile, Profile::PowertoolsTs | Profile::Lambda) {
            match inv.and_then(|i| i.xray_end.as_ref()) {
                Some(x) => {
                    // The last key and the record's end in one copy.
                    out.extend_from_slice(x);
                    closed = true;
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
        if !closed {
            // The level piece always precedes, so the last byte is a comma.
            out.pop();
            out.extend_from_slice(b"}\n");
        }
        let done = out.len() <= cfg.max_record_bytes;
        #[cfg(test)]
        if done {
            tests::HITS.with(|h| h.set(h.get() + 1));
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use tracing_subscriber::layer::SubscriberExt;

    use crate::{CaptureWriter, Clock, InvocationContext, PowertoolsLayer};

    thread_local! {
        /// Records this thread rendered on the direct path.
        pub(super) static HITS: Cell<u32> = const { Cell::new(0) };
    }

    fn hits() -> u32 {
        HITS.with(Cell::get)
    }

    #[test]
    fn appended_keys_take_the_direct_path_unless_they_collide() {
        let out = CaptureWriter::new();
        let layer = PowertoolsLayer::builder()
            .service("svc")
            .writer(out.clone())
            .clock(Clock::FixedMicros(1_795_462_840_883_123))
            .env_vars([("X", "")])
            .build();
        let handle = layer.handle();
        let mut taken = Vec::new();
        let mut log = |f: &dyn Fn()| {
            let before = hits();
            f();
            taken.push(hits() - before);
        };
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            handle.append_key("region", "eu");
            log(&|| tracing::info!(target: "app", a = 1, "persistent only"));
            let span = InvocationContext::new("r-1")
                .function_name("fn")
                .correlation_id("c-1")
                .span();
            let _g = span.enter();
            crate::append_key("tenant", "acme");
            log(&|| tracing::info!(target: "app", order_id = "o-1", "both"));
            log(
                &|| tracing::info!(target: "app", tenant = "field", "collides with an invocation key"),
            );
            log(
                &|| tracing::info!(target: "app", region = "field", "collides with a persistent key"),
            );
            crate::append_key("level", "reserved");
            log(&|| tracing::info!(target: "app", a = 2, "reserved invocation key"));
            crate::remove_key("level");
            log(&|| tracing::info!(target: "app", a = 3, "after removal"));
        });
        assert_eq!(taken, [1, 1, 0, 0, 0, 1]);
        let lines = out.lines();
        let line = |message: &str| {
            let m = format!("\"message\":\"{message}\"");
            lines
                .iter()
                .find(|l| l.contains(&m))
                .cloned()
                .unwrap_or_default()
        };
        let l = line("persistent only");
        assert!(
            l.ends_with(r#""service":"svc","region":"eu","a":1}"#),
            "{l}"
        );
        let l = line("both");
        let keys = r#""correlation_id":"c-1","region":"eu","tenant":"acme","order_id":"o-1""#;
        assert!(l.contains(keys), "{l}");
        let l = line("collides with an invocation key");
        assert!(l.contains(r#""region":"eu","tenant":"field""#), "{l}");
        let l = line("after removal");
        assert!(l.contains(r#""tenant":"acme","a":3"#), "{l}");
    }
}
