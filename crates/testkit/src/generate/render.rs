//! Rendering one line of an invocation in its function's logging format: platform lines,
//! application records (Powertools Python / TypeScript shapes, Lambda text format), errors,
//! panics and timeouts.

use super::{Failure, Generator, Kind, Level, RARE_TERM_RATE, TEMPLATE_BY_ROLL};
use crate::clock::{push_iso_millis, push_python_millis};
use crate::jsonl::push_json_str;
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
        m.push_str("REPORT RequestId: ");
        m.push_str(&inv.request_id);
        m.push_str("\tDuration: ");
        push_fixed2(m, dur);
        m.push_str(" ms\tBilled Duration: ");
        push_u64(m, dur.div_ceil(100));
        m.push_str(" ms\tMemory Size: ");
        push_u64(m, u64::from(f.memory_mb));
        m.push_str(" MB\tMax Memory Used: ");
        let used = (u64::from(f.memory_mb) / 4 + 30 + self.rng.below(u64::from(f.memory_mb) / 3))
            .min(u64::from(f.memory_mb));
        push_u64(m, used);
        m.push_str(" MB\t");
        if inv.cold {
            m.push_str("Init Duration: ");
            push_fixed2(m, inv.init_ms_x100);
            m.push_str(" ms\t");
        }
        if timeout {
            m.push_str("Status: timeout\t");
        }
        if f.traced {
            m.push_str("\nXRAY TraceId: ");
            m.push_str(&inv.trace_id);
            m.push_str("\tSegmentId: ");
            self.rng.push_hex(m, 16);
            m.push_str("\tSampled: true\t");
        }
        m.push('\n');
    }

    pub(super) fn render_failure(&mut self, slot: usize, ts: i64) {
        let failure = self.slots[slot].failure.unwrap_or(Failure::None);
        let kind = self.funcs[self.slots[slot].func].kind;
        match failure {
            Failure::Timeout => {
                self.platform_lines += 1;
                push_iso_millis(&mut self.msg, ts);
                self.msg.push(' ');
                self.msg.push_str(&self.slots[slot].request_id);
                self.msg.push_str(" Task timed out after 3.00 seconds\n");
            }
            Failure::Panic => {
                let (text, at) = *self.rng.pick(&RUST_PANICS);
                self.levels[Level::Error.index()] += 1;
                self.msg.push_str("thread 'main' panicked at ");
                self.msg.push_str(at);
                self.msg.push_str(":\n");
                self.msg.push_str(text);
                self.msg.push_str(
                    "\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
                );
            }
            Failure::Error if kind == Kind::PythonText => {
                // The Python runtime's unhandled-exception line: frames joined with \r so
                // that the whole traceback stays one event.
                self.levels[Level::Error.index()] += 1;
                let (name, _module, text, file, func, stmt) = *self.rng.pick(&PY_EXCEPTIONS);
                let m = &mut self.msg;
                m.push_str("[ERROR] ");
                m.push_str(name);
                m.push_str(": ");
                m.push_str(text);
                m.push_str("\rTraceback (most recent call last):\r  File \"/var/task/lambda_function.py\", line 31, in lambda_handler\r    return handle(event)\r  File \"");
                m.push_str(file);
                m.push_str("\", line 57, in ");
                m.push_str(func);
                m.push_str("\r    ");
                m.push_str(stmt);
                m.push('\n');
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
                e.push_str(",\"error\":{\"name\":");
                push_json_str(e, name);
                e.push_str(",\"location\":\"file:///var/task/index.mjs:");
                push_u64(e, line);
                e.push_str("\",\"message\":");
                push_json_str(e, text);
                e.push_str(",\"stack\":");
                push_json_str(e, &stack);
                e.push('}');
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
                e.push_str(",\"exception\":");
                push_json_str(e, &tb);
                e.push_str(",\"exception_name\":");
                push_json_str(e, name);
                e.push_str(",\"stack_trace\":{\"type\":");
                push_json_str(e, name);
                e.push_str(",\"value\":");
                push_json_str(e, text);
                e.push_str(",\"module\":");
                push_json_str(e, module);
                e.push_str(",\"frames\":[{\"file\":\"/var/task/app/handler.py\",\"line\":64,\"function\":\"handler\",\"statement\":\"result = process(event)\"},{\"file\":");
                push_json_str(e, file);
                e.push_str(",\"line\":");
                push_u64(e, line);
                e.push_str(",\"function\":");
                push_json_str(e, func);
                e.push_str(",\"statement\":");
                push_json_str(e, stmt);
                e.push_str("}]}");
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
                e.push_str(",\"http_method\":\"");
                e.push_str(method);
                e.push_str("\",\"path\":\"");
                e.push_str(path);
                e.push_str("\",\"user_id\":\"user-");
                push_u64(e, user);
                e.push('"');
            }
            1 | 2 => {
                level = Level::Info;
                location = "process_order:88";
                text.push_str("Processing order ord-");
                push_u64(&mut text, order);
                e.push_str(",\"order_id\":\"ord-");
                push_u64(e, order);
                e.push_str("\",\"user_id\":\"user-");
                push_u64(e, user);
                e.push_str("\",\"items\":");
                push_u64(e, r.range(1, 12));
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
                e.push_str(",\"cache_hit\":");
                e.push_str(if hit { "true" } else { "false" });
                e.push_str(",\"user_id\":\"user-");
                push_u64(e, user);
                e.push('"');
            }
            4 => {
                level = Level::Info;
                location = "charge:112";
                let provider = *r.pick(&PROVIDERS);
                let currency = *r.pick(&CURRENCIES);
                text.push_str("Payment authorized by ");
                text.push_str(provider);
                e.push_str(",\"order_id\":\"ord-");
                push_u64(e, order);
                e.push_str("\",\"amount\":");
                push_fixed2(e, r.range(100, 50_000));
                e.push_str(",\"currency\":\"");
                e.push_str(currency);
                e.push_str("\",\"provider\":\"");
                e.push_str(provider);
                e.push_str("\",\"duration_ms\":");
                push_u64(e, r.range(40, 900));
            }
            5 => {
                level = Level::Warn;
                location = "request:77";
                let host = *r.pick(&DOWNSTREAMS);
                text.push_str("Slow response from ");
                text.push_str(host);
                e.push_str(",\"downstream\":\"");
                e.push_str(host);
                e.push_str("\",\"duration_ms\":");
                push_u64(e, r.range(1_000, 9_000));
            }
            6 => {
                level = Level::Warn;
                location = "request:92";
                let attempt = r.range(1, 3);
                text.push_str("Retrying request (attempt ");
                push_u64(&mut text, attempt);
                text.push_str(" of 3)");
                e.push_str(",\"attempt\":");
                push_u64(e, attempt);
                e.push_str(",\"status_code\":");
                e.push_str(if r.chance(0.5) { "503" } else { "429" });
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
                e.push_str(",\"status_code\":");
                e.push_str(status);
                e.push_str(",\"duration_ms\":");
                push_u64(e, r.range(3, 800));
                e.push_str(",\"user_id\":\"user-");
                push_u64(e, user);
                e.push('"');
            }
            9 => {
                level = Level::Info;
                location = "publish:31";
                let et = *r.pick(&EVENT_TYPES);
                text.push_str("Published ");
                text.push_str(et);
                text.push_str(" to EventBridge");
                e.push_str(",\"event_type\":\"");
                e.push_str(et);
                e.push_str("\",\"order_id\":\"ord-");
                push_u64(e, order);
                e.push('"');
            }
            10 => {
                level = Level::Info;
                location = "enqueue:19";
                let q = *r.pick(&QUEUES);
                text.push_str("Sent message to ");
                text.push_str(q);
                e.push_str(",\"queue\":\"");
                e.push_str(q);
                e.push('"');
                if r.chance(entropy) {
                    e.push_str(",\"message_id\":\"");
                    r.push_uuid(e);
                    e.push('"');
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
                e.push_str(",\"fields\":");
                push_u64(e, r.range(3, 24));
                e.push_str(",\"bytes\":");
                push_u64(e, r.range(80, 12_000));
            }
            12 => {
                level = Level::Info;
                location = "reserve:203";
                let sku = r.skewed(SKUS);
                text.push_str("Reserved inventory for SKU-");
                push_u64(&mut text, 10_000 + sku);
                e.push_str(",\"sku\":\"SKU-");
                push_u64(e, 10_000 + sku);
                e.push_str("\",\"quantity\":");
                push_u64(e, r.range(1, 5));
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
                e.push_str(",\"table\":\"");
                e.push_str(table);
                e.push_str("\",\"rows\":");
                push_u64(e, rows);
                e.push_str(",\"duration_ms\":");
                push_fixed2(e, r.range(50, 20_000));
            }
            14 => {
                level = Level::Warn;
                location = "validate:29";
                let field = *r.pick(&FIELDS);
                text.push_str("Validation failed: field '");
                text.push_str(field);
                text.push_str("' is invalid");
                e.push_str(",\"field\":\"");
                e.push_str(field);
                e.push_str("\",\"status_code\":400");
            }
            _ => {
                level = Level::Info;
                location = "load_customer:52";
                let tier = *r.pick(&TIERS);
                text.push_str("Customer tier is ");
                text.push_str(tier);
                e.push_str(",\"customer_tier\":\"");
                e.push_str(tier);
                e.push_str("\",\"user_id\":\"user-");
                push_u64(e, user);
                e.push_str("\",\"new_customer\":");
                e.push_str(if r.chance(0.1) { "true" } else { "false" });
            }
        }
        // Entropy knob: per-record values no other line repeats, the part of real logs that
        // does not compress (session ids, client addresses, payload digests).
        if r.chance(entropy) {
            e.push_str(",\"session_id\":\"");
            r.push_uuid(e);
            e.push('"');
        }
        if r.chance(entropy) {
            e.push_str(",\"client_ip\":\"");
            let ip = r.next_u64();
            for (k, shift) in [24u32, 16, 8, 0].into_iter().enumerate() {
                if k > 0 {
                    e.push('.');
                }
                push_u64(e, (ip >> shift) & 255);
            }
            e.push('"');
        }
        if r.chance(entropy) {
            e.push_str(",\"payload_sha256\":\"");
            r.push_hex(e, 64);
            e.push('"');
        }
        if r.chance(entropy * entropy) {
            e.push_str(",\"idempotency_key\":\"");
            r.push_uuid(e);
            e.push('"');
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
                m.push('[');
                m.push_str(level.name(f.kind));
                m.push_str("]\t");
                push_iso_millis(m, ts);
                m.push('\t');
                m.push_str(&inv.request_id);
                m.push('\t');
                m.push_str(text);
                if level == Level::Error {
                    m.push_str("\nTraceback (most recent call last):\n  File \"/var/task/lambda_function.py\", line 44, in lambda_handler\n    charge(order)\n  File \"/var/task/payments.py\", line 19, in charge\n    raise PaymentDeclined(reason)\npayments.PaymentDeclined: card declined");
                }
                m.push('\n');
            }
            Kind::NodePowertools => {
                m.push_str("{\"level\":\"");
                m.push_str(level.name(f.kind));
                m.push_str("\",\"message\":");
                push_json_str(m, text);
                m.push_str(",\"timestamp\":\"");
                push_iso_millis(m, ts);
                m.push_str("\",\"service\":\"");
                m.push_str(f.service);
                m.push_str("\",\"cold_start\":");
                m.push_str(cold);
                m.push_str(",\"function_arn\":\"");
                m.push_str(&f.arn);
                m.push_str("\",\"function_memory_size\":\"");
                push_u64(m, u64::from(f.memory_mb));
                m.push_str("\",\"function_name\":\"");
                m.push_str(&f.name);
                m.push_str("\",\"function_request_id\":\"");
                m.push_str(&inv.request_id);
                m.push_str("\",\"sampling_rate\":0,\"xray_trace_id\":\"");
                m.push_str(&inv.trace_id);
                m.push('"');
                if !inv.correlation_id.is_empty() {
                    m.push_str(",\"correlation_id\":\"");
                    m.push_str(&inv.correlation_id);
                    m.push('"');
                }
                m.push_str(&self.extra);
                m.push('}');
            }
            Kind::PythonPowertools | Kind::Rust => {
                m.push_str("{\"level\":\"");
                m.push_str(level.name(f.kind));
                m.push_str("\",\"location\":\"");
                m.push_str(location);
                m.push_str("\",\"message\":");
                push_json_str(m, text);
                m.push_str(",\"timestamp\":\"");
                if f.kind == Kind::Rust {
                    push_iso_millis(m, ts);
                } else {
                    push_python_millis(m, ts);
                }
                m.push_str("\",\"service\":\"");
                m.push_str(f.service);
                m.push_str("\",\"cold_start\":");
                m.push_str(cold);
                m.push_str(",\"function_name\":\"");
                m.push_str(&f.name);
                m.push_str("\",\"function_memory_size\":\"");
                push_u64(m, u64::from(f.memory_mb));
                m.push_str("\",\"function_arn\":\"");
                m.push_str(&f.arn);
                m.push_str("\",\"function_request_id\":\"");
                m.push_str(&inv.request_id);
                m.push('"');
                if !inv.correlation_id.is_empty() {
                    m.push_str(",\"correlation_id\":\"");
                    m.push_str(&inv.correlation_id);
                    m.push('"');
                }
                m.push_str(&self.extra);
                m.push_str(",\"xray_trace_id\":\"");
                m.push_str(&inv.trace_id);
                m.push_str("\"}");
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
