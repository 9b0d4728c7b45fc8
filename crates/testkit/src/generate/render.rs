//! Rendering one line of an invocation in its function's logging format: platform lines,
//! application records (Powertools Python / TypeScript shapes, Lambda text format), errors,
//! panics and timeouts.

use super::{Failure, Generator, Kind, Level, RARE_TERM_RATE, TEMPLATE_BY_ROLL};
use crate::clock::{push_iso_millis, push_python_millis};
use crate::jsonl::lit;
use crate::vocab::*;

impl Generator {
    pub(super) fn render_report(&mut self, slot: usize) {
        self.platform_lines += 1;
        self.report_lines += 1;
        let inv = &self.slots[slot];
        let f = &self.funcs[inv.func];
        let timeout = inv.failure == Some(Failure::Timeout);
        let dur = if timeout {
            300_000 + self.rng.below(300)
        } else {
            inv.duration_ms_x100
        };
        let m = &mut self.msg;
        m.lit(lit!("REPORT RequestId: "));
        m.plain(&inv.request_id);
        m.lit(lit!("\tDuration: "));
        m.fixed2(dur);
        m.lit(lit!(" ms\tBilled Duration: "));
        m.u64(dur.div_ceil(100));
        m.lit(lit!(" ms\tMemory Size: "));
        m.u64(u64::from(f.memory_mb));
        m.lit(lit!(" MB\tMax Memory Used: "));
        let used = (u64::from(f.memory_mb) / 4 + 30 + self.rng.below(u64::from(f.memory_mb) / 3))
            .min(u64::from(f.memory_mb));
        m.u64(used);
        m.lit(lit!(" MB\t"));
        if inv.cold {
            m.lit(lit!("Init Duration: "));
            m.fixed2(inv.init_ms_x100);
            m.lit(lit!(" ms\t"));
        }
        if timeout {
            m.lit(lit!("Status: timeout\t"));
        }
        if f.traced {
            m.lit(lit!("\nXRAY TraceId: "));
            m.plain(&inv.trace_id);
            m.lit(lit!("\tSegmentId: "));
            m.plain_with(|s| self.rng.push_hex(s, 16));
            m.lit(lit!("\tSampled: true\t"));
        }
        m.lit(lit!("\n"));
    }

    pub(super) fn render_failure(&mut self, slot: usize, ts: i64) {
        let failure = self.slots[slot].failure.unwrap_or(Failure::None);
        let kind = self.funcs[self.slots[slot].func].kind;
        match failure {
            Failure::Timeout => {
                self.platform_lines += 1;
                self.msg.plain_with(|s| push_iso_millis(s, ts));
                self.msg.lit(lit!(" "));
                self.msg.plain(&self.slots[slot].request_id);
                self.msg.lit(lit!(" Task timed out after 3.00 seconds\n"));
            }
            Failure::Panic => {
                let (text, at) = *self.rng.pick(&RUST_PANICS);
                self.levels[Level::Error.index()] += 1;
                self.msg.lit(lit!("thread 'main' panicked at "));
                self.msg.text(at);
                self.msg.lit(lit!(":\n"));
                self.msg.text(text);
                self.msg.lit(lit!("\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"));
            }
            Failure::Error if kind == Kind::PythonText => {
                // The Python runtime's unhandled-exception line: frames joined with \r so
                // that the whole traceback stays one event.
                self.levels[Level::Error.index()] += 1;
                let (name, _module, text, file, func, stmt) = *self.rng.pick(&PY_EXCEPTIONS);
                let m = &mut self.msg;
                m.lit(lit!("[ERROR] "));
                m.text(name);
                m.lit(lit!(": "));
                m.text(text);
                m.lit(lit!("\rTraceback (most recent call last):\r  File \"/var/task/lambda_function.py\", line 31, in lambda_handler\r    return handle(event)\r  File \""));
                m.text(file);
                m.lit(lit!("\", line 57, in "));
                m.text(func);
                m.lit(lit!("\r    "));
                m.text(stmt);
                m.lit(lit!("\n"));
            }
            Failure::Error => {
                self.extra.clear();
                self.msg.clear();
                let order = self.slots[slot].order;
                let mut text = String::with_capacity(64);
                text.push_str("Failed to process order ord-");
                push_u64(&mut text, order);
                self.app_error_extra(kind);
                self.record(slot, ts, Level::Error, "handler:64", &text);
            }
            Failure::None => {}
        }
    }

    /// The exception keys of an ERROR record, into `self.extra`.
    fn app_error_extra(&mut self, kind: Kind) {
        let e = &mut self.extra;
        match kind {
            Kind::NodePowertools => {
                let (name, text, func) = *self.rng.pick(&JS_ERRORS);
                let line = self.rng.range(12, 300);
                let mut stack = String::with_capacity(256);
                stack.push_str(name);
                stack.push_str(": ");
                stack.push_str(text);
                stack.push_str("\n    at ");
                stack.push_str(func);
                stack.push_str(" (file:///var/task/index.mjs:");
                push_u64(&mut stack, line);
                stack.push_str(":27)\n    at Runtime.handler (file:///var/task/index.mjs:12:11)");
                e.lit(lit!(",\"error\":{\"name\":"));
                e.json_str(name);
                e.lit(lit!(",\"location\":\"file:///var/task/index.mjs:"));
                e.u64(line);
                e.lit(lit!("\",\"message\":"));
                e.json_str(text);
                e.lit(lit!(",\"stack\":"));
                e.json_str(&stack);
                e.lit(lit!("}"));
            }
            _ => {
                let (name, module, text, file, func, stmt) = *self.rng.pick(&PY_EXCEPTIONS);
                let line = self.rng.range(20, 400);
                let mut tb = String::with_capacity(512);
                tb.push_str("Traceback (most recent call last):\n  File \"/var/task/app/handler.py\", line 64, in handler\n    result = process(event)\n  File \"");
                tb.push_str(file);
                tb.push_str("\", line ");
                push_u64(&mut tb, line);
                tb.push_str(", in ");
                tb.push_str(func);
                tb.push_str("\n    ");
                tb.push_str(stmt);
                tb.push('\n');
                tb.push_str(module);
                tb.push('.');
                tb.push_str(name);
                tb.push_str(": ");
                tb.push_str(text);
                e.lit(lit!(",\"exception\":"));
                e.json_str(&tb);
                e.lit(lit!(",\"exception_name\":"));
                e.json_str(name);
                e.lit(lit!(",\"stack_trace\":{\"type\":"));
                e.json_str(name);
                e.lit(lit!(",\"value\":"));
                e.json_str(text);
                e.lit(lit!(",\"module\":"));
                e.json_str(module);
                e.lit(lit!(",\"frames\":[{\"file\":\"/var/task/app/handler.py\",\"line\":64,\"function\":\"handler\",\"statement\":\"result = process(event)\"},{\"file\":"));
                e.json_str(file);
                e.lit(lit!(",\"line\":"));
                e.u64(line);
                e.lit(lit!(",\"function\":"));
                e.json_str(func);
                e.lit(lit!(",\"statement\":"));
                e.json_str(stmt);
                e.lit(lit!("}]}"));
            }
        }
    }

    pub(super) fn render_app(&mut self, slot: usize, i: u8, ts: i64) {
        let fi = self.slots[slot].func;
        let logs_debug = self.funcs[fi].logs_debug;
        let entropy = self.cfg.entropy;
        let inv = &self.slots[slot];
        let (user, order) = (inv.user, inv.order);
        self.extra.clear();
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let level;
        let location;
        let e = &mut self.extra;
        let r = &mut self.rng;
        // Weighted template choice: routine INFO lines dominate, warnings are a few percent.
        let choice = if i == 0 {
            0
        } else {
            TEMPLATE_BY_ROLL[r.below(TEMPLATE_BY_ROLL.len() as u64) as usize]
        };
        match choice {
            0 => {
                level = Level::Info;
                location = "handler:21";
                let method = *r.pick(&METHODS);
                let path = *r.pick(&PATHS);
                text.push_str("Received ");
                text.push_str(method);
                text.push(' ');
                text.push_str(path);
                e.lit(lit!(",\"http_method\":\""));
                e.text(method);
                e.lit(lit!("\",\"path\":\""));
                e.text(path);
                e.lit(lit!("\",\"user_id\":\"user-"));
                e.u64(user);
                e.lit(lit!("\""));
            }
            1 | 2 => {
                level = Level::Info;
                location = "process_order:88";
                text.push_str("Processing order ord-");
                push_u64(&mut text, order);
                e.lit(lit!(",\"order_id\":\"ord-"));
                e.u64(order);
                e.lit(lit!("\",\"user_id\":\"user-"));
                e.u64(user);
                e.lit(lit!("\",\"items\":"));
                e.u64(r.range(1, 12));
            }
            3 => {
                level = if logs_debug {
                    Level::Debug
                } else {
                    Level::Info
                };
                location = "get_user:40";
                let hit = r.chance(0.8);
                text.push_str("Cache lookup for user:");
                push_u64(&mut text, user);
                text.push_str(if hit { " hit" } else { " miss" });
                e.lit(lit!(",\"cache_hit\":"));
                e.plain(if hit { "true" } else { "false" });
                e.lit(lit!(",\"user_id\":\"user-"));
                e.u64(user);
                e.lit(lit!("\""));
            }
            4 => {
                level = Level::Info;
                location = "charge:112";
                let provider = *r.pick(&PROVIDERS);
                let currency = *r.pick(&CURRENCIES);
                text.push_str("Payment authorized by ");
                text.push_str(provider);
                e.lit(lit!(",\"order_id\":\"ord-"));
                e.u64(order);
                e.lit(lit!("\",\"amount\":"));
                e.fixed2(r.range(100, 50_000));
                e.lit(lit!(",\"currency\":\""));
                e.text(currency);
                e.lit(lit!("\",\"provider\":\""));
                e.text(provider);
                e.lit(lit!("\",\"duration_ms\":"));
                e.u64(r.range(40, 900));
            }
            5 => {
                level = Level::Warn;
                location = "request:77";
                let host = *r.pick(&DOWNSTREAMS);
                text.push_str("Slow response from ");
                text.push_str(host);
                e.lit(lit!(",\"downstream\":\""));
                e.text(host);
                e.lit(lit!("\",\"duration_ms\":"));
                e.u64(r.range(1_000, 9_000));
            }
            6 => {
                level = Level::Warn;
                location = "request:92";
                let attempt = r.range(1, 3);
                text.push_str("Retrying request (attempt ");
                push_u64(&mut text, attempt);
                text.push_str(" of 3)");
                e.lit(lit!(",\"attempt\":"));
                e.u64(attempt);
                e.lit(lit!(",\"status_code\":"));
                e.plain(if r.chance(0.5) { "503" } else { "429" });
            }
            7 | 8 => {
                level = Level::Info;
                location = "handler:58";
                let status = if r.chance(0.9) {
                    "200"
                } else {
                    *r.pick(&["201", "204", "400", "404", "409"])
                };
                text.push_str("Request completed");
                e.lit(lit!(",\"status_code\":"));
                e.plain(status);
                e.lit(lit!(",\"duration_ms\":"));
                e.u64(r.range(3, 800));
                e.lit(lit!(",\"user_id\":\"user-"));
                e.u64(user);
                e.lit(lit!("\""));
            }
            9 => {
                level = Level::Info;
                location = "publish:31";
                let et = *r.pick(&EVENT_TYPES);
                text.push_str("Published ");
                text.push_str(et);
                text.push_str(" to EventBridge");
                e.lit(lit!(",\"event_type\":\""));
                e.text(et);
                e.lit(lit!("\",\"order_id\":\"ord-"));
                e.u64(order);
                e.lit(lit!("\""));
            }
            10 => {
                level = Level::Info;
                location = "enqueue:19";
                let q = *r.pick(&QUEUES);
                text.push_str("Sent message to ");
                text.push_str(q);
                e.lit(lit!(",\"queue\":\""));
                e.text(q);
                e.lit(lit!("\""));
                if r.chance(entropy) {
                    e.lit(lit!(",\"message_id\":\""));
                    e.plain_with(|s| r.push_uuid(s));
                    e.lit(lit!("\""));
                }
            }
            11 => {
                level = if logs_debug {
                    Level::Debug
                } else {
                    Level::Info
                };
                location = "validate:15";
                text.push_str("Validated payload");
                e.lit(lit!(",\"fields\":"));
                e.u64(r.range(3, 24));
                e.lit(lit!(",\"bytes\":"));
                e.u64(r.range(80, 12_000));
            }
            12 => {
                level = Level::Info;
                location = "reserve:203";
                let sku = r.skewed(SKUS);
                text.push_str("Reserved inventory for SKU-");
                push_u64(&mut text, 10_000 + sku);
                e.lit(lit!(",\"sku\":\"SKU-"));
                e.u64(10_000 + sku);
                e.lit(lit!("\",\"quantity\":"));
                e.u64(r.range(1, 5));
            }
            13 => {
                level = Level::Info;
                location = "query:66";
                let table = *r.pick(&TABLES);
                let rows = r.range(0, 500);
                text.push_str("Query on ");
                text.push_str(table);
                text.push_str(" returned ");
                push_u64(&mut text, rows);
                text.push_str(" rows");
                e.lit(lit!(",\"table\":\""));
                e.text(table);
                e.lit(lit!("\",\"rows\":"));
                e.u64(rows);
                e.lit(lit!(",\"duration_ms\":"));
                e.fixed2(r.range(50, 20_000));
            }
            14 => {
                level = Level::Warn;
                location = "validate:29";
                let field = *r.pick(&FIELDS);
                text.push_str("Validation failed: field '");
                text.push_str(field);
                text.push_str("' is invalid");
                e.lit(lit!(",\"field\":\""));
                e.text(field);
                e.lit(lit!("\",\"status_code\":400"));
            }
            _ => {
                level = Level::Info;
                location = "load_customer:52";
                let tier = *r.pick(&TIERS);
                text.push_str("Customer tier is ");
                text.push_str(tier);
                e.lit(lit!(",\"customer_tier\":\""));
                e.text(tier);
                e.lit(lit!("\",\"user_id\":\"user-"));
                e.u64(user);
                e.lit(lit!("\",\"new_customer\":"));
                e.plain(if r.chance(0.1) { "true" } else { "false" });
            }
        }
        // Entropy knob: per-record values no other line repeats, the part of real logs that
        // does not compress (session ids, client addresses, payload digests).
        if r.chance(entropy) {
            e.lit(lit!(",\"session_id\":\""));
            e.plain_with(|s| r.push_uuid(s));
            e.lit(lit!("\""));
        }
        if r.chance(entropy) {
            e.lit(lit!(",\"client_ip\":\""));
            let ip = r.next_u64();
            for (k, shift) in [24u32, 16, 8, 0].into_iter().enumerate() {
                if k > 0 {
                    e.lit(lit!("."));
                }
                e.u64((ip >> shift) & 255);
            }
            e.lit(lit!("\""));
        }
        if r.chance(entropy) {
            e.lit(lit!(",\"payload_sha256\":\""));
            e.plain_with(|s| r.push_hex(s, 64));
            e.lit(lit!("\""));
        }
        if r.chance(entropy * entropy) {
            e.lit(lit!(",\"idempotency_key\":\""));
            e.plain_with(|s| r.push_uuid(s));
            e.lit(lit!("\""));
        }
        if r.chance(RARE_TERM_RATE) {
            self.rare_hits += 1;
            text.push_str(" (falling back to legacy ");
            text.push_str(RARE_TERM);
            text.push_str(" path)");
        }
        self.record(slot, ts, level, location, &text);
        self.text = text;
    }

    /// Renders one application record in the function's logging format; the extra keys are
    /// in `self.extra` as a JSON fragment starting with a comma.
    fn record(&mut self, slot: usize, ts: i64, level: Level, location: &str, text: &str) {
        self.levels[level.index()] += 1;
        let inv = &self.slots[slot];
        let f = &self.funcs[inv.func];
        let cold = if inv.cold { "true" } else { "false" };
        let m = &mut self.msg;
        match f.kind {
            Kind::PythonText => {
                m.lit(lit!("["));
                m.plain(level.name(f.kind));
                m.lit(lit!("]\t"));
                m.plain_with(|s| push_iso_millis(s, ts));
                m.lit(lit!("\t"));
                m.plain(&inv.request_id);
                m.lit(lit!("\t"));
                m.text(text);
                if level == Level::Error {
                    m.lit(lit!("\nTraceback (most recent call last):\n  File \"/var/task/lambda_function.py\", line 44, in lambda_handler\n    charge(order)\n  File \"/var/task/payments.py\", line 19, in charge\n    raise PaymentDeclined(reason)\npayments.PaymentDeclined: card declined"));
                }
                m.lit(lit!("\n"));
            }
            Kind::NodePowertools => {
                m.lit(lit!("{\"level\":\""));
                m.plain(level.name(f.kind));
                m.lit(lit!("\",\"message\":"));
                m.json_str(text);
                m.lit(lit!(",\"timestamp\":\""));
                m.plain_with(|s| push_iso_millis(s, ts));
                m.lit(lit!("\",\"service\":\""));
                m.text(f.service);
                m.lit(lit!("\",\"cold_start\":"));
                m.plain(cold);
                m.lit(lit!(",\"function_arn\":\""));
                m.text(&f.arn);
                m.lit(lit!("\",\"function_memory_size\":\""));
                m.u64(u64::from(f.memory_mb));
                m.lit(lit!("\",\"function_name\":\""));
                m.text(&f.name);
                m.lit(lit!("\",\"function_request_id\":\""));
                m.plain(&inv.request_id);
                m.lit(lit!("\",\"sampling_rate\":0,\"xray_trace_id\":\""));
                m.plain(&inv.trace_id);
                m.lit(lit!("\""));
                if !inv.correlation_id.is_empty() {
                    m.lit(lit!(",\"correlation_id\":\""));
                    m.plain(&inv.correlation_id);
                    m.lit(lit!("\""));
                }
                m.append(&self.extra);
                m.lit(lit!("}"));
            }
            Kind::PythonPowertools | Kind::Rust => {
                m.lit(lit!("{\"level\":\""));
                m.plain(level.name(f.kind));
                m.lit(lit!("\",\"location\":\""));
                m.text(location);
                m.lit(lit!("\",\"message\":"));
                m.json_str(text);
                m.lit(lit!(",\"timestamp\":\""));
                if f.kind == Kind::Rust {
                    m.plain_with(|s| push_iso_millis(s, ts));
                } else {
                    m.plain_with(|s| push_python_millis(s, ts));
                }
                m.lit(lit!("\",\"service\":\""));
                m.text(f.service);
                m.lit(lit!("\",\"cold_start\":"));
                m.plain(cold);
                m.lit(lit!(",\"function_name\":\""));
                m.text(&f.name);
                m.lit(lit!("\",\"function_memory_size\":\""));
                m.u64(u64::from(f.memory_mb));
                m.lit(lit!("\",\"function_arn\":\""));
                m.text(&f.arn);
                m.lit(lit!("\",\"function_request_id\":\""));
                m.plain(&inv.request_id);
                m.lit(lit!("\""));
                if !inv.correlation_id.is_empty() {
                    m.lit(lit!(",\"correlation_id\":\""));
                    m.plain(&inv.correlation_id);
                    m.lit(lit!("\""));
                }
                m.append(&self.extra);
                m.lit(lit!(",\"xray_trace_id\":\""));
                m.plain(&inv.trace_id);
                m.lit(lit!("\"}"));
            }
        }
    }
}

pub(super) fn push_u64(out: &mut String, v: u64) {
    let mut b = itoa::Buffer::new();
    out.push_str(b.format(v));
}

/// `v / 100` with exactly two decimals (durations and amounts).
pub(super) fn push_fixed2(out: &mut String, v: u64) {
    push_u64(out, v / 100);
    out.push('.');
    let c = v % 100;
    out.push((b'0' + (c / 10) as u8) as char);
    out.push((b'0' + (c % 10) as u8) as char);
}

pub(super) fn push_hex_u32(out: &mut String, v: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..8).rev() {
        out.push(HEX[((v >> (shift * 4)) & 15) as usize] as char);
    }
}
